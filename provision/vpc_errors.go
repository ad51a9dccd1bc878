package provision

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/IBM/go-sdk-core/v5/core"

	"github.com/e2eimage/e2e/internal/vpcapi"
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
// (Code, Message, MoreInfo, Trace). It unwraps to ErrNotFound,
// ErrUnauthorized, ErrRateLimited or ErrTransport when one applies
// (ErrNameTaken for a 409), and to the SDK's error; Temporary says whether
// the same call may succeed later.
type VPCAPIError = vpcapi.Error

// vpcError turns a vpcv1 error into a *VPCAPIError, or the context's error
// when ctx ended the call.
func vpcError(ctx context.Context, op string, resp *core.DetailedResponse, err error) error {
	return vpcapi.FromSDK(ctx, "provision", op, ErrNameTaken, resp, err)
}

// VPCInstanceError is an instance that ended failed (or stopped, or is
// being deleted) instead of running, with IBM's status reasons.
type VPCInstanceError struct {
	InstanceID, Name string
	Status           string
	Reasons          []VPCStatusReason
}

func (e *VPCInstanceError) Error() string {
	s := fmt.Sprintf("provision: vpc instance %s (%s) is %s", e.Name, e.InstanceID, e.Status)
	if len(e.Reasons) > 0 {
		s += ": " + vpcapi.JoinReasons(e.Reasons)
	}
	return s
}

// Unwrap returns ErrInstanceFailed.
func (e *VPCInstanceError) Unwrap() error { return ErrInstanceFailed }

// VPCWaitError is a WaitRunning that ended before the instance ran or
// failed: ctx ended, polls kept failing, or one failed for good. It names
// the status the instance was last seen in. Unwrap returns the cause
// (ctx.Err(), a *VPCAPIError, …).
type VPCWaitError struct {
	InstanceID string
	// Last is the instance as the last successful poll saw it, nil when no
	// poll succeeded.
	Last    *VPCInstance
	Elapsed time.Duration
	Err     error
}

func (e *VPCWaitError) Error() string {
	after := e.Elapsed.Round(time.Millisecond)
	if e.Last == nil {
		return fmt.Sprintf("%v (after %v; no poll succeeded)", e.Err, after)
	}
	return fmt.Sprintf("%v (after %v; last seen %s)", e.Err, after, e.Last.Status)
}

// Unwrap returns the cause.
func (e *VPCWaitError) Unwrap() error { return e.Err }
