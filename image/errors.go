package image

import (
	"errors"
	"fmt"

	"github.com/e2eimage/e2e/internal/slsession"
)

// Errors of this package; test for them with errors.Is.
var (
	// ErrInvalidRequest means a request failed validation before any API
	// call; the error is a *ValidationError.
	ErrInvalidRequest = errors.New("image: invalid request")
	// ErrImportFailed means the import ended in an error status; the error
	// is an *ImportError.
	ErrImportFailed = errors.New("image: import failed")
	// ErrUnexpectedResponse means the API answered success with a body
	// that is not what the call returns.
	ErrUnexpectedResponse = errors.New("image: unexpected response")
)

// Errors of the SoftLayer API, shared with the provision package.
var (
	ErrNotFound     = slsession.ErrNotFound
	ErrUnauthorized = slsession.ErrUnauthorized
	ErrRateLimited  = slsession.ErrRateLimited
	ErrTransport    = slsession.ErrTransport
	ErrConfig       = slsession.ErrConfig
)

// APIError is a failed SoftLayer API call: service, method, HTTP status,
// SoftLayer exception and message. It unwraps to ErrNotFound,
// ErrUnauthorized, ErrRateLimited or ErrTransport when one applies.
type APIError = slsession.APIError

// ValidationError names the request field that is wrong and why.
type ValidationError struct {
	Field  string
	Reason string
}

func (e *ValidationError) Error() string {
	return fmt.Sprintf("image: invalid request: %s: %s", e.Field, e.Reason)
}

// Unwrap returns ErrInvalidRequest.
func (e *ValidationError) Unwrap() error { return ErrInvalidRequest }

func invalid(field, format string, args ...any) error {
	return &ValidationError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// ImportError is an import that ended in an error status.
type ImportError struct {
	TemplateID int
	Status     string // the template status key name, e.g. "ERROR"
	Message    string // IBM's explanation
}

func (e *ImportError) Error() string {
	return fmt.Sprintf("image: import of template %d failed (%s): %s", e.TemplateID, e.Status, e.Message)
}

// Unwrap returns ErrImportFailed.
func (e *ImportError) Unwrap() error { return ErrImportFailed }
