package slsession

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/softlayer/softlayer-go/session"
	"github.com/softlayer/softlayer-go/sl"
)

// slServer answers SoftLayer_Account::getObject with the given statuses in
// turn (then 200), each non-200 carrying retryAfter as its Retry-After.
type slServer struct {
	mu         sync.Mutex
	statuses   []int
	retryAfter func() string
	delay      time.Duration // before each answer, as a loaded machine's
	calls      int
}

func (s *slServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.calls++
	status := http.StatusOK
	if len(s.statuses) > 0 {
		status, s.statuses = s.statuses[0], s.statuses[1:]
	}
	s.mu.Unlock()
	time.Sleep(s.delay)
	w.Header().Set("Content-Type", "application/json")
	if status == http.StatusOK {
		fmt.Fprint(w, `{"id":42}`)
		return
	}
	if s.retryAfter != nil {
		w.Header().Set("Retry-After", s.retryAfter())
	}
	w.WriteHeader(status)
	code := "SoftLayer_Exception_WebService_RateLimitExceeded"
	if status != http.StatusTooManyRequests {
		code = ""
	}
	fmt.Fprintf(w, `{"error":"slow down","code":%q}`, code)
}

func (s *slServer) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

// fakeClock records the waits asked of it and returns at once.
type fakeClock struct {
	mu    sync.Mutex
	waits []time.Duration
}

func (c *fakeClock) sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	c.waits = append(c.waits, d)
	c.mu.Unlock()
	return ctx.Err()
}

