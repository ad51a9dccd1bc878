package vpcapi

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/e2eimage/e2e/internal/retryafter"
)

// Retry calls f until it succeeds, fails with anything but a temporary
// *Error, or retries retries have been spent; the first wait is wait (or
// the server's Retry-After, when longer, up to retryafter.Max) and each
// doubles.
func Retry(ctx context.Context, retries int, wait time.Duration, f func() error) error {
	for attempt := 0; ; attempt++ {
		err := f()
		var ae *Error
		if err == nil || attempt >= retries || !errors.As(err, &ae) || !ae.Temporary() {
			return err
		}
		if err := retryafter.Sleep(ctx, retryafter.Wait(wait, ae.RetryAfter)); err != nil {
			return fmt.Errorf("%w (after: %w)", err, ae)
		}
		wait *= 2
	}
}

// RetryDelete is Retry for a delete: a retry answered notFound (matched
// with errors.Is) means an earlier try whose answer was lost did delete, so
// it counts as success; a first try answered notFound is still an error.
func RetryDelete(ctx context.Context, retries int, wait time.Duration, notFound error, del func() error) error {
	tried := false
	return Retry(ctx, retries, wait, func() error {
		err := del()
		if err != nil && tried && errors.Is(err, notFound) {
			return nil
		}
		tried = true
		return err
	})
}

// Poller polls until poll reports done, backing off 1.5 times per poll
// up to MaxInterval and tolerating up to MaxFailures temporary *Errors in
// a row.
type Poller struct {
	Interval, MaxInterval time.Duration
	MaxFailures           int
}

// Run calls poll until it is done or fails; what names the wait in errors
// ("provision: wait for vpc instance 0717_…").
func (p Poller) Run(ctx context.Context, what string, poll func() (done bool, err error)) error {
	interval, failures := p.Interval, 0
	for {
		done, err := poll()
		wait := interval
		switch {
		case err == nil && done:
			return nil
		case ctx.Err() != nil:
			return fmt.Errorf("%s: %w", what, ctx.Err())
		case err == nil:
			failures = 0
		default:
			var ae *Error
			if !errors.As(err, &ae) || !ae.Temporary() {
				return fmt.Errorf("%s: %w", what, err)
			}
			if failures++; failures >= p.MaxFailures {
				return fmt.Errorf("%s: %d polls in a row failed, last: %w", what, failures, err)
			}
			wait = retryafter.Wait(wait, ae.RetryAfter)
		}
		if err := retryafter.Sleep(ctx, wait); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		interval = min(interval*3/2, max(p.MaxInterval, p.Interval))
	}
}
