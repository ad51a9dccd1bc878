package image

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Wait polls a VPC image until it is available and returns it; an import
// that ends failed returns a *VPCImportError (ErrImportFailed) with the
// status reasons. It takes the classic Wait's options: WithPollInterval
// (default 10 s), WithMaxPollInterval (2 min), WithMaxFailures (5 temporary
// API failures in a row) and WithProgress, whose Progress carries the VPC
// status in Status.KeyName and the reasons in Status.Description (TemplateID
// is 0). Cancelling ctx stops the waiting, not the import.
func (c *VPCClient) Wait(ctx context.Context, id string, opts ...WaitOption) (*VPCImage, error) {
	o, err := waitConfig(opts)
	if err != nil {
		return nil, err
	}
	if id == "" {
		return nil, invalid("ID", "is required")
	}
	start := time.Now()
	interval, failures := o.interval, 0
	what := "image: wait for vpc image " + id
	for {
		im, resp, err := c.vpc.GetImageWithContext(ctx, c.vpc.NewGetImageOptions(id))
		if err == nil {
			im2, cerr := fromVPCImage(im)
			if cerr != nil {
				return nil, fmt.Errorf("%s: %w", what, cerr)
			}
			failures = 0
			if o.progress != nil {
				o.progress(Progress{Status: Status{KeyName: im2.Status, Name: im2.Status, Description: reasonText(im2.StatusReasons)},
					Elapsed: time.Since(start)})
			}
			switch {
			case im2.Available():
				return im2, nil
			case im2.Failed():
				return im2, &VPCImportError{ImageID: im2.ID, Name: im2.Name, Status: im2.Status, Reasons: im2.StatusReasons}
			}
		} else {
			err = vpcError(ctx, "GetImage", resp, err)
			var ae *VPCAPIError
			if ctx.Err() != nil {
				return nil, fmt.Errorf("%s: %w", what, ctx.Err())
			}
			if !errors.As(err, &ae) || !ae.Temporary() {
				return nil, fmt.Errorf("%s: %w", what, err)
			}
			if failures++; failures >= o.maxFailures {
				return nil, fmt.Errorf("%s: %d polls in a row failed, last: %w", what, failures, err)
			}
		}
		t := time.NewTimer(interval)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("%s: %w", what, ctx.Err())
		case <-t.C:
		}
		interval = min(interval*3/2, o.maxInterval)
	}
}

func reasonText(rs []VPCStatusReason) string {
	var parts []string
	for _, r := range rs {
		parts = append(parts, r.Code+": "+r.Message)
	}
	return strings.Join(parts, "; ")
}
