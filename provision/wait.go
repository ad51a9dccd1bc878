package provision

import (
	"context"
	"fmt"
	"time"

	"github.com/e2eimage/e2e/internal/slsession"
)

// WaitOption configures Wait.
type WaitOption func(*waitOptions) error

type waitOptions struct {
	interval    time.Duration
	maxInterval time.Duration
	maxFailures int
	progress    func(Progress)
}

// Progress is what Wait reports after each poll.
type Progress struct {
	ServerID    int
	Transaction string // the running step, "" when none
	PowerState  string
	Provisioned bool
	Elapsed     time.Duration
}

// WithPollInterval sets the first wait between polls. The default is 10 s.
func WithPollInterval(d time.Duration) WaitOption {
	return func(o *waitOptions) error {
		if d <= 0 {
			return invalid("PollInterval", "must be positive")
		}
		o.interval = d
		return nil
	}
}

// WithMaxPollInterval caps the backoff (each wait is 1.5 times the last).
// The default is one minute.
func WithMaxPollInterval(d time.Duration) WaitOption {
	return func(o *waitOptions) error {
		if d <= 0 {
			return invalid("MaxPollInterval", "must be positive")
		}
		o.maxInterval = d
		return nil
	}
}

// WithMaxFailures sets how many polls in a row may fail temporarily (rate
// limits, 5xx, dropped connections) before Wait gives up. The default is 5.
func WithMaxFailures(n int) WaitOption {
	return func(o *waitOptions) error {
		if n < 1 {
			return invalid("MaxFailures", "must be at least 1")
		}
		o.maxFailures = n
		return nil
	}
}

// WithProgress calls f after every successful poll, on Wait's goroutine.
// The default reports nothing.
func WithProgress(f func(Progress)) WaitOption {
	return func(o *waitOptions) error {
		o.progress = f
		return nil
	}
}

// waitConfig is the defaults of Wait and WaitRunning with opts applied.
func waitConfig(opts []WaitOption) (waitOptions, error) {
	o := waitOptions{interval: 10 * time.Second, maxInterval: time.Minute, maxFailures: 5}
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return o, err
		}
	}
	return o, nil
}

// Wait polls a server until it is ready — provisionDate set and no active
// transaction, seen twice in a row — and returns it with its power state
// and IP addresses. Temporary API failures are retried up to the
// WithMaxFailures limit. Cancelling ctx stops the wait, not the provisioning.
// Wait has no deadline of its own: bound it with ctx. An unfinished wait
// returns a *WaitError that says what the server was last seen doing.
func (c *Client) Wait(ctx context.Context, id int, opts ...WaitOption) (*Server, error) {
	o, err := waitConfig(opts)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	var last *Server
	readyInARow := 0
	p := slsession.Poller{Interval: o.interval, MaxInterval: o.maxInterval, MaxFailures: o.maxFailures}
	err = p.Run(ctx, fmt.Sprintf("provision: wait for server %d", id), func() (bool, bool, error) {
		srv, err := c.Get(ctx, id)
		if err != nil {
			return false, false, err
		}
		last = srv
		if o.progress != nil {
			o.progress(Progress{ServerID: id, Transaction: srv.Transaction, PowerState: srv.PowerState,
				Provisioned: !srv.ProvisionDate.IsZero(), Elapsed: time.Since(start)})
		}
		if !srv.Ready() {
			readyInARow = 0
			return false, false, nil
		}
		readyInARow++
		return readyInARow == 2, true, nil // confirm soon
	})
	if err != nil {
		return nil, &WaitError{ServerID: id, Last: last, Elapsed: time.Since(start), Err: err}
	}
	return last, nil
}
