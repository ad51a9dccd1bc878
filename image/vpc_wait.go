package image

import (
	"context"
	"time"

	"github.com/e2eimage/e2e/internal/vpcapi"
)

// Wait polls a VPC image until it is available and returns it; an import
// that ends failed returns a *VPCImportError (ErrImportFailed) with the
// status reasons. It takes the classic Wait's options: WithPollInterval
// (default 10 s), WithMaxPollInterval (2 min), WithMaxFailures (5 temporary
// API failures in a row; a 429's Retry-After, when longer, sets the next
// wait) and WithProgress, whose Progress carries the VPC status in
// Status.KeyName and the reasons in Status.Description (TemplateID is 0).
// Cancelling ctx stops the waiting, not the import.
func (c *VPCClient) Wait(ctx context.Context, id string, opts ...WaitOption) (*VPCImage, error) {
	o, err := waitConfig(opts)
	if err != nil {
		return nil, err
	}
	if id == "" {
		return nil, invalid("ID", "is required")
	}
	start := time.Now()
	var last *VPCImage
	p := vpcapi.Poller{Interval: o.interval, MaxInterval: o.maxInterval, MaxFailures: o.maxFailures}
	err = p.Run(ctx, "image: wait for vpc image "+id, func() (bool, error) {
		raw, resp, err := c.vpc.GetImageWithContext(ctx, c.vpc.NewGetImageOptions(id))
		if err != nil {
			return false, vpcError(ctx, "GetImage", resp, err)
		}
		im, err := fromVPCImage(raw)
		if err != nil {
			return false, err
		}
		last = im
		if o.progress != nil {
			o.progress(Progress{Status: Status{KeyName: im.Status, Name: im.Status, Description: vpcapi.JoinReasons(im.StatusReasons)},
				Elapsed: time.Since(start)})
		}
		return im.Available() || im.Failed(), nil
	})
	switch {
	case err != nil:
		return nil, err
	case last.Failed():
		return last, &VPCImportError{ImageID: last.ID, Name: last.Name, Status: last.Status, Reasons: last.StatusReasons}
	}
	return last, nil
}
