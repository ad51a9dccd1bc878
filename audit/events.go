package audit

import (
	"context"
	"fmt"
	"iter"
	"time"

	"github.com/IBM/go-sdk-core/v5/core"
	"github.com/IBM/logs-go-sdk/logsv0"
	"github.com/go-openapi/strfmt"
)

// Events streams the events q selects, as the service sends them: ranges
// longer than Config.Window are queried window by window in time order, and
// a window that holds more than Config.PageSize events is split in halves
// and queried again, skipping events already delivered. Retryable failures
// (429, 5xx, a connection that fails, a stream that is cut or goes idle)
// are retried up to Config.MaxRetries times; a retried window skips the
// events it had already delivered. The sequence ends after an error: a
// *QueryError, a *TruncatedError, an ErrInvalidQuery, or the context's
// error. Breaking out of the loop stops the stream.
func (c *Client) Events(ctx context.Context, q Query) iter.Seq2[Event, error] {
	return func(yield func(Event, error) bool) {
		if err := q.validate(); err != nil {
			yield(Event{}, err)
			return
		}
		if n := q.End.Sub(q.Start) / c.cfg.Window; n > maxWindows {
			yield(Event{}, fmt.Errorf("%w: %s to %s spans %d windows of %v (at most %d): narrow the range or raise Config.Window",
				ErrInvalidQuery, q.Start.Format(time.RFC3339), q.End.Format(time.RFC3339), n, c.cfg.Window, maxWindows))
			return
		}
		filter := q
		filter.Limit = 0 // the limit travels in the metadata, per window
		text, _ := filter.DataPrime()
		p := &pager{c: c, q: q, text: text, yield: yield}
		start, end := q.Start.UTC().Truncate(time.Millisecond), ceilMillis(q.End.UTC())
		for ws := start; ws.Before(end); {
			we := ws.Add(c.cfg.Window).Truncate(time.Millisecond)
			if we.After(end) {
				we = end
			}
			p.seen = newDedup()
			if !p.window(ctx, ws, we, 0) {
				return
			}
			ws = we
		}
	}
}

// ceilMillis rounds t up to the millisecond, the resolution of the
// service's time range.
func ceilMillis(t time.Time) time.Time {
	tt := t.Truncate(time.Millisecond)
	if tt.Equal(t) {
		return t
	}
	return tt.Add(time.Millisecond)
}

// pager runs the queries of one Events call.
type pager struct {
	c     *Client
	q     Query
	text  string
	yield func(Event, error) bool

	count int    // events yielded
	seen  *dedup // records delivered from the current top-level window
}

// maxWindows bounds the queries of one range, so that a wrong Start (a zero
// time, a typo in the year) fails at once instead of querying for hours.
const maxWindows = 10000

// maxSplits bounds how often a window is halved (2^-20 of a day is about
// 80 ms), so that a service that keeps saying "truncated" cannot make the
// client query without end.
const maxSplits = 20

// window queries [ws, we), split depth times already; false means the
// iteration is over.
func (p *pager) window(ctx context.Context, ws, we time.Time, depth int) bool {
	limit := p.c.cfg.PageSize
	if p.q.Limit > 0 {
		// One more than wanted tells whether more matched.
		if l := p.q.Limit - p.count + 1 + p.seen.total; l < limit {
			limit = l
		}
	}
	var st streamState
	userLimit, stopped := false, false
	var att *dedupAttempt
	onEvent := func(ev Event, key string) bool {
		if !att.fresh(key) {
			return true // delivered by an earlier attempt or an enclosing window
		}
		if !ev.Time.IsZero() && (ev.Time.Before(p.q.Start) || !ev.Time.Before(p.q.End)) {
			return true // the service's range has millisecond resolution
		}
		if p.q.Limit > 0 && p.count == p.q.Limit {
			userLimit = true
			return false
		}
		p.count++
		if !p.yield(ev, nil) {
			stopped = true
			return false
		}
		return true
	}
	err := p.c.retry(ctx, func() error {
		st, att = streamState{}, p.seen.attempt()
		return p.c.query(ctx, p.text, ws, we, limit, p.q.Tier, &st, onEvent)
	})
	switch {
	case stopped:
		return false
	case userLimit:
		p.yield(Event{}, &TruncatedError{Limit: p.q.Limit, Start: p.q.Start, End: p.q.End})
		return false
	case err != nil:
		if qe, ok := err.(*QueryError); ok {
			qe.Start, qe.End = ws, we
		}
		p.yield(Event{}, err)
		return false
	case st.limitHit == 0:
		return true
	}
	mid := ws.Add(we.Sub(ws) / 2).Truncate(time.Millisecond)
	// Splitting helps only when the service filled the page.
	if !mid.After(ws) || depth >= maxSplits || st.received < limit {
		p.yield(Event{}, &TruncatedError{Limit: limit, Start: ws, End: we, ByService: true})
		return false
	}
	return p.window(ctx, ws, mid, depth+1) && p.window(ctx, mid, we, depth+1)
}

// query sends one streaming query over [ws, we).
func (c *Client) query(ctx context.Context, text string, ws, we time.Time, limit int, tier Tier,
	st *streamState, onEvent func(Event, string) bool) error {
	if tier == "" {
		tier = TierFrequentSearch
	}
	start, end := strfmt.DateTime(ws), strfmt.DateTime(we)
	opts := c.logs.NewQueryOptions().SetQuery(text).SetMetadata(&logsv0.ApisDataprimeV1Metadata{
		StartDate: &start,
		EndDate:   &end,
		Tier:      core.StringPtr(string(tier)),
		Syntax:    core.StringPtr(logsv0.ApisDataprimeV1Metadata_Syntax_Dataprime),
		Limit:     core.Int64Ptr(int64(limit)),
	})
	return c.run(ctx, func(ctx context.Context, cb logsv0.QueryCallBack) {
		c.logs.QueryWithContext(ctx, opts, cb)
	}, st, onEvent)
}
