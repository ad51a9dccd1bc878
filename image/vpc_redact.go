package image

import (
	"fmt"
	"io"
)

// String describes the config by the authenticator's type only: an
// authenticator holds an API key or a bearer token, and one stored by
// value would otherwise print it (as provision.VPCConfig already avoids).
func (c VPCConfig) String() string {
	return fmt.Sprintf("image.VPCConfig{Endpoint:%q Region:%q Authenticator:%T Retries:%d RetryWait:%v}",
		c.Endpoint, c.Region, c.Authenticator, c.Retries, c.RetryWait)
}

// GoString is String, for %#v.
func (c VPCConfig) GoString() string { return c.String() }

// Format prints String for every verb.
func (c VPCConfig) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, c.String()) }
