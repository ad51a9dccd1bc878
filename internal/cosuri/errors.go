package cosuri

import (
	"errors"
	"fmt"
)

// The kinds of refusal; test for them with errors.Is.
var (
	// ErrSyntax is a string that is not cos://<region>/<bucket>/<object>.
	ErrSyntax = errors.New("cosuri: not a cos://<region>/<bucket>/<object> URI")
	// ErrRegion is a region that is not a COS location name.
	ErrRegion = errors.New("cosuri: invalid region")
	// ErrBucket is a name that breaks COS's bucket naming rules.
	ErrBucket = errors.New("cosuri: invalid bucket name")
	// ErrObject is an object key that cannot name an image object.
	ErrObject = errors.New("cosuri: invalid object key")
)

// maxQuoted bounds how much of a refused URI an error repeats.
const maxQuoted = 200

// Error is a refused URI, or a refused part checked alone. It unwraps to
// its Kind. Its text carries no package prefix: storage and image put
// their own in front of it.
type Error struct {
	// URI is the URI as given, shortened to 200 bytes; empty when a part
	// was checked alone (ValidateRegion, ValidateBucket, ValidateObject).
	URI string
	// Kind is ErrSyntax, ErrRegion, ErrBucket or ErrObject.
	Kind error
	// Reason says what is wrong, e.g. `bucket name "B" must be lowercase`.
	Reason string
}

func (e *Error) Error() string {
	if e.URI == "" {
		return e.Reason
	}
	return fmt.Sprintf("%q: %s", e.URI, e.Reason)
}

// Unwrap returns the Kind.
func (e *Error) Unwrap() error { return e.Kind }

func refuse(kind error, format string, args ...any) *Error {
	return &Error{Kind: kind, Reason: fmt.Sprintf(format, args...)}
}

// in names the URI a part belongs to in a part's error.
func (e *Error) in(uri string) *Error {
	if len(uri) > maxQuoted {
		uri = uri[:maxQuoted] + "…"
	}
	c := *e
	c.URI = uri
	return &c
}