func newTestSession(t *testing.T, srv *slServer, cfg Config) *Session {
	t.Helper()
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	cfg.Endpoint, cfg.APIKey = ts.URL+"/rest/v3.1", "test-key"
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func getAccount(ctx context.Context, s *Session, idempotent bool) error {
	return s.Call(ctx, "SoftLayer_Account", "getObject", idempotent, func(sess *session.Session) error {
		var out struct {
			ID int `json:"id"`
		}
		return sess.DoRequest("SoftLayer_Account", "getObject", nil, &sl.Options{}, &out)
	})
}

func TestCallWaitsRetryAfter(t *testing.T) {
	in := func(d time.Duration) func() string {
		return func() string { return time.Now().Add(d).UTC().Format(http.TimeFormat) }
	}
	for _, tc := range []struct {
		name       string
		statuses   []int
		retryAfter func() string
		retryWait  time.Duration
		check      func(t *testing.T, waits []time.Duration)
	}{
		{"429 seconds", []int{429}, func() string { return "7" }, time.Millisecond, func(t *testing.T, w []time.Duration) {
			want(t, w, 7*time.Second)
		}},
		{"503 seconds", []int{503, 503}, func() string { return "2" }, time.Millisecond, func(t *testing.T, w []time.Duration) {
			want(t, w, 2*time.Second, 2*time.Second)
		}},
		{"backoff longer than Retry-After", []int{429, 429}, func() string { return "1" }, 3 * time.Second, func(t *testing.T, w []time.Duration) {
			want(t, w, 3*time.Second, 6*time.Second)
		}},
		{"500 Retry-After ignored", []int{500}, func() string { return "9" }, time.Millisecond, func(t *testing.T, w []time.Duration) {
			want(t, w, time.Millisecond)
		}},
		{"HTTP date", []int{429}, in(30 * time.Second), time.Millisecond, func(t *testing.T, w []time.Duration) {
			// the date has one-second resolution and was written a moment ago
			if len(w) != 1 || w[0] < 28*time.Second || w[0] > 30*time.Second {
				t.Fatalf("waits %v, want one of about 30 s", w)
			}
		}},
		{"huge value capped", []int{429}, func() string { return "3600" }, time.Millisecond, func(t *testing.T, w []time.Duration) {
			want(t, w, MaxRetryAfter)
		}},
		{"huge HTTP date capped", []int{503}, in(48 * time.Hour), time.Millisecond, func(t *testing.T, w []time.Duration) {
			want(t, w, MaxRetryAfter)
		}},
		{"malformed ignored", []int{429}, func() string { return "later" }, 5 * time.Millisecond, func(t *testing.T, w []time.Duration) {
			want(t, w, 5*time.Millisecond)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := &slServer{statuses: tc.statuses, retryAfter: tc.retryAfter}
			s := newTestSession(t, srv, Config{RetryWait: tc.retryWait})
			clock := &fakeClock{}
			s.sleep = clock.sleep
			if err := getAccount(context.Background(), s, true); err != nil {
				t.Fatalf("Call: %v", err)
			}
			if n := srv.count(); n != len(tc.statuses)+1 {
				t.Fatalf("%d calls, want %d", n, len(tc.statuses)+1)
			}
			tc.check(t, clock.waits)
		})
	}
}

func want(t *testing.T, got []time.Duration, w ...time.Duration) {
	t.Helper()
	if fmt.Sprint(got) != fmt.Sprint(w) {
		t.Fatalf("waits %v, want %v", got, w)
	}
}

func TestRetryAfterInError(t *testing.T) {
	srv := &slServer{statuses: []int{429}, retryAfter: func() string { return "3600" }}
	s := newTestSession(t, srv, Config{RetryWait: time.Millisecond})
	clock := &fakeClock{}
	s.sleep = clock.sleep
	// Not idempotent: never retried, but the error says what the server asked.
	err := getAccount(context.Background(), s, false)
	var ae *APIError
	if !errors.As(err, &ae) || !errors.Is(err, ErrRateLimited) || ae.RetryAfter != time.Hour {
		t.Fatalf("got %v, want ErrRateLimited with RetryAfter 1h", err)
	}
	if !strings.Contains(err.Error(), "(HTTP 429, retry after 1h0m0s)") {
		t.Errorf("Error() = %q does not show the Retry-After", err)
	}
	if len(clock.waits) != 0 || srv.count() != 1 {
		t.Errorf("a non-idempotent call waited %v and made %d calls", clock.waits, srv.count())
	}

	// Retries spent: the last error still carries it; a 2xx after a 429
	// does not inherit it (the recorder resets per response).
	srv2 := &slServer{statuses: []int{429, 429, 429, 429}, retryAfter: func() string { return "1" }}
	s2 := newTestSession(t, srv2, Config{RetryWait: time.Millisecond, Retries: 3})
	s2.sleep = clock.sleep
	if err := getAccount(context.Background(), s2, true); !errors.As(err, &ae) || ae.RetryAfter != time.Second {
		t.Fatalf("after 4 × 429: %v", err)
	}
	if err := getAccount(context.Background(), s2, true); err != nil {
		t.Fatalf("then a 200: %v", err)
	}
}

// A real clock, as a pipeline sees it: the retry comes no sooner than the
// server asked. Only a lower bound: load may delay it, never hasten it.
func TestCallRetryAfterRealWait(t *testing.T) {
	srv := &slServer{statuses: []int{429}, retryAfter: func() string { return "1" }}
	s := newTestSession(t, srv, Config{RetryWait: time.Millisecond})
	start := time.Now()
	if err := getAccount(context.Background(), s, true); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < time.Second {
		t.Fatalf("retried after %v, before the 1 s the server asked for", d)
	}
}

// A cancelled ctx cuts the Retry-After wait short. The server asks for an
// hour (capped to a minute); the call must return long before either. The
// cancel comes 50 ms into the real wait, not 50 ms after the start: a slow
// answer (the server takes 100 ms, as a loaded machine may) would
// otherwise be cancelled in flight, before there is a wait to cut short.
func TestCallRetryAfterCancelled(t *testing.T) {
	srv := &slServer{statuses: []int{429, 429}, retryAfter: func() string { return "3600" }, delay: 100 * time.Millisecond}
	s := newTestSession(t, srv, Config{RetryWait: time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var waited time.Duration
	s.sleep = func(ctx context.Context, d time.Duration) error {
		waited = d
		time.AfterFunc(50*time.Millisecond, cancel)
		return sleepCtx(ctx, d) // the real clock
	}
	start := time.Now()
	err := getAccount(ctx, s, true)
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "retry after 1h0m0s") {
		t.Fatalf("got %v, want context.Canceled while retrying after a 429", err)
	}
	if d := time.Since(start); d >= MaxRetryAfter/2 || waited != MaxRetryAfter {
		t.Fatalf("cancellation took %v in a wait of %v: the wait was not cut short (or not capped)", d, waited)
	}
	if n := srv.count(); n != 1 {
		t.Fatalf("%d calls after cancellation, want 1", n)
	}
}

func TestPollerWaitsRetryAfter(t *testing.T) {
	for _, tc := range []struct {
		name  string
		errs  []error
		waits []time.Duration
	}{
		{"429", []error{&APIError{StatusCode: 429, RetryAfter: 2 * time.Second}}, []time.Duration{2 * time.Second}},
		{"wrapped 503", []error{fmt.Errorf("get: %w", &APIError{StatusCode: 503, RetryAfter: 5 * time.Second})}, []time.Duration{5 * time.Second}},
		{"capped", []error{&APIError{StatusCode: 429, RetryAfter: 2 * time.Hour}}, []time.Duration{MaxRetryAfter}},
		{"shorter than interval", []error{&APIError{StatusCode: 429, RetryAfter: time.Millisecond}}, []time.Duration{10 * time.Millisecond}},
		{"none", []error{&APIError{StatusCode: 502}, nil}, []time.Duration{10 * time.Millisecond, 15 * time.Millisecond}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clock := &fakeClock{}
			p := Poller{Interval: 10 * time.Millisecond, MaxInterval: time.Second, MaxFailures: 3, sleep: clock.sleep}
			i := 0
			err := p.Run(context.Background(), "wait for test", func() (bool, bool, error) {
				if i < len(tc.errs) {
					i++
					return false, false, tc.errs[i-1]
				}
				return true, false, nil
			})
			if err != nil {
				t.Fatal(err)
			}
			want(t, clock.waits, tc.waits...)
		})
	}
}

func TestPollerRetryAfterCancelled(t *testing.T) {
	p := Poller{Interval: time.Millisecond, MaxFailures: 5}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	polls := 0
	err := p.Run(ctx, "wait for test", func() (bool, bool, error) {
		polls++
		return false, false, &APIError{StatusCode: 429, RetryAfter: time.Hour}
	})
	if !errors.Is(err, context.Canceled) || !strings.HasPrefix(err.Error(), "wait for test: ") {
		t.Fatalf("got %v, want the wait's context.Canceled", err)
	}
	if d := time.Since(start); d >= MaxRetryAfter/2 || polls != 1 {
		t.Fatalf("cancellation took %v and %d polls: the wait was not cut short", d, polls)
	}
}
