package vpcapi

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/IBM/go-sdk-core/v5/core"

	"github.com/e2eimage/e2e/internal/slsession"
)

var errConflict = errors.New("name taken")

func answer(status int, result any, header ...string) *core.DetailedResponse {
	h := http.Header{}
	for i := 0; i+1 < len(header); i += 2 {
		h.Set(header[i], header[i+1])
	}
	return &core.DetailedResponse{StatusCode: status, Headers: h, Result: result}
}

func TestFromSDK(t *testing.T) {
	ctx := context.Background()
	sdkErr := errors.New("sdk says no")
	envelope := map[string]any{"trace": "t-1", "errors": []any{map[string]any{"code": "image_not_found", "message": "no such image", "more_info": "https://x"}}}
	cases := []struct {
		name       string
		resp       *core.DetailedResponse
		err        error
		sentinel   error
		status     int
		temporary  bool
		ambiguous  bool
		retryAfter time.Duration
		text       string
	}{
		{"envelope 404", answer(404, envelope), sdkErr, slsession.ErrNotFound, 404, false, false, 0, "provision: vpc Op: image_not_found: no such image (HTTP 404) trace t-1"},
		{"409", answer(409, nil), sdkErr, errConflict, 409, false, false, 0, "Conflict"},
		{"429 with Retry-After", answer(429, nil, "Retry-After", "7"), sdkErr, slsession.ErrRateLimited, 429, true, false, 7 * time.Second, "Too Many Requests"},
		{"absurd Retry-After kept (waits cap it)", answer(503, nil, "Retry-After", "99999"), sdkErr, nil, 503, true, true, 24 * time.Hour, "HTTP 503"},
		{"501 is final", answer(501, nil), sdkErr, nil, 501, false, false, 0, "Not Implemented"},
		{"Retry-After of a 500 ignored", answer(500, nil, "Retry-After", "5"), sdkErr, nil, 500, true, true, 0, "HTTP 500"},
		{"403", answer(403, nil), sdkErr, slsession.ErrUnauthorized, 403, false, false, 0, "Forbidden"},
		{"no answer", nil, sdkErr, slsession.ErrTransport, 0, true, true, 0, "sdk says no"},
		{"cut 201 body", answer(201, nil), sdkErr, slsession.ErrTransport, 0, true, true, 0, "cut short"},
		{"IAM refused the key", answer(400, nil), errors.New("error during the 'authenticate' step: bad key"), slsession.ErrUnauthorized, 401, false, false, 0, "no IAM token"},
		{"IAM down", answer(503, nil), errors.New("error during the 'authenticate' step: down"), slsession.ErrUnauthorized, 503, true, false, 0, "no IAM token"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := FromSDK(ctx, "provision", "Op", errConflict, tc.resp, tc.err)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("%v is not an *Error", err)
			}
			if tc.sentinel != nil && !errors.Is(err, tc.sentinel) {
				t.Errorf("%v does not unwrap to %v", err, tc.sentinel)
			}
			if !errors.Is(err, tc.err) {
				t.Errorf("%v does not unwrap to the SDK's error", err)
			}
			if e.StatusCode != tc.status || e.Temporary() != tc.temporary || e.Ambiguous() != tc.ambiguous || e.RetryAfter != tc.retryAfter ||
				!strings.Contains(err.Error(), tc.text) || !strings.HasPrefix(err.Error(), "provision: vpc Op: ") {
				t.Errorf("got %q status %d temporary %v ambiguous %v retry-after %v", err, e.StatusCode, e.Temporary(), e.Ambiguous(), e.RetryAfter)
			}
		})
	}
	// Retry-After as an HTTP date (RFC 9110) reads as the wait until then.
	date := time.Now().Add(30 * time.Second).UTC().Format(http.TimeFormat)
	var e *Error
	if err := FromSDK(ctx, "image", "Op", nil, answer(429, nil, "Retry-After", date), sdkErr); !errors.As(err, &e) ||
		e.RetryAfter < 28*time.Second || e.RetryAfter > 31*time.Second {
		t.Errorf("Retry-After %q: %v", date, err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := FromSDK(cancelled, "image", "Op", nil, nil, errors.New("x")); !errors.Is(err, context.Canceled) {
		t.Errorf("a cancelled call: %v", err)
	}
}

func TestRetry(t *testing.T) {
	ctx := context.Background()
	temp := &Error{Package: "p", Operation: "Get", StatusCode: 500}
	final := &Error{Package: "p", Operation: "Get", StatusCode: 404}
	calls := 0
	err := Retry(ctx, 3, time.Millisecond, func() error { calls++; return temp })
	if !errors.Is(err, temp) || calls != 4 {
		t.Errorf("always 500: %v after %d calls; want 4", err, calls)
	}
	calls = 0
	if err := Retry(ctx, 3, time.Millisecond, func() error { calls++; return final }); !errors.Is(err, slsession.ErrNotFound) || calls != 1 {
		t.Errorf("404: %v after %d calls; want 1", err, calls)
	}
	calls = 0
	if err := Retry(ctx, 3, time.Millisecond, func() error {
		if calls++; calls < 3 {
			return temp
		}
		return nil
	}); err != nil || calls != 3 {
		t.Errorf("two 500s then success: %v after %d calls", err, calls)
	}
	cctx, cancel := context.WithCancel(ctx)
	calls = 0
	err = Retry(cctx, 3, time.Hour, func() error { calls++; cancel(); return temp })
	if !errors.Is(err, context.Canceled) || !errors.Is(err, temp) || calls != 1 {
		t.Errorf("cancelled while waiting: %v after %d calls", err, calls)
	}
}

func TestPoller(t *testing.T) {
	ctx := context.Background()
	p := Poller{Interval: time.Millisecond, MaxInterval: 2 * time.Millisecond, MaxFailures: 3}
	temp := &Error{Package: "p", Operation: "Get", StatusCode: 502}
	n := 0
	err := p.Run(ctx, "wait", func() (bool, error) {
		n++
		if n%2 == 1 {
			return false, temp // failures that do not follow each other are tolerated
		}
		return n == 8, nil
	})
	if err != nil || n != 8 {
		t.Errorf("alternating failures: %v after %d polls", err, n)
	}
	n = 0
	err = p.Run(ctx, "wait", func() (bool, error) { n++; return false, temp })
	if err == nil || !strings.Contains(err.Error(), "wait: 3 polls in a row failed") || !errors.Is(err, temp) || n != 3 {
		t.Errorf("three failures in a row: %v after %d polls", err, n)
	}
	permanent := errors.New("bad answer")
	if err := p.Run(ctx, "wait", func() (bool, error) { return false, permanent }); !errors.Is(err, permanent) {
		t.Errorf("permanent error: %v", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	if err := p.Run(cctx, "wait", func() (bool, error) { cancel(); return false, nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
	// Done wins over a context cancelled meanwhile.
	cctx, cancel = context.WithCancel(ctx)
	if err := p.Run(cctx, "wait", func() (bool, error) { cancel(); return true, nil }); err != nil {
		t.Errorf("done while cancelled: %v", err)
	}
}

// RetryDelete: not found on a retry means a lost try deleted; not found
// at once is the caller's error.
func TestRetryDelete(t *testing.T) {
	notFound := errors.New("not found")
	temp := &Error{StatusCode: 503}
	answers := func(errs ...error) func() error {
		return func() error { err := errs[0]; errs = errs[1:]; return err }
	}
	if err := RetryDelete(context.Background(), 3, time.Millisecond, notFound, answers(temp, notFound)); err != nil {
		t.Errorf("503 then not found = %v, want deleted", err)
	}
	if err := RetryDelete(context.Background(), 3, time.Millisecond, notFound, answers(notFound)); !errors.Is(err, notFound) {
		t.Errorf("not found at once = %v, want it", err)
	}
	if err := RetryDelete(context.Background(), 3, time.Millisecond, notFound, answers(temp, nil)); err != nil {
		t.Errorf("503 then deleted = %v", err)
	}
}
