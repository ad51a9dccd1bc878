package provision

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/IBM/go-sdk-core/v5/core"
)

// Errors of VPC instances; test for them with errors.Is.
var (
	// ErrNameTaken means a VPC instance of the request's name exists but is
	// not the request's (another image or zone), or is being deleted.
	ErrNameTaken = errors.New("provision: vpc instance name already in use")
	// ErrInstanceFailed means an instance ended failed (or stopped, or
	// deleted) instead of running; the error is a *VPCInstanceError.
	ErrInstanceFailed = errors.New("provision: vpc instance failed")
)

// VPCAPIError is a failed VPC API call: the operation, the HTTP status (0
// when no complete answer arrived) and the first error of VPC's envelope
// {"errors":[{"code","message","more_info"}],"trace"}. It unwraps to
// ErrNotFound, ErrUnauthorized, ErrRateLimited or ErrTransport when one
// applies (ErrNameTaken for a 409), and to the SDK's error.
type VPCAPIError struct {
	Operation  string // e.g. "CreateInstance"
	StatusCode int
	Code       string // e.g. "image_not_available"
	Message    string
	MoreInfo   string
	Trace      string // IBM's trace ID, for support
	// RetryAfter is the wait a 429 or 503 asked for, 0 when none.
	RetryAfter time.Duration
	Err        error
}

func (e *VPCAPIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "provision: vpc %s: ", e.Operation)
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
func (e *VPCAPIError) Unwrap() []error {
	var out []error
	switch {
	case e.StatusCode == http.StatusNotFound:
		out = append(out, ErrNotFound)
	case e.StatusCode == http.StatusTooManyRequests:
		out = append(out, ErrRateLimited)
	case e.StatusCode == http.StatusConflict:
		out = append(out, ErrNameTaken)
	case e.StatusCode == http.StatusUnauthorized || e.StatusCode == http.StatusForbidden || e.Code == "authentication_failed":
		out = append(out, ErrUnauthorized)
	case e.StatusCode == 0:
		out = append(out, ErrTransport)
	}
	if e.Err != nil {
		out = append(out, e.Err)
	}
	return out
}

// Temporary reports whether the same call may succeed later: rate limits,
// 5xx (but 501) and transport errors.
func (e *VPCAPIError) Temporary() bool {
	if e.Code == "authentication_failed" {
		return e.StatusCode >= 500 || e.StatusCode == 0
	}
	return e.StatusCode == http.StatusTooManyRequests || e.StatusCode == 0 ||
		(e.StatusCode >= 500 && e.StatusCode != http.StatusNotImplemented)
}

// ambiguous reports whether the call may have taken effect although it
// failed: no complete answer, or a 5xx other than 501.
func (e *VPCAPIError) ambiguous() bool {
	return e.Code != "authentication_failed" && (e.StatusCode == 0 ||
		(e.StatusCode >= 500 && e.StatusCode != http.StatusNotImplemented))
}

// vpcError turns a vpcv1 error into a *VPCAPIError, or the context's error
// when ctx ended the call.
func vpcError(ctx context.Context, op string, resp *core.DetailedResponse, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("provision: vpc %s: %w", op, ctx.Err())
	}
	e := &VPCAPIError{Operation: op, Err: err}
	msg := err.Error()
	// The authenticator failed to get a token: IAM's answer, not VPC's.
	if strings.Contains(msg, "'authenticate' step") {
		e.Code, e.Message = "authentication_failed", "no IAM token: "+msg
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
	if s := resp.Headers.Get("Retry-After"); s != "" {
		if n, err := strconv.Atoi(s); err == nil && n > 0 && n < 3600 {
			e.RetryAfter = time.Duration(n) * time.Second
		}
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

// VPCInstanceError is an instance that ended failed (or stopped, or is
// being deleted) instead of running, with IBM's status reasons.
type VPCInstanceError struct {
	InstanceID, Name string
	Status           string
	Reasons          []VPCStatusReason
}

func (e *VPCInstanceError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "provision: vpc instance %s (%s) is %s", e.Name, e.InstanceID, e.Status)
	for i, r := range e.Reasons {
		sep := "; "
		if i == 0 {
			sep = ": "
		}
		fmt.Fprintf(&b, "%s%s: %s", sep, r.Code, r.Message)
	}
	return b.String()
}

// Unwrap returns ErrInstanceFailed.
func (e *VPCInstanceError) Unwrap() error { return ErrInstanceFailed }
