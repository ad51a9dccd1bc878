package slsession

import (
	"errors"
	"net/http"
	"time"

	"github.com/e2eimage/e2e/internal/retryafter"
)

// MaxRetryAfter caps the wait a server's Retry-After header can impose on
// Session.Call and Poller.Run (see retryafter.Max, which the VPC clients
// share).
const MaxRetryAfter = retryafter.Max

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
	if errors.As(err, &ae) {
		return retryafter.Wait(backoff, ae.RetryAfter)
	}
	return backoff
}
