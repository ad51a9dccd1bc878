package provision

import (
	"errors"
	"fmt"
	"time"

	"github.com/e2eimage/e2e/internal/slsession"
)

// Errors of this package; test for them with errors.Is.
var (
	// ErrInvalidOrder means an order failed validation before any API call;
	// the error is a *ValidationError.
	ErrInvalidOrder = errors.New("provision: invalid order")
	// ErrHostnameTaken means a server with the order's hostname and domain
	// exists and carries another order's idempotency tag.
	ErrHostnameTaken = errors.New("provision: hostname taken by another order")
	// ErrOutcomeUnknown means placeOrder got no usable answer and the server
	// did not show up: it may or may not have been ordered. Rerunning Order
	// with the same order is safe: it looks for the server first.
	ErrOutcomeUnknown = errors.New("provision: order outcome unknown")
	// ErrUnexpectedResponse means the API answered success with a body that
	// is not what the call returns.
	ErrUnexpectedResponse = errors.New("provision: unexpected response")
)

// Errors of the SoftLayer API, shared with the image package.
var (
	ErrNotFound     = slsession.ErrNotFound
	ErrUnauthorized = slsession.ErrUnauthorized
	ErrRateLimited  = slsession.ErrRateLimited
	ErrTransport    = slsession.ErrTransport
	ErrConfig       = slsession.ErrConfig
)

// APIError is a failed SoftLayer API call; a refused order carries
// SoftLayer's exception (e.g. "SoftLayer_Exception_Order_InvalidLocation").
type APIError = slsession.APIError

// ValidationError names the order field that is wrong and why.
type ValidationError struct {
	Field  string
	Reason string
}

func (e *ValidationError) Error() string {
	return fmt.Sprintf("provision: invalid order: %s: %s", e.Field, e.Reason)
}

// Unwrap returns ErrInvalidOrder.
func (e *ValidationError) Unwrap() error { return ErrInvalidOrder }

func invalid(field, format string, args ...any) error {
	return &ValidationError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// WaitError is a Wait that ended before the server was ready: ctx ended,
// polls kept failing, or one failed for good. It names the state the
// server was last seen in, so that a wait stuck in one state says which.
// Unwrap returns the cause (ctx.Err(), an *APIError, …).
type WaitError struct {
	ServerID int
	// Last is the server as the last successful poll saw it, nil when no
	// poll succeeded.
	Last    *Server
	Elapsed time.Duration
	Err     error
}

func (e *WaitError) Error() string {
	after := e.Elapsed.Round(time.Millisecond)
	if e.Last == nil {
		return fmt.Sprintf("%v (after %v; no poll succeeded)", e.Err, after)
	}
	provisioned, tx := "not provisioned", e.Last.Transaction
	if !e.Last.ProvisionDate.IsZero() {
		provisioned = "provisioned"
	}
	if tx == "" {
		tx = "none"
	}
	return fmt.Sprintf("%v (after %v; last seen %s, transaction %s, power %s)", e.Err, after, provisioned, tx, e.Last.PowerState)
}

// Unwrap returns the cause.
func (e *WaitError) Unwrap() error { return e.Err }
