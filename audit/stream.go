package audit

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/IBM/go-sdk-core/v5/core"
	"github.com/IBM/logs-go-sdk/logsv0"
)

// The SDK's streaming calls (Query, GetBackgroundQueryData) report through
// callbacks on a goroutine of their own. run bridges them to the caller's
// goroutine through an unbuffered channel, so events are yielded where the
// caller iterates, one at a time, with back-pressure on the stream.

// sdkMsg is one callback of the SDK.
type sdkMsg struct {
	item      *logsv0.QueryResponseStreamItem
	bg        *logsv0.ResponseData
	keepAlive bool
	err       error
}

type sdkCallback struct {
	ctx context.Context
	ch  chan<- sdkMsg
}

func (cb *sdkCallback) send(m sdkMsg) {
	select {
	case cb.ch <- m:
	case <-cb.ctx.Done():
	}
}

func (cb *sdkCallback) OnClose()          {}
func (cb *sdkCallback) OnKeepAlive()      { cb.send(sdkMsg{keepAlive: true}) }
func (cb *sdkCallback) OnError(err error) { cb.send(sdkMsg{err: err}) }
func (cb *sdkCallback) OnData(r *core.DetailedResponse) {
	switch v := r.Result.(type) {
	case *logsv0.QueryResponseStreamItem:
		if v != nil {
			cb.send(sdkMsg{item: v})
			return
		}
	case logsv0.ResponseData:
		cb.send(sdkMsg{bg: &v})
		return
	}
	cb.send(sdkMsg{err: &parseError{fmt.Sprintf("an item that is not an object: %.200q", r.RawResult)}})
}

// parseError is a stream item the client cannot use.
type parseError struct{ msg string }

func (e *parseError) Error() string { return e.msg }

// bodyTrack records what happened to one request's response, so a failure
// reported by the SDK can be told apart: no answer, a cut body, or a
// malformed stream.
type bodyTrack struct {
	mu        sync.Mutex
	responded bool
	readErr   error
}

type trackKey struct{}

// trackingTransport wraps response bodies of tracked requests.
type trackingTransport struct{ base http.RoundTripper }

func (t *trackingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if tr, ok := req.Context().Value(trackKey{}).(*bodyTrack); ok && err == nil {
		tr.mu.Lock()
		tr.responded = true
		tr.mu.Unlock()
		resp.Body = &trackedBody{ReadCloser: resp.Body, tr: tr}
	}
	return resp, err
}

type trackedBody struct {
	io.ReadCloser
	tr *bodyTrack
}

func (b *trackedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && err != io.EOF {
		b.tr.mu.Lock()
		if b.tr.readErr == nil {
			b.tr.readErr = err
		}
		b.tr.mu.Unlock()
	}
	return n, err
}

// streamState is what one stream said besides its events.
type streamState struct {
	queryID  string
	received int   // events handed to onEvent
	limitHit int64 // number_of_results_limit of a warning; 0 when none
	stopped  bool  // onEvent asked to stop
}

// errStopped cancels a stream the consumer no longer wants.
var errStopped = errors.New("audit: stream no longer wanted")

// run performs one streaming call and hands each event, with its
// de-duplication key, to onEvent until it returns false. It returns a
// *QueryError (Start/End unset), or the context's error.
func (c *Client) run(ctx context.Context, call func(context.Context, logsv0.QueryCallBack),
	st *streamState, onEvent func(Event, string) bool) error {
	parent := ctx
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	track := &bodyTrack{}
	ctx = context.WithValue(ctx, trackKey{}, track)
	ch := make(chan sdkMsg)
	go func() {
		defer close(ch)
		call(ctx, &sdkCallback{ctx: ctx, ch: ch})
	}()
	idle := time.NewTimer(c.cfg.IdleTimeout)
	defer idle.Stop()

	var failure error
	done := false // we ended the stream: drain what is left
	stop := func(err error) {
		if !done {
			done, failure = true, err
			cancel(errStopped)
		}
	}
	for {
		select {
		case <-idle.C:
			stop(&QueryError{Kind: ErrIdle, Message: "no data or keep-alive for " + c.cfg.IdleTimeout.String(),
				QueryID: st.queryID, Received: st.received, retryable: true})
			continue
		case m, ok := <-ch:
			if !ok {
				if !done && parent.Err() != nil {
					return context.Cause(parent)
				}
				return failure
			}
			if done {
				continue
			}
			switch {
			case m.keepAlive:
			case m.err != nil:
				if parent.Err() != nil {
					done, failure = true, context.Cause(parent)
					continue
				}
				stop(c.classify(m.err, track, st))
			case m.bg != nil:
				for i := range m.bg.Results.Results {
					if !c.deliver(&m.bg.Results.Results[i], st, onEvent, stop) {
						break
					}
				}
			default:
				c.handleItem(m.item, st, onEvent, stop)
			}
			// Only now: the time the consumer spent on the events is not
			// the stream's idleness.
			idle.Reset(c.cfg.IdleTimeout)
		}
	}
}

