package storage

import (
	"fmt"
	"net"
	"strings"
	"unicode/utf8"
)

// URI names an object in Cloud Object Storage the way IBM's image import
// expects it: cos://<region>/<bucket>/<object>. The object part is taken
// literally (no percent-decoding) and may contain slashes.
type URI struct {
	Region string // e.g. "us-south"
	Bucket string
	Object string
}

const uriScheme = "cos://"

// ParseURI parses and validates a cos:// URI. Errors wrap ErrInvalidURI.
func ParseURI(s string) (URI, error) {
	rest, ok := strings.CutPrefix(s, uriScheme)
	if !ok {
		return URI{}, uriError(s, "want the form cos://<region>/<bucket>/<object>")
	}
	region, rest, ok1 := strings.Cut(rest, "/")
	bucket, object, ok2 := strings.Cut(rest, "/")
	if !ok1 || !ok2 {
		return URI{}, uriError(s, "want the form cos://<region>/<bucket>/<object>")
	}
	u := URI{Region: region, Bucket: bucket, Object: object}
	if err := u.Validate(); err != nil {
		return URI{}, err
	}
	return u, nil
}

// String returns the URI as cos://region/bucket/object.
func (u URI) String() string {
	return uriScheme + u.Region + "/" + u.Bucket + "/" + u.Object
}

// Validate checks the region, bucket name and object key. Errors wrap ErrInvalidURI.
func (u URI) Validate() error {
	if err := validRegion(u.Region); err != nil {
		return uriError(u.String(), err.Error())
	}
	if err := ValidateBucketName(u.Bucket); err != nil {
		return uriError(u.String(), err.Error())
	}
	if err := validKey(u.Object); err != nil {
		return uriError(u.String(), err.Error())
	}
	return nil
}

func uriError(s, why string) error {
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return fmt.Errorf("%w %q: %s", ErrInvalidURI, s, why)
}

// validRegion accepts IBM region names: lowercase words joined by hyphens
// ("us-south", "eu-de", "jp-tok", or a cross-region "us").
func validRegion(r string) error {
	if r == "" {
		return fmt.Errorf("empty region")
	}
	if len(r) > 32 {
		return fmt.Errorf("region longer than 32 characters")
	}
	for i, w := range strings.Split(r, "-") {
		if w == "" {
			return fmt.Errorf("region %q has an empty word", r)
		}
		for _, ch := range w {
			if !(ch >= 'a' && ch <= 'z' || i > 0 && ch >= '0' && ch <= '9') {
				return fmt.Errorf("region %q: only lowercase letters, digits and hyphens", r)
			}
		}
	}
	return nil
}

// ValidateBucketName checks COS's bucket naming rules: 3 to 63 characters,
// lowercase letters, digits, dots and hyphens, starting and ending with a
// letter or digit, no two adjacent dots, not shaped like an IP address.
func ValidateBucketName(b string) error {
	if len(b) < 3 || len(b) > 63 {
		return fmt.Errorf("bucket name %q must be 3 to 63 characters long", b)
	}
	for i := 0; i < len(b); i++ {
		ch := b[i]
		switch {
		case ch >= 'a' && ch <= 'z', ch >= '0' && ch <= '9':
		case ch == '-' || ch == '.':
			if i == 0 || i == len(b)-1 {
				return fmt.Errorf("bucket name %q must start and end with a letter or digit", b)
			}
			if ch == '.' && (b[i-1] == '.' || b[i-1] == '-' || b[i+1] == '-') {
				return fmt.Errorf("bucket name %q has a dot next to a dot or hyphen", b)
			}
		default:
			return fmt.Errorf("bucket name %q: only lowercase letters, digits, dots and hyphens", b)
		}
	}
	if net.ParseIP(b) != nil {
		return fmt.Errorf("bucket name %q must not be an IP address", b)
	}
	return nil
}

// validKey checks an object key: 1 to 1024 bytes of UTF-8 without control characters.
func validKey(k string) error {
	if k == "" {
		return fmt.Errorf("empty object key")
	}
	if len(k) > 1024 {
		return fmt.Errorf("object key longer than 1024 bytes")
	}
	if !utf8.ValidString(k) {
		return fmt.Errorf("object key is not valid UTF-8")
	}
	for _, r := range k {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("object key contains a control character")
		}
	}
	return nil
}
