package cosuri

import "strings"

// Scheme starts every URI this package reads.
const Scheme = "cos://"

// URI names an image object in Cloud Object Storage:
// cos://<region>/<bucket>/<object>.
type URI struct {
	Region string // a COS location, e.g. "us-south", "us" or "ams03"
	Bucket string
	Object string // the object key, literally; may contain slashes
}

// Parse splits s at its first two slashes after cos:// and validates the
// parts. Errors are *Error.
func Parse(s string) (URI, error) {
	rest, ok := strings.CutPrefix(s, Scheme)
	if !ok {
		return URI{}, refuse(ErrSyntax, "want the form cos://<region>/<bucket>/<object>").in(s)
	}
	region, rest, ok1 := strings.Cut(rest, "/")
	bucket, object, ok2 := strings.Cut(rest, "/")
	if !ok1 || !ok2 {
		return URI{}, refuse(ErrSyntax, "want the form cos://<region>/<bucket>/<object>").in(s)
	}
	u := URI{Region: region, Bucket: bucket, Object: object}
	if err := u.Validate(); err != nil {
		return URI{}, err
	}
	return u, nil
}

// String returns cos://region/bucket/object. For a valid URI, Parse reads
// it back unchanged.
func (u URI) String() string {
	return Scheme + u.Region + "/" + u.Bucket + "/" + u.Object
}

// Validate checks the region, the bucket name and the object key, in
// that order, and reports the first part that is wrong. Errors are *Error.
func (u URI) Validate() error {
	if err := ValidateRegion(u.Region); err != nil {
		return err.(*Error).in(u.String())
	}
	if err := ValidateBucket(u.Bucket); err != nil {
		return err.(*Error).in(u.String())
	}
	if err := ValidateObject(u.Object); err != nil {
		return err.(*Error).in(u.String())
	}
	return nil
}
