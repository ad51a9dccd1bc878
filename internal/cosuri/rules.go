package cosuri

import (
	"net"
	"strings"
	"unicode/utf8"
)

// Limits of the parts (see the package doc for where they come from).
const (
	MaxRegionLen = 32   // no COS location comes close; bounds error text
	MinBucketLen = 3    // COS and S3 bucket naming rules
	MaxBucketLen = 63   // a DNS label
	MaxObjectLen = 1024 // bytes of UTF-8, S3's key limit
)

// ValidateRegion checks a COS location name: lowercase words of letters
// and digits joined by single hyphens, the first starting with a letter
// ("us-south", "us", "ams03"). Errors are *Error of kind ErrRegion.
func ValidateRegion(r string) error {
	if r == "" {
		return refuse(ErrRegion, "empty region")
	}
	if len(r) > MaxRegionLen {
		return refuse(ErrRegion, "region longer than %d characters", MaxRegionLen)
	}
	if !(r[0] >= 'a' && r[0] <= 'z') {
		return refuse(ErrRegion, "region %q must start with a lowercase letter (like us-south, us or ams03)", r)
	}
	for _, w := range strings.Split(r, "-") {
		if w == "" {
			return refuse(ErrRegion, "region %q has an empty word between hyphens", r)
		}
		for i := 0; i < len(w); i++ {
			if c := w[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
				return refuse(ErrRegion, "region %q: only lowercase letters, digits and hyphens (like us-south, us or ams03)", r)
			}
		}
	}
	return nil
}

// ValidateBucket checks COS's bucket naming rules: 3 to 63 characters,
// lowercase letters, digits, dots and hyphens, starting and ending with a
// letter or digit, no dot next to a dot or hyphen, not shaped like an IP
// address. Errors are *Error of kind ErrBucket.
func ValidateBucket(b string) error {
	if len(b) < MinBucketLen || len(b) > MaxBucketLen {
		return refuse(ErrBucket, "bucket name %q must be %d to %d characters long", short(b), MinBucketLen, MaxBucketLen)
	}
	for i := 0; i < len(b); i++ {
		switch c := b[i]; {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case c == '-' || c == '.':
			if i == 0 || i == len(b)-1 {
				return refuse(ErrBucket, "bucket name %q must start and end with a letter or digit", b)
			}
			if c == '.' && (b[i-1] == '.' || b[i-1] == '-' || b[i+1] == '-') {
				return refuse(ErrBucket, "bucket name %q has a dot next to a dot or hyphen", b)
			}
		default:
			return refuse(ErrBucket, "bucket name %q: only lowercase letters, digits, dots and hyphens", b)
		}
	}
	if net.ParseIP(b) != nil {
		return refuse(ErrBucket, "bucket name %q must not be an IP address", b)
	}
	return nil
}

// ValidateObject checks the key of an image object: 1 to 1024 bytes of
// UTF-8 without control characters, not ending in "/" (a "folder").
// Errors are *Error of kind ErrObject.
func ValidateObject(k string) error {
	switch {
	case k == "":
		return refuse(ErrObject, "empty object key")
	case len(k) > MaxObjectLen:
		return refuse(ErrObject, "object key longer than %d bytes", MaxObjectLen)
	case !utf8.ValidString(k):
		return refuse(ErrObject, "object key is not valid UTF-8")
	case strings.HasSuffix(k, "/"):
		return refuse(ErrObject, "object key %q ends in \"/\": it names a folder, not an image file", short(k))
	}
	for _, r := range k {
		if r < 0x20 || r == 0x7f {
			return refuse(ErrObject, "object key contains a control character")
		}
	}
	return nil
}

// short bounds a name repeated in an error.
func short(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}
