package e2etest

import (
	"net/http"
	"sync"
	"time"
)

// background tracks what runs beside the request that started it — import
// checks, transaction timers — and the handlers themselves, so that Close
// can stop the timers and wait for the rest: once Close returns nothing
// touches the cloud's state and no goroutine of the emulator is left.
// Work offered after Close began is dropped (the cloud is gone).
type background struct {
	mu     sync.Mutex
	closed bool
	wg     sync.WaitGroup
	timers map[*time.Timer]struct{} // pending, not yet fired
}

// addLocked counts one job in, unless the cloud is closing. Called with b.mu
// held, so no Add can race with close's Wait.
func (b *background) addLocked() bool {
	if b.closed {
		return false
	}
	b.wg.Add(1)
	return true
}

// goFunc runs f in a goroutine that Close waits for.
func (b *background) goFunc(f func()) {
	b.mu.Lock()
	ok := b.addLocked()
	b.mu.Unlock()
	if !ok {
		return
	}
	go func() {
		defer b.wg.Done()
		f()
	}()
}

// after runs f once d has passed, unless Close comes first: Close stops the
// timer, or waits for f if it already started.
func (b *background) after(d time.Duration, f func()) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.addLocked() {
		return
	}
	var t *time.Timer
	// The callback takes b.mu first, so it sees t assigned even when d <= 0.
	t = time.AfterFunc(d, func() {
		defer b.wg.Done()
		b.mu.Lock()
		delete(b.timers, t)
		closed := b.closed
		b.mu.Unlock()
		if !closed {
			f()
		}
	})
	if b.timers == nil {
		b.timers = map[*time.Timer]struct{}{}
	}
	b.timers[t] = struct{}{}
}

// handler wraps h so that Close waits for requests in flight; a request
// that arrives while the cloud closes gets a 503.
func (b *background) handler(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b.mu.Lock()
		ok := b.addLocked()
		b.mu.Unlock()
		if !ok {
			http.Error(w, "e2etest: the cloud is closed", http.StatusServiceUnavailable)
			return
		}
		defer b.wg.Done()
		h.ServeHTTP(w, r)
	})
}

// close refuses new work, stops pending timers and waits for the jobs and
// handlers that are running. The caller must first make running work end
// (close the servers' connections, close Cloud.done).
func (b *background) close() {
	b.mu.Lock()
	b.closed = true
	for t := range b.timers {
		if t.Stop() { // its callback will never run: count it out here
			b.wg.Done()
		}
	}
	b.timers = nil
	b.mu.Unlock()
	b.wg.Wait()
}
