package storage

import (
	"fmt"

	"github.com/e2eimage/e2e/internal/cosuri"
)

// URI names an image object in Cloud Object Storage the way IBM's image
// imports expect it: cos://<region>/<bucket>/<object>. Region is a COS
// location: regional ("us-south"), cross-region ("us") or single-site
// ("ams03"). The object part is taken literally (no percent-decoding), may
// contain slashes, and must not end in "/" (that names a folder). These
// are exactly the rules of image.ParseCOSURI: both wrap one parser, so a
// URI the upload accepts is never refused by the import.
type URI cosuri.URI

// ParseURI parses and validates a cos:// URI. Errors wrap ErrInvalidURI.
func ParseURI(s string) (URI, error) {
	u, err := cosuri.Parse(s)
	if err != nil {
		return URI{}, uriError(err)
	}
	return URI(u), nil
}

// String returns the URI as cos://region/bucket/object.
func (u URI) String() string { return cosuri.URI(u).String() }

// Validate checks the region, bucket name and object key. Errors wrap ErrInvalidURI.
func (u URI) Validate() error {
	if err := cosuri.URI(u).Validate(); err != nil {
		return uriError(err)
	}
	return nil
}

// uriError reads "storage: invalid cos:// URI "<uri>": <reason>".
func uriError(err error) error { return fmt.Errorf("%w %w", ErrInvalidURI, err) }

// ValidateBucketName checks COS's bucket naming rules: 3 to 63 characters,
// lowercase letters, digits, dots and hyphens, starting and ending with a
// letter or digit, no dot next to a dot or hyphen, not shaped like an IP
// address. Errors match ErrInvalidBucketName and say what is wrong.
func ValidateBucketName(b string) error {
	if err := cosuri.ValidateBucket(b); err != nil {
		return bucketNameError{err}
	}
	return nil
}

// bucketNameError is the parser's reason, matching ErrInvalidBucketName.
type bucketNameError struct{ err error }

func (e bucketNameError) Error() string   { return e.err.Error() }
func (e bucketNameError) Unwrap() []error { return []error{ErrInvalidBucketName, e.err} }
