package vpcapi

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/IBM/go-sdk-core/v5/core"

	"github.com/e2eimage/e2e/internal/retryafter"
	"github.com/e2eimage/e2e/internal/slsession"
)

// Error is a failed VPC API call: the operation, the HTTP status (0 when
// no complete answer arrived) and the first error of VPC's envelope
// {"errors":[{"code","message","more_info"}],"trace"}. It unwraps to
// ErrNotFound, ErrUnauthorized, ErrRateLimited or ErrTransport (the
// sentinels image and provision export) when one applies, to Conflict for
// a 409, and to the SDK's error.
type Error struct {
	// Package is the package reporting it ("image", "provision"): the
	// prefix of the message.
	Package    string
	Operation  string // e.g. "CreateInstance"
	StatusCode int
	Code       string // e.g. "image_not_available"
	Message    string
	MoreInfo   string
	Trace      string // IBM's trace ID, for support
	// RetryAfter is the wait a 429 or 503 asked for, 0 when none.
	RetryAfter time.Duration
	// Conflict is what a 409 means to the caller, e.g. a name in use.
	Conflict error
	Err      error
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: vpc %s: ", e.Package, e.Operation)
	switch {
	case e.Code != "":
		fmt.Fprintf(&b, "%s: %s", e.Code, e.Message)
	case e.Message != "":
		b.WriteString(e.Message)
	case e.Err != nil:
		b.WriteString(e.Err.Error())
	}
	if e.StatusCode != 0 {
		fmt.Fprintf(&b, " (HTTP %d)", e.StatusCode)
	}
	if e.Trace != "" {
		fmt.Fprintf(&b, " trace %s", e.Trace)
	}
	return b.String()
}

// Unwrap returns the sentinel that classifies the error and the SDK's error.
func (e *Error) Unwrap() []error {
	var out []error
	switch {
	case e.StatusCode == http.StatusNotFound:
		out = append(out, slsession.ErrNotFound)
	case e.StatusCode == http.StatusTooManyRequests:
		out = append(out, slsession.ErrRateLimited)
	case e.StatusCode == http.StatusConflict && e.Conflict != nil:
		out = append(out, e.Conflict)
	case e.StatusCode == http.StatusUnauthorized || e.StatusCode == http.StatusForbidden || e.Code == authFailed:
		out = append(out, slsession.ErrUnauthorized)
	case e.StatusCode == 0:
		out = append(out, slsession.ErrTransport)
	}
	if e.Err != nil {
		out = append(out, e.Err)
	}
	return out
}

// Temporary reports whether the same call may succeed later: rate limits,
// 5xx (but 501) and transport errors.
func (e *Error) Temporary() bool {
	if e.Code == authFailed {
		return e.StatusCode >= 500 || e.StatusCode == 0
	}
	return e.StatusCode == http.StatusTooManyRequests || e.Ambiguous()
}

// Ambiguous reports whether a call that failed may still have taken
// effect: no complete answer, or a 5xx other than 501.
func (e *Error) Ambiguous() bool {
	return e.Code != authFailed && (e.StatusCode == 0 ||
		(e.StatusCode >= 500 && e.StatusCode != http.StatusNotImplemented))
}

const authFailed = "authentication_failed"

// FromSDK turns a vpcv1 error into an *Error reported by pkg, or the
// context's error when ctx ended the call.
func FromSDK(ctx context.Context, pkg, op string, conflict error, resp *core.DetailedResponse, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("%s: vpc %s: %w", pkg, op, ctx.Err())
	}
	e := &Error{Package: pkg, Operation: op, Conflict: conflict, Err: err}
	msg := err.Error()
	// The authenticator failed to get a token: IAM's answer, not VPC's.
	if strings.Contains(msg, "'authenticate' step") {
		e.Code, e.Message = authFailed, "no IAM token: "+msg
		if resp != nil {
			e.StatusCode = resp.StatusCode
		}
		if e.StatusCode == http.StatusBadRequest {
			e.StatusCode = http.StatusUnauthorized // IAM refuses a bad API key with 400
		}
		return e
	}
	if resp == nil {
		return e
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		// A success whose body did not arrive whole: as good as no answer.
		e.Message = fmt.Sprintf("the HTTP %d answer was cut short or unreadable: %v", resp.StatusCode, err)
		return e
	}
	e.StatusCode = resp.StatusCode
	// What a 429 or 503 asked for; the waits cap it at retryafter.Max.
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
		e.RetryAfter = retryafter.Parse(resp.Headers.Get("Retry-After"), time.Now())
	}
	if m, ok := resp.Result.(map[string]any); ok {
		e.Trace, _ = m["trace"].(string)
		if errs, ok := m["errors"].([]any); ok && len(errs) > 0 {
			if first, ok := errs[0].(map[string]any); ok {
				e.Code, _ = first["code"].(string)
				e.Message, _ = first["message"].(string)
				e.MoreInfo, _ = first["more_info"].(string)
			}
		}
	}
	if e.Message == "" {
		e.Message = http.StatusText(e.StatusCode)
	}
	return e
}
