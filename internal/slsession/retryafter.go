package slsession

import (
	"errors"
	"net/http"
	"time"

	"github.com/e2eimage/e2e/internal/retryafter"
)

// MaxRetryAfter caps the wait a server's Retry-After header can impose on
// Session.Call and Poller.Run. A server asking for an hour must not hang a
// pipeline: the wait is cut to MaxRetryAfter and the call retried then (it
// may be refused again, which costs one retry or one tolerated failure).
const MaxRetryAfter = 60 * time.Second

// The shared Retry-After parser and context-aware wait, under the names
// Session and Poller use.
var (
	parseRetryAfter = retryafter.Parse
	sleepCtx        = retryafter.Sleep
)

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
