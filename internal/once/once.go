// Package once stops the automatic retries of IBM SDK clients for calls
// that create something.
//
// keyprotect-go-client and go-sdk-core (EnableRetries) retry every request
// after a connection error or a 5xx, POSTs included, through
// go-retryablehttp. When the service did the work and only the answer was
// lost (a gateway timeout, a reset connection), the retry creates a second
// root key, service ID or API key. Their retry policies give up on a
// cancelled context and on nothing else a caller controls, so Transport
// cancels the call's context after an ambiguous first attempt of a call
// marked with Start, and records what happened for the caller to report.
// 429 is still retried: the service refused the request before executing it.
package once

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
)

// Transport wraps next (nil means http.DefaultTransport) so calls marked
// with Start are sent at most once when the outcome is ambiguous.
func Transport(next http.RoundTripper) http.RoundTripper {
	if next == nil {
		next = http.DefaultTransport
	}
	return transport{next}
}

type transport struct{ next http.RoundTripper }

type key struct{}

// Guard is the state of one call marked with Start.
type Guard struct {
	cancel context.CancelFunc

	mu      sync.Mutex
	done    bool
	outcome Outcome
}

// Outcome is an ambiguous first attempt: a transport error, or a 5xx
// answer (other than 501) with the head of its body.
type Outcome struct {
	Err    error
	Status int
	Header http.Header // the request's headers (e.g. correlation-id) merged under the response's
	Body   []byte
}

// Start marks ctx for a call that must not be resent after an ambiguous
// attempt. Call stop when the call has returned.
func Start(ctx context.Context) (cctx context.Context, g *Guard, stop func()) {
	cctx, cancel := context.WithCancel(ctx)
	g = &Guard{cancel: cancel}
	return context.WithValue(cctx, key{}, g), g, cancel
}

// Ambiguous returns the outcome of an ambiguous first attempt, if there was one.
func (g *Guard) Ambiguous() (Outcome, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.outcome, g.done
}

func (t transport) RoundTrip(req *http.Request) (*http.Response, error) {
	g, _ := req.Context().Value(key{}).(*Guard)
	if g == nil {
		return t.next.RoundTrip(req)
	}
	resp, err := t.next.RoundTrip(req)
	if err == nil && (resp.StatusCode < 500 || resp.StatusCode == http.StatusNotImplemented) {
		return resp, nil
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.done = true
	h := req.Header.Clone()
	if err != nil {
		g.outcome = Outcome{Err: err, Header: h}
	} else {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		_ = resp.Body.Close()
		for k, v := range resp.Header {
			h[k] = v
		}
		g.outcome = Outcome{Status: resp.StatusCode, Header: h, Body: body}
		// The answer is in the outcome; handing it on too would make
		// net/http log "returned a response & error".
		err = fmt.Errorf("%w: HTTP %d", ErrNotResent, resp.StatusCode)
	}
	g.cancel() // the retry policies give up on a cancelled context
	return nil, err
}

// ErrNotResent is the transport error a marked call sees in place of an
// ambiguous 5xx answer; the answer itself is in the Guard's Outcome.
var ErrNotResent = errors.New("once: ambiguous answer, not resent")
