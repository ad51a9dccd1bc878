package image

import (
	"fmt"
	"io"

	"github.com/e2eimage/e2e/internal/slsession"
)

// String describes the configuration without its credentials, so %v, %+v
// and %#v never print a key.
func (c Config) String() string {
	return fmt.Sprintf("image.Config{Endpoint:%q APIKey:%q Username:%q ClassicAPIKey:%q Token:%t Timeout:%v Retries:%d RetryWait:%v}",
		c.Endpoint, slsession.Redact(c.APIKey), c.Username, slsession.Redact(c.ClassicAPIKey), c.Token != nil, c.Timeout, c.Retries, c.RetryWait)
}

// GoString is String, for %#v.
func (c Config) GoString() string { return c.String() }

// Format prints String for every verb, so %d or %x cannot reach the
// secret fields either.
func (c Config) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, c.String()) }

// String describes the request without its credentials. ImportRequest has
// no Format method (its Format field takes the name), so verbs that skip
// String, such as %d, print the fields: use %v, %+v, %#v or %s.
func (r ImportRequest) String() string {
	return fmt.Sprintf("image.ImportRequest{Name:%q OSReferenceCode:%q URI:%q IBMAPIKey:%q HMACAccessKeyID:%q HMACSecretAccessKey:%q RootKeyCRN:%q Format:%q CloudInit:%t BYOL:%t BootMode:%q Size:%d}",
		r.Name, r.OSReferenceCode, r.URI, slsession.Redact(r.IBMAPIKey), r.HMACAccessKeyID, slsession.Redact(r.HMACSecretAccessKey),
		r.RootKeyCRN, r.Format, r.CloudInit, r.BYOL, r.BootMode, r.Size)
}

// GoString is String, for %#v.
func (r ImportRequest) GoString() string { return r.String() }

// String describes the request without its credentials.
func (r ExportRequest) String() string {
	return fmt.Sprintf("image.ExportRequest{URI:%q IBMAPIKey:%q}", r.URI, slsession.Redact(r.IBMAPIKey))
}

// GoString is String, for %#v.
func (r ExportRequest) GoString() string { return r.String() }

// Format prints String for every verb, so %d or %x cannot reach the
// secret fields either.
func (r ExportRequest) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, r.String()) }
