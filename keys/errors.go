package keys

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	kp "github.com/IBM/keyprotect-go-client"
)

// Sentinel errors; test for them with errors.Is.
var (
	// ErrKeyNotFound: no key with that ID or alias in the instance.
	ErrKeyNotFound = errors.New("keys: key not found")
	// ErrKeyNotActive: the key's state forbids the operation; errors.As a
	// *KeyStateError to learn the state.
	ErrKeyNotActive = errors.New("keys: key not active")
	// ErrUnauthorized: the token was refused (expired, invalid, wrong
	// account) or lacks the role.
	ErrUnauthorized = errors.New("keys: unauthorized")
	// ErrWrongInstance: the instance ID is missing or names no instance the
	// caller can reach.
	ErrWrongInstance = errors.New("keys: wrong instance")
	// ErrWrongKey: the WDEK does not unwrap with this root key (another
	// key, other AAD, or corrupted).
	ErrWrongKey = errors.New("keys: WDEK does not unwrap with this key")
	// ErrNotRootKey: the key is a standard key; wrapping needs a root key.
	ErrNotRootKey = errors.New("keys: not a root key")
	// ErrRateLimited: the service answered 429 after every retry.
	ErrRateLimited = errors.New("keys: rate limited")
	// ErrBadRequest: the service refused the request as malformed.
	ErrBadRequest = errors.New("keys: bad request")
	// ErrTransport: no complete answer arrived (connection refused or
	// dropped, answer cut short) after every retry.
	ErrTransport = errors.New("keys: transport error")
)

// KeyStateError reports a key whose state forbids an operation. It
// unwraps to ErrKeyNotActive.
type KeyStateError struct {
	KeyID string
	Op    string
	State KeyState
}

func (e *KeyStateError) Error() string {
	return fmt.Sprintf("keys: %s key %s: key is %s", e.Op, e.KeyID, e.State)
}

func (e *KeyStateError) Unwrap() error { return ErrKeyNotActive }

// Reason is one reason Key Protect gives for an error.
type Reason struct {
	Code    string // e.g. "KEY_NOT_FOUND_ERR"
	Message string
}

// ServiceError is an error answered by Key Protect or HPCS. It unwraps to
// the matching sentinel when there is one.
type ServiceError struct {
	Op            string // e.g. "wrap"
	KeyID         string // when the call named a key
	Status        int    // HTTP status
	CorrelationID string // quote it to IBM support
	Message       string
	Reasons       []Reason
	Err           error // sentinel, or nil
}

func (e *ServiceError) Error() string {
	s := fmt.Sprintf("keys: %s", e.Op)
	if e.KeyID != "" {
		s += " key " + e.KeyID
	}
	s += fmt.Sprintf(": HTTP %d", e.Status)
	if e.Message != "" {
		s += ": " + e.Message
	}
	if len(e.Reasons) > 0 {
		s += " (" + e.Reasons[0].Code + ")"
	}
	if e.CorrelationID != "" {
		s += " correlation-id " + e.CorrelationID
	}
	return s
}

func (e *ServiceError) Unwrap() error { return e.Err }

// hasReason reports whether the error carries the KP reason code.
func (e *ServiceError) hasReason(code string) bool {
	for _, r := range e.Reasons {
		if r.Code == code {
			return true
		}
	}
	return false
}

// convertError turns an error of the kp client into a typed error.
func convertError(ctx context.Context, op, keyID string, err error) error {
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		return fmt.Errorf("keys: %s: %w", op, ctx.Err())
	}
	var kerr *kp.Error
	if !errors.As(err, &kerr) {
		var uerr *kp.URLError
		if errors.As(err, &uerr) {
			return fmt.Errorf("keys: %s (correlation-id %s): %w: %w", op, uerr.CorrelationID, ErrTransport, uerr.Err)
		}
		return fmt.Errorf("keys: %s: %w", op, err)
	}
	se := &ServiceError{Op: op, KeyID: keyID, Status: kerr.StatusCode, CorrelationID: kerr.CorrelationID, Message: kerr.Message}
	for _, r := range kerr.Reasons {
		se.Reasons = append(se.Reasons, Reason{Code: r.Code, Message: r.Message})
	}
	switch {
	case se.hasReason("INSTANCE_NOT_FOUND_ERR") || se.hasReason("MISSING_INSTANCE_ERR"):
		se.Err = ErrWrongInstance
	case se.Status == http.StatusUnauthorized || se.Status == http.StatusForbidden:
		se.Err = ErrUnauthorized
	case se.Status == http.StatusNotFound:
		se.Err = ErrKeyNotFound
	case se.Status == http.StatusGone:
		return &KeyStateError{KeyID: keyID, Op: op, State: Destroyed}
	case se.Status == http.StatusUnprocessableEntity:
		se.Err = ErrWrongKey
	case se.hasReason("KEY_ROOT_REQ_ERR"):
		se.Err = ErrNotRootKey
	case se.Status == http.StatusTooManyRequests:
		se.Err = ErrRateLimited
	case se.Status == http.StatusBadRequest:
		se.Err = ErrBadRequest
	}
	return se
}
