package e2etest

import (
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

// closeWaits checks that b.close does not return while what runs (for
// 50 ms: a close that returns early is caught unless the machine stalls
// that long), then lets it end with release and waits for close.
func closeWaits(t *testing.T, b *background, what string, release chan struct{}) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		b.close()
		close(done)
	}()
	select {
	case <-done:
		t.Fatalf("close returned while %s was running", what)
	case <-time.After(50 * time.Millisecond):
	}
	close(release)
	<-done
}

func TestBackgroundCloseWaitsForRunningTimer(t *testing.T) {
	var b background
	started, release := make(chan struct{}), make(chan struct{})
	b.after(0, func() {
		close(started)
		<-release
	})
	<-started
	closeWaits(t, &b, "a timer callback", release)
}

func TestBackgroundCloseWaitsForGoroutine(t *testing.T) {
	var b background
	started, release := make(chan struct{}), make(chan struct{})
	b.goFunc(func() {
		close(started)
		<-release
	})
	<-started
	closeWaits(t, &b, "a background goroutine", release)
}

// A pending timer is stopped, not waited for: close returns at once (an
// hour-long wait would time the test out) and the callback never runs.
func TestBackgroundCloseStopsPendingTimers(t *testing.T) {
	var b background
	var ran atomic.Int32
	for range 3 {
		b.after(time.Hour, func() { ran.Add(1) })
	}
	b.close()
	if len(b.timers) != 0 {
		t.Errorf("%d timers left after close", len(b.timers))
	}
	// Work offered after close is dropped: nothing is counted in (Wait
	// waits for anything that was) and no timer is pending.
	b.after(0, func() { ran.Add(1) })
	b.goFunc(func() { ran.Add(1) })
	b.wg.Wait()
	if n := ran.Load(); n != 0 || len(b.timers) != 0 {
		t.Fatalf("%d callbacks ran, %d timers pending after close", n, len(b.timers))
	}
	b.close() // twice is harmless
}

func TestBackgroundHandler(t *testing.T) {
	var b background
	started, release := make(chan struct{}), make(chan struct{})
	h := b.handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-release
		w.WriteHeader(http.StatusNoContent)
	}))
	rec := httptest.NewRecorder()
	served := make(chan struct{})
	go func() {
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
		close(served)
	}()
	<-started
	closeWaits(t, &b, "a handler", release)
	<-served
	if rec.Code != http.StatusNoContent {
		t.Fatalf("the request in flight got %d", rec.Code)
	}
	late := httptest.NewRecorder()
	h.ServeHTTP(late, httptest.NewRequest(http.MethodGet, "/", nil))
	if late.Code != http.StatusServiceUnavailable {
		t.Fatalf("a request after close got %d, want 503", late.Code)
	}
}
