package iam

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/IBM/go-sdk-core/v5/core"

	"github.com/e2eimage/e2e/internal/once"
)

// Sentinel errors; test for them with errors.Is.
var (
	// ErrInvalidAPIKey: the IAM token endpoint refused the API key.
	ErrInvalidAPIKey = errors.New("iam: API key not accepted")
	// ErrUnauthorized: the token was refused (expired, invalid) or lacks the permission.
	ErrUnauthorized = errors.New("iam: unauthorized")
	// ErrNotFound: the policy, service ID or API key does not exist.
	ErrNotFound = errors.New("iam: not found")
	// ErrPolicyExists: an equivalent policy exists already.
	ErrPolicyExists = errors.New("iam: policy already exists")
	// ErrRateLimited: IAM answered 429 after every retry.
	ErrRateLimited = errors.New("iam: rate limited")
	// ErrMissingAuthorization: a required authorization policy does not exist.
	ErrMissingAuthorization = errors.New("iam: missing authorization")
	// ErrOutcomeUnknown: creating a service ID or API key failed in a way
	// that leaves open whether it took effect (a 5xx, a lost answer), so it
	// was not retried: a retry could create a second one.
	ErrOutcomeUnknown = errors.New("iam: outcome unknown")
)

// ServiceError is an error answered by IAM. It unwraps to the matching
// sentinel (ErrUnauthorized, ErrNotFound, …) when there is one.
type ServiceError struct {
	Op      string // e.g. "create policy"
	Status  int    // HTTP status
	Code    string // IAM's error code, e.g. "policy_conflict_error"
	Message string
	Err     error // sentinel, or nil
}

func (e *ServiceError) Error() string {
	s := fmt.Sprintf("iam: %s: HTTP %d", e.Op, e.Status)
	if e.Code != "" {
		s += " " + e.Code
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

func (e *ServiceError) Unwrap() error { return e.Err }

// MissingAuthorizationError names the authorizations VerifyAuthorizations
// did not find. It unwraps to ErrMissingAuthorization.
type MissingAuthorizationError struct {
	Missing []Authorization
}

func (e *MissingAuthorizationError) Error() string {
	s := "iam: missing authorization:"
	for i, a := range e.Missing {
		if i > 0 {
			s += ";"
		}
		s += " " + a.String()
	}
	return s
}

func (e *MissingAuthorizationError) Unwrap() error { return ErrMissingAuthorization }

// apiError converts an error of a platform-services call into a typed error.
func apiError(ctx context.Context, op string, resp *core.DetailedResponse, err error) error {
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		// The SDK wraps a cancellation so errors.Is cannot see it.
		return fmt.Errorf("iam: %s: %w", op, ctx.Err())
	}
	var ae *core.AuthenticationError
	if errors.As(err, &ae) {
		return tokenError(err, "")
	}
	status := 0
	if resp != nil {
		status = resp.StatusCode
	}
	var hp *core.HTTPProblem
	if status == 0 && errors.As(err, &hp) && hp.Response != nil {
		status = hp.Response.GetStatusCode()
		resp = hp.Response
	}
	if status == 0 {
		return fmt.Errorf("iam: %s: %w", op, err)
	}
	se := &ServiceError{Op: op, Status: status, Message: err.Error()}
	if resp != nil {
		if m, ok := resp.Result.(map[string]any); ok {
			se.Code, se.Message = errorFields(m, se.Message)
		}
	}
	switch {
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		se.Err = ErrUnauthorized
	case status == http.StatusNotFound:
		se.Err = ErrNotFound
	case status == http.StatusConflict:
		se.Err = ErrPolicyExists
	case status == http.StatusTooManyRequests:
		se.Err = ErrRateLimited
	}
	return se
}

// errorFields reads IAM's error code and message from an error body.
func errorFields(m map[string]any, msg string) (string, string) {
	if errs, ok := m["errors"].([]any); ok && len(errs) > 0 {
		if e, ok := errs[0].(map[string]any); ok {
			code, _ := e["code"].(string)
			if s, ok := e["message"].(string); ok && s != "" {
				msg = s
			}
			return code, msg
		}
	}
	code, _ := m["errorCode"].(string)
	if s, ok := m["errorMessage"].(string); ok && s != "" {
		msg = s
	}
	return code, msg
}

// createErr converts the error of a create made under once.Start.
func createErr(ctx context.Context, g *once.Guard, op string, resp *core.DetailedResponse, err error) error {
	if ctx.Err() != nil {
		return apiError(ctx, op, resp, err)
	}
	o, ok := g.Ambiguous()
	if !ok {
		return apiError(ctx, op, resp, err)
	}
	if o.Err != nil {
		return fmt.Errorf("iam: %s: %w: not retried as it may have taken effect: %w", op, ErrOutcomeUnknown, o.Err)
	}
	se := &ServiceError{Op: op, Status: o.Status, Message: http.StatusText(o.Status), Err: ErrOutcomeUnknown}
	var m map[string]any
	if json.Unmarshal(o.Body, &m) == nil {
		se.Code, se.Message = errorFields(m, se.Message)
	}
	se.Message += " (not retried: it may have taken effect)"
	return se
}
