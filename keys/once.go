package keys

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"

	kp "github.com/IBM/keyprotect-go-client"
)

// ErrOutcomeUnknown: a call that creates something (a root key) failed in a
// way that leaves open whether it took effect — the connection dropped or
// the service answered 5xx — so it was not retried, as a retry could create
// a second key. Look before trying again (EnsureRootKey does).
var ErrOutcomeUnknown = errors.New("keys: outcome unknown")

// The kp client retries every request on connection errors and 5xx
// (go-retryablehttp), POSTs included, so a createKey whose answer was lost
// is sent again and leaves a duplicate root key behind (Key Protect does
// not make names unique). onceTransport stops that for the calls marked by
// once: after an ambiguous first attempt it records the outcome and cancels
// the call's context, the one thing kp's retry policy honours. 429 is still
// retried: the service refused the request before executing it.
type onceTransport struct{ next http.RoundTripper }

type onceKey struct{}

// onceGuard is the state of one call made with once.
type onceGuard struct {
	cancel context.CancelFunc

	mu     sync.Mutex
	status int    // the 5xx status of the first attempt
	body   []byte // head of its body (Key Protect's error envelope)
	corrID string
	err    error // the transport error of the first attempt
}

// once returns ctx for a call that must reach Key Protect at most once, and
// the guard to ask afterwards; call done when the call has returned.
func once(ctx context.Context) (actx context.Context, g *onceGuard, done func()) {
	cctx, cancel := context.WithCancel(ctx)
	g = &onceGuard{cancel: cancel}
	return context.WithValue(cctx, onceKey{}, g), g, cancel
}

func (t onceTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	g, _ := req.Context().Value(onceKey{}).(*onceGuard)
	if g == nil {
		return t.next.RoundTrip(req)
	}
	resp, err := t.next.RoundTrip(req)
	ambiguous := err != nil || (resp.StatusCode >= 500 && resp.StatusCode != http.StatusNotImplemented)
	if !ambiguous {
		return resp, nil
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.corrID = req.Header.Get("correlation-id")
	if err != nil {
		g.err = err
	} else {
		g.status = resp.StatusCode
		g.body, _ = io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		_ = resp.Body.Close()
		resp.Body = io.NopCloser(strings.NewReader(string(g.body)))
	}
	g.cancel() // kp's retry policy gives up on a cancelled context
	return resp, err
}

// outcome returns the typed error of an ambiguous first attempt, or nil
// when the call failed some other way (then convert kp's error as usual).
func (g *onceGuard) outcome(op string) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.err != nil {
		return fmt.Errorf("keys: %s (correlation-id %s): %w: not retried as it may have taken effect: %w",
			op, g.corrID, ErrOutcomeUnknown, g.err)
	}
	if g.status == 0 {
		return nil
	}
	se := &ServiceError{Op: op, Status: g.status, CorrelationID: g.corrID, Err: ErrOutcomeUnknown}
	var env struct {
		Resources []struct {
			ErrorMsg string `json:"errorMsg"`
			Reasons  []struct {
				Code    string `json:"code"`
				Message string `json:"message"`
			} `json:"reasons"`
		} `json:"resources"`
	}
	if json.Unmarshal(g.body, &env) == nil && len(env.Resources) > 0 {
		se.Message = env.Resources[0].ErrorMsg
		for _, r := range env.Resources[0].Reasons {
			se.Reasons = append(se.Reasons, Reason{Code: r.Code, Message: r.Message})
		}
	}
	if se.Message == "" {
		se.Message = http.StatusText(g.status) + " (not retried: it may have taken effect)"
	}
	return se
}

// convert is convertError for a call made with once: an ambiguous first
// attempt, or any failure that is not an answer of the service (a body cut
// short, a garbled 2xx), wraps ErrOutcomeUnknown.
func (g *onceGuard) convert(ctx context.Context, op string, err error) error {
	if ctx.Err() != nil {
		return convertError(ctx, op, "", err)
	}
	if oerr := g.outcome(op); oerr != nil {
		return oerr
	}
	var kerr *kp.Error
	if !errors.As(err, &kerr) {
		return fmt.Errorf("keys: %s: %w: the answer was lost, and the call not retried as it may have taken effect: %w",
			op, ErrOutcomeUnknown, err)
	}
	return convertError(ctx, op, "", err)
}