// handleItem acts on one item of a query stream.
func (c *Client) handleItem(it *logsv0.QueryResponseStreamItem, st *streamState,
	onEvent func(Event, string) bool, stop func(error)) {
	known := false
	if it.QueryID != nil && it.QueryID.QueryID != nil {
		known, st.queryID = true, *it.QueryID.QueryID
	}
	if w, ok := it.Warning.(*logsv0.ApisDataprimeV1DataprimeWarning); ok && w != nil {
		known = true
		for _, warn := range warnings(w) {
			if c.cfg.OnWarning != nil {
				c.cfg.OnWarning(warn)
			}
		}
		if l := w.NumberOfResultsLimitWarning; l != nil {
			st.limitHit = 1
			if l.NumberOfResultsLimit != nil && *l.NumberOfResultsLimit > 0 {
				st.limitHit = *l.NumberOfResultsLimit
			}
		}
	}
	if it.Error != nil {
		msg := "the service reported an error"
		if it.Error.Message != nil {
			msg = *it.Error.Message
		}
		stop(&QueryError{Kind: ErrQueryFailed, Message: msg, QueryID: st.queryID, Received: st.received})
		return
	}
	if len(it.Errors) > 0 {
		qe := &QueryError{Kind: ErrQueryFailed, QueryID: st.queryID, Received: st.received}
		if it.StatusCode != nil {
			qe.Status = int(*it.StatusCode)
		}
		if e := it.Errors[0]; e.Code != nil {
			qe.Code = *e.Code
		}
		if e := it.Errors[0]; e.Message != nil {
			qe.Message = *e.Message
		}
		stop(qe)
		return
	}
	if it.Result != nil {
		for i := range it.Result.Results {
			if !c.deliver(&it.Result.Results[i], st, onEvent, stop) {
				return
			}
		}
		return
	}
	if !known {
		stop(&QueryError{Kind: ErrMalformedStream, Message: "an item with none of query_id, result, warning, error",
			QueryID: st.queryID, Received: st.received})
	}
}

// deliver decodes one result and hands it on; false means stop.
func (c *Client) deliver(r *logsv0.ApisDataprimeV1DataprimeResults, st *streamState,
	onEvent func(Event, string) bool, stop func(error)) bool {
	ev, err := decodeEvent(r)
	if err != nil {
		stop(&QueryError{Kind: ErrMalformedStream, Message: err.Error(), QueryID: st.queryID, Received: st.received})
		return false
	}
	st.received++
	if !onEvent(ev, eventKey(r, ev.Raw)) {
		st.stopped = true
		stop(nil)
		return false
	}
	return true
}

// eventKey identifies a record across queries by a digest of its log ID
// and content (16 bytes: memory for de-duplication stays small).
func eventKey(r *logsv0.ApisDataprimeV1DataprimeResults, raw []byte) string {
	h := sha256.New()
	for _, kv := range r.Metadata {
		if kv.Key != nil && kv.Value != nil && *kv.Key == "logid" {
			h.Write([]byte(*kv.Value))
		}
	}
	h.Write([]byte{0})
	h.Write(raw)
	return string(h.Sum(nil)[:16])
}

// dedup remembers the records delivered from one time window, so that the
// window can be queried again (after a failure, or in halves) without
// delivering a record twice. It counts: two identical records are both
// delivered. Its memory grows with the records of one window.
type dedup struct {
	seen  map[string]int
	total int
}

func newDedup() *dedup { return &dedup{seen: map[string]int{}} }

// attempt starts a query (or a retry) over the window or a part of it.
func (d *dedup) attempt() *dedupAttempt { return &dedupAttempt{d: d, local: map[string]int{}} }

type dedupAttempt struct {
	d     *dedup
	local map[string]int
}

// fresh reports whether a record was not delivered before, and marks it so.
func (a *dedupAttempt) fresh(key string) bool {
	a.local[key]++
	if a.local[key] <= a.d.seen[key] {
		return false
	}
	a.d.seen[key]++
	a.d.total++
	return true
}

var sdkComponent = core.NewProblemComponent("github.com/e2eimage/e2e/audit", "")

