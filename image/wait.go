package image

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
	TemplateID  int
	Status      Status
	Transaction string // the running step, "" when none
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

// WithMaxPollInterval caps the backoff: each wait is 1.5 times the last
// until it reaches this. The default is 2 minutes (imports take up to an hour).
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

// WithProgress calls f after every successful poll, on Wait's goroutine;
// Wait does not continue until f returns. The default reports nothing.
func WithProgress(f func(Progress)) WaitOption {
	return func(o *waitOptions) error {
		o.progress = f
		return nil
	}
}

func waitConfig(opts []WaitOption) (waitOptions, error) {
	o := waitOptions{interval: 10 * time.Second, maxInterval: 2 * time.Minute, maxFailures: 5}
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return o, err
		}
	}
	if o.maxInterval < o.interval {
		o.maxInterval = o.interval
	}
	return o, nil
}

// Wait polls a template until it is active with no transaction running,
// and returns it; an import that ends in an error status returns an
// *ImportError (ErrImportFailed). Temporary API failures are retried up to
// the WithMaxFailures limit. Cancelling ctx stops the wait, not the import.
func (c *Client) Wait(ctx context.Context, templateID int, opts ...WaitOption) (*Template, error) {
	o, err := waitConfig(opts)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	var last *Template
	var failed error
	p := slsession.Poller{Interval: o.interval, MaxInterval: o.maxInterval, MaxFailures: o.maxFailures}
	err = p.Run(ctx, fmt.Sprintf("image: wait for template %d", templateID), func() (bool, bool, error) {
		t, err := c.Get(ctx, templateID)
		if err != nil {
			return false, false, err
		}
		last = t
		if o.progress != nil {
			o.progress(Progress{TemplateID: templateID, Status: t.Status, Transaction: t.Transaction, Elapsed: time.Since(start)})
		}
		if t.Failed() {
			msg := t.Status.Description
			if msg == "" {
				msg = t.Status.Name
			}
			failed = &ImportError{TemplateID: templateID, Status: t.Status.KeyName, Message: msg}
			return true, false, nil
		}
		return t.Active(), false, nil
	})
	if err != nil {
		return nil, err
	}
	return last, failed
}
