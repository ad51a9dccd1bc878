package provision

import (
	"context"
	"time"

	"github.com/e2eimage/e2e/internal/vpcapi"
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
// provisioning. A wait that ends otherwise returns a *VPCWaitError naming
// the status the instance was last seen in.
func (c *VPCClient) WaitRunning(ctx context.Context, id string, opts ...WaitOption) (*VPCInstance, error) {
	o, err := waitConfig(opts)
	if err != nil {
		return nil, err
	}
	if err := checkID(id); err != nil {
		return nil, err
	}
	start := time.Now()
	var last *VPCInstance
	p := vpcapi.Poller{Interval: o.interval, MaxInterval: o.maxInterval, MaxFailures: o.maxFailures}
	err = p.Run(ctx, "provision: wait for vpc instance "+id, func() (bool, error) {
		raw, resp, err := c.vpc.GetInstanceWithContext(ctx, c.vpc.NewGetInstanceOptions(id))
		if err != nil {
			return false, vpcError(ctx, "GetInstance", resp, err)
		}
		in, err := fromVPCInstance(raw)
		if err != nil {
			return false, err
		}
		last = in
		if o.progress != nil {
			o.progress(Progress{PowerState: in.Status, Transaction: vpcapi.JoinReasons(in.StatusReasons),
				Provisioned: in.Running(), Elapsed: time.Since(start)})
		}
		return in.Running() || in.Failed(), nil
	})
	switch {
	case err != nil:
		return nil, &VPCWaitError{InstanceID: id, Last: last, Elapsed: time.Since(start), Err: err}
	case last.Failed():
		return last, &VPCInstanceError{InstanceID: last.ID, Name: last.Name, Status: last.Status, Reasons: last.StatusReasons}
	}
	return last, nil
}
