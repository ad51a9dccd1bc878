package image

import (
	"context"
	"errors"
	"fmt"

	"github.com/IBM/go-sdk-core/v5/core"

	"github.com/e2eimage/e2e/internal/vpcapi"
)

// ErrNameTaken means a VPC image of that name already exists in the
// region (HTTP 409): perhaps an earlier import whose answer was lost.
var ErrNameTaken = errors.New("image: vpc image name already in use")

// VPCAPIError is a failed VPC API call: the operation, the HTTP status
// (0 when no complete answer arrived) and the first error of VPC's envelope
// {"errors":[{"code","message","more_info"}],"trace"}. It unwraps to
// ErrNotFound, ErrUnauthorized, ErrRateLimited or ErrTransport when one
// applies (ErrNameTaken for a 409), and to the SDK's error; Temporary says
// whether the same call may succeed later. It is provision.VPCAPIError too.
type VPCAPIError = vpcapi.Error

// vpcError turns a vpcv1 error into a *VPCAPIError, or the context's error
// when ctx ended the call.
func vpcError(ctx context.Context, op string, resp *core.DetailedResponse, err error) error {
	return vpcapi.FromSDK(ctx, "image", op, ErrNameTaken, resp, err)
}

// VPCImportError is a VPC image import that ended failed (or otherwise
// unusable), with IBM's status reasons.
type VPCImportError struct {
	ImageID, Name string
	Status        string
	Reasons       []VPCStatusReason
}

func (e *VPCImportError) Error() string {
	s := fmt.Sprintf("image: vpc import of image %s (%s) is %s", e.Name, e.ImageID, e.Status)
	if len(e.Reasons) > 0 {
		s += ": " + vpcapi.JoinReasons(e.Reasons)
	}
	return s
}

// Unwrap returns ErrImportFailed.
func (e *VPCImportError) Unwrap() error { return ErrImportFailed }
