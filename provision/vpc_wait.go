package provision

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// WaitRunning polls a VPC instance until it is running and returns it. An
// instance that ends failed, stopped or deleting returns a
// *VPCInstanceError (ErrInstanceFailed) with IBM's status reasons, e.g.
// "encryption_key_deleted" when the boot volume's root key is gone.
//
// It takes Wait's options: WithPollInterval (default 10 s),
// WithMaxPollInterval (1 min; each wait is 1.5 times the last),
// WithMaxFailures (5 temporary API failures in a row) and WithProgress,
// whose Progress carries the VPC status ("pending", "starting", "running")
// in PowerState, the status reasons in Transaction, Provisioned once
// running, and ServerID 0. Cancelling ctx stops the waiting, not the
// provisioning.
func (c *VPCClient) WaitRunning(ctx context.Context, id string, opts ...WaitOption) (*VPCInstance, error) {
	o := waitOptions{interval: 10 * time.Second, maxInterval: time.Minute, maxFailures: 5}
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return nil, err
		}
	}
	if err := checkID(id); err != nil {
		return nil, err
	}
	start := time.Now()
	interval, failures := o.interval, 0
	what := "provision: wait for vpc instance " + id
	for {
		raw, resp, err := c.vpc.GetInstanceWithContext(ctx, c.vpc.NewGetInstanceOptions(id))
		var in *VPCInstance
		if err == nil {
			in, err = fromVPCInstance(raw)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", what, err)
			}
		} else {
			err = vpcError(ctx, "GetInstance", resp, err)
		}
		wait := interval
		switch {
		case ctx.Err() != nil:
			return nil, fmt.Errorf("%s: %w", what, ctx.Err())
		case err != nil:
			var ae *VPCAPIError
			if !errors.As(err, &ae) || !ae.Temporary() {
				return nil, fmt.Errorf("%s: %w", what, err)
			}
			if failures++; failures >= o.maxFailures {
				return nil, fmt.Errorf("%s: %d polls in a row failed, last: %w", what, failures, err)
			}
			wait = max(wait, ae.RetryAfter)
		default:
			failures = 0
			if o.progress != nil {
				o.progress(Progress{PowerState: in.Status, Transaction: reasonText(in.StatusReasons),
					Provisioned: in.Running(), Elapsed: time.Since(start)})
			}
			switch {
			case in.Running():
				return in, nil
			case in.Failed():
				return in, &VPCInstanceError{InstanceID: in.ID, Name: in.Name, Status: in.Status, Reasons: in.StatusReasons}
			}
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("%s: %w", what, ctx.Err())
		case <-t.C:
		}
		interval = min(interval*3/2, max(o.maxInterval, o.interval))
	}
}

func reasonText(rs []VPCStatusReason) string {
	parts := make([]string, 0, len(rs))
	for _, r := range rs {
		parts = append(parts, r.Code+": "+r.Message)
	}
	return strings.Join(parts, "; ")
}