// classify turns an error the SDK reported into a *QueryError.
func (c *Client) classify(err error, track *bodyTrack, st *streamState) error {
	qe := &QueryError{Kind: ErrQueryFailed, QueryID: st.queryID, Received: st.received, Err: err}
	track.mu.Lock()
	responded, readErr := track.responded, track.readErr
	track.mu.Unlock()
	var hp *core.HTTPProblem
	var pe *parseError
	// The SDK hands streaming errors over from its core as is; wrapping one
	// surfaces the HTTP problem the core keeps inside.
	wrapped := core.SDKErrorf(err, "", "audit-query", sdkComponent)
	switch {
	case errors.As(wrapped, &hp) && hp.Response != nil:
		qe.Status = hp.Response.StatusCode
		qe.Message = hp.Summary
		qe.Err = nil // the status and message say it all
		if m, ok := hp.Response.Result.(map[string]any); ok {
			if errs, ok := m["errors"].([]any); ok && len(errs) > 0 {
				if e, ok := errs[0].(map[string]any); ok {
					qe.Code, _ = e["code"].(string)
				}
			}
		}
		s := qe.Status
		qe.retryable = s == http.StatusTooManyRequests || (s >= 500 && s != http.StatusNotImplemented)
		if ra := hp.Response.Headers.Get("Retry-After"); ra != "" {
			if secs, err := strconv.Atoi(ra); err == nil && secs >= 0 {
				qe.retryAfter = time.Duration(secs) * time.Second
			}
		}
	case readErr != nil:
		qe.Kind, qe.Message = ErrStreamCut, "reading the stream: "+readErr.Error()
		qe.Err = readErr
		qe.retryable = true // callers de-duplicate what a retry sends again
	case !responded && errors.As(err, &pe):
		qe.Kind, qe.Message, qe.Err = ErrMalformedStream, pe.msg, nil
	case !responded:
		qe.Message = "no response: " + err.Error()
		qe.retryable = true
	case errors.As(err, &pe):
		qe.Kind, qe.Message, qe.Err = ErrMalformedStream, pe.msg, nil
	default:
		// A line or item the SDK could not parse.
		qe.Kind, qe.Message, qe.Err = ErrMalformedStream, string(bytes.TrimSpace([]byte(err.Error()))), nil
	}
	return qe
}

// warnings lists the warnings one warning item carries.
func warnings(w *logsv0.ApisDataprimeV1DataprimeWarning) []Warning {
	var out []Warning
	add := func(kind string, msg *string, def string) {
		if msg != nil {
			def = *msg
		}
		out = append(out, Warning{Kind: kind, Message: def})
	}
	if w.CompileWarning != nil {
		add("compile", w.CompileWarning.WarningMessage, "")
	}
	if w.TimeRangeWarning != nil {
		add("time_range", w.TimeRangeWarning.WarningMessage, "")
	}
	if w.NumberOfResultsLimitWarning != nil {
		n := "the number of results reached the limit"
		if l := w.NumberOfResultsLimitWarning.NumberOfResultsLimit; l != nil {
			n = "the number of results reached the limit of " + strconv.FormatInt(*l, 10)
		}
		add("number_of_results_limit", nil, n)
	}
	if w.BytesScannedLimitWarning != nil {
		add("bytes_scanned_limit", nil, "the query reached the limit of bytes scanned; results may be missing")
	}
	if w.DeprecationWarning != nil {
		add("deprecation", w.DeprecationWarning.WarningMessage, "")
	}
	if w.BlocksLimitWarning != nil {
		add("blocks_limit", nil, "the query reached the limit of blocks read; results may be missing")
	}
	if w.ArchiveWarning != nil {
		add("archive", nil, "the archive could not be read completely; results may be missing")
	}
	if w.ScrollTimeoutWarning != nil {
		add("scroll_timeout", nil, "the search timed out; results may be missing")
	}
	if w.FilesReadLimitWarning != nil {
		add("files_read_limit", nil, "the query reached the limit of files read; results may be missing")
	}
	if w.FieldCountLimitWarning != nil {
		add("field_count_limit", nil, "some records have more fields than returned")
	}
	return out
}

// retry runs one attempt after another while the failure is retryable,
// waiting between attempts. Attempts that stream must de-duplicate.
func (c *Client) retry(ctx context.Context, attempt func() error) error {
	for n := 0; ; n++ {
		err := attempt()
		if err == nil {
			return nil
		}
		var qe *QueryError
		if !errors.As(err, &qe) {
			return err
		}
		qe.Attempts = n + 1
		if !qe.retryable || n >= c.cfg.MaxRetries {
			return err
		}
		wait := c.cfg.RetryWait << n
		if qe.retryAfter > wait {
			wait = qe.retryAfter
		}
		if wait > c.cfg.MaxRetryWait || wait <= 0 {
			wait = c.cfg.MaxRetryWait
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return context.Cause(ctx)
		case <-t.C:
		}
	}
}
