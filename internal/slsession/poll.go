package slsession

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Poller polls with backoff (×1.5 up to MaxInterval), tolerating up to
// MaxFailures temporary API failures in a row. After a failure that carries
// a Retry-After (a 429 or 503 APIError) the next poll waits that long if it
// is longer than the interval, capped at MaxRetryAfter.
type Poller struct {
	Interval    time.Duration
	MaxInterval time.Duration
	MaxFailures int

	sleep func(context.Context, time.Duration) error // the clock; tests replace it
}

// Run calls poll until it reports done or a permanent error. again asks
// for the next poll after Interval rather than the backed-off wait (to
// confirm a state soon). what names the wait in errors ("wait for server 12").
func (p Poller) Run(ctx context.Context, what string, poll func() (done, again bool, err error)) error {
	interval := p.Interval
	maxInterval := max(p.MaxInterval, p.Interval)
	failures := 0
	sleep := p.sleep
	if sleep == nil {
		sleep = sleepCtx
	}
	for {
		done, again, err := poll()
		switch {
		case err == nil:
			failures = 0
			if done {
				return nil
			}
			if again {
				interval = p.Interval
			}
		case ctx.Err() != nil:
			return fmt.Errorf("%s: %w", what, ctx.Err())
		case temporary(err):
			failures++
			if failures >= p.MaxFailures {
				return fmt.Errorf("%s: %d polls in a row failed, last: %w", what, failures, err)
			}
		default:
			return fmt.Errorf("%s: %w", what, err)
		}
		wait := interval
		if err != nil {
			wait = retryWait(interval, err)
		}
		if cerr := sleep(ctx, wait); cerr != nil {
			return fmt.Errorf("%s: %w", what, cerr)
		}
		interval = min(interval*3/2, maxInterval)
	}
}

func temporary(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Temporary()
}
