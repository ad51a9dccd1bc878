package slsession

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// MaxRetryAfter caps the wait a server's Retry-After header can impose on
// Session.Call and Poller.Run. A server asking for an hour must not hang a
// pipeline: the wait is cut to MaxRetryAfter and the call retried then (it
// may be refused again, which costs one retry or one tolerated failure).
const MaxRetryAfter = 60 * time.Second

// parseRetryAfter reads a Retry-After value, delay-seconds or an HTTP date
// (RFC 9110 §10.2.3), as a wait from now; 0 when absent, malformed or past.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n <= 0 {
			return 0
		}
		// Larger than any sane wait and than time.Duration can hold:
		// saturate; retryWait caps it anyway.
		if n > int64(24*time.Hour/time.Second) {
			return 24 * time.Hour
		}
		return time.Duration(n) * time.Second
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0
	}
	if d := t.Sub(now); d > 0 {
		return min(d.Round(time.Second), 24*time.Hour) // HTTP dates have one-second resolution
	}
	return 0
}

// hasRetryAfter reports whether a status's Retry-After means "come back
// later" (429 Too Many Requests, 503 Service Unavailable).
func hasRetryAfter(status int) bool {
	return status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable
}

// retryWait is how long to wait before retrying after err: the caller's
// backoff or the server's Retry-After, whichever is longer, at most
// MaxRetryAfter unless the backoff itself is longer.
func retryWait(backoff time.Duration, err error) time.Duration {
	var ae *APIError
	if errors.As(err, &ae) && ae.RetryAfter > backoff {
		return max(backoff, min(ae.RetryAfter, MaxRetryAfter))
	}
	return backoff
}

// sleepCtx waits d or until ctx is done, whichever comes first, and returns
// ctx.Err() in the latter case.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
