package retryafter

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Parse reads a Retry-After value, delay-seconds or an HTTP date
// (RFC 9110 §10.2.3), as a wait from now; 0 when absent, malformed or
// past. The result is at most 24 hours: callers cap it further.
func Parse(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n <= 0 {
			return 0
		}
		// Larger than any sane wait and than time.Duration can hold:
		// saturate.
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

// Max caps the wait a server's Retry-After can impose on a retry or a
// poll. A server asking for an hour must not hang a pipeline: the wait is
// cut to Max and the request tried again then (it may be refused again,
// which costs one retry or one tolerated failure).
const Max = 60 * time.Second

// Wait is how long to wait before trying again: the caller's backoff or
// the server's Retry-After (asked), whichever is longer, but at most Max
// unless the backoff itself is longer.
func Wait(backoff, asked time.Duration) time.Duration {
	return max(backoff, min(asked, Max))
}

// Sleep waits d or until ctx is done, whichever comes first, and returns
// ctx.Err() in the latter case.
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
