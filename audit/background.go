package audit

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"time"

	"github.com/IBM/go-sdk-core/v5/core"
	"github.com/IBM/logs-go-sdk/logsv0"
	"github.com/go-openapi/strfmt"
)

// BackgroundState is where a background query stands.
type BackgroundState string

// The states of a background query.
const (
	BackgroundWaiting   BackgroundState = "waiting"
	BackgroundRunning   BackgroundState = "running"
	BackgroundSucceeded BackgroundState = "succeeded"
	BackgroundFailed    BackgroundState = "failed"
	BackgroundTimedOut  BackgroundState = "timed out"
	BackgroundCancelled BackgroundState = "cancelled"
)

// Done reports whether the query has terminated.
func (s BackgroundState) Done() bool {
	return s != BackgroundWaiting && s != BackgroundRunning
}

// BackgroundStatus is a background query's status.
type BackgroundStatus struct {
	State        BackgroundState
	SubmittedAt  time.Time
	RunningSince time.Time // zero while waiting
	TerminatedAt time.Time // zero until done
	Reason       string    // why it failed, when it did
	Warnings     []Warning
	limitHit     bool
}

// BackgroundQuery is a query submitted to run asynchronously, the way to
// search the archive tier at length. Poll it with Status or Wait, read it
// with Events, stop it with Cancel.
type BackgroundQuery struct {
	ID string
	c  *Client
	q  Query
}

// Background submits q as a background query. The tier is always the
// archive; q.Limit is part of the query text.
func (c *Client) Background(ctx context.Context, q Query) (*BackgroundQuery, error) {
	text, err := q.DataPrime()
	if err != nil {
		return nil, err
	}
	start := strfmt.DateTime(q.Start.UTC().Truncate(time.Millisecond))
	end := strfmt.DateTime(ceilMillis(q.End.UTC()))
	opts := c.logs.NewSubmitBackgroundQueryOptions(text, logsv0.SubmitBackgroundQueryOptions_Syntax_Dataprime).
		SetStartDate(&start).SetEndDate(&end)
	var id string
	err = c.retry(ctx, func() error {
		res, _, err := c.logs.SubmitBackgroundQueryWithContext(ctx, opts)
		if err != nil {
			return c.callError(ctx, err, "")
		}
		if res == nil || res.QueryID == nil || res.QueryID.String() == "" {
			return &QueryError{Kind: ErrMalformedStream, Message: "the submission answer has no query_id"}
		}
		id = res.QueryID.String()
		return nil
	})
	if err != nil {
		if qe, ok := err.(*QueryError); ok {
			qe.Start, qe.End = q.Start, q.End
		}
		return nil, err
	}
	return &BackgroundQuery{ID: id, c: c, q: q}, nil
}

// callError classifies the error of a plain (non-streaming) SDK call.
func (c *Client) callError(ctx context.Context, err error, queryID string) error {
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	return c.classify(err, &bodyTrack{responded: isHTTPProblem(err)}, &streamState{queryID: queryID})
}

func isHTTPProblem(err error) bool {
	var hp *core.HTTPProblem
	return errors.As(err, &hp)
}

// Status asks the service where the query stands.
func (b *BackgroundQuery) Status(ctx context.Context) (BackgroundStatus, error) {
	id := strfmt.UUID(b.ID)
	opts := b.c.logs.NewGetBackgroundQueryStatusOptions(&id)
	var st BackgroundStatus
	err := b.c.retry(ctx, func() error {
		res, _, err := b.c.logs.GetBackgroundQueryStatusWithContext(ctx, opts)
		if err != nil {
			return b.c.callError(ctx, err, b.ID)
		}
		s, ok := res.(*logsv0.BackgroundQueryStatus)
		if !ok || s == nil {
			return &QueryError{Kind: ErrMalformedStream, QueryID: b.ID, Message: "an empty status answer"}
		}
		st, err = decodeStatus(s)
		if err != nil {
			return &QueryError{Kind: ErrMalformedStream, QueryID: b.ID, Message: err.Error()}
		}
		return nil
	})
	return st, err
}

func decodeStatus(s *logsv0.BackgroundQueryStatus) (BackgroundStatus, error) {
	var st BackgroundStatus
	if s.SubmittedAt != nil {
		st.SubmittedAt = time.Time(*s.SubmittedAt)
	}
	for _, w := range s.Warnings {
		if w, ok := w.(*logsv0.ApisDataprimeV1DataprimeWarning); ok && w != nil {
			st.Warnings = append(st.Warnings, warnings(w)...)
			st.limitHit = st.limitHit || w.NumberOfResultsLimitWarning != nil
		}
	}
	switch {
	case s.Terminated != nil:
		t, ok := s.Terminated.(*logsv0.ApisDataprimeV1GetBackgroundQueryStatusResponseTerminated)
		if !ok || t == nil {
			return st, fmt.Errorf("a terminated status of unknown shape")
		}
		if t.RunningSince != nil {
			st.RunningSince = time.Time(*t.RunningSince)
		}
		if t.TerminatedAt != nil {
			st.TerminatedAt = time.Time(*t.TerminatedAt)
		}
		switch {
		case t.Success != nil:
			st.State = BackgroundSucceeded
		case t.Cancelled != nil:
			st.State = BackgroundCancelled
		case t.Error != nil:
			st.State = BackgroundFailed
			if e, ok := t.Error.(*logsv0.ApisDataprimeV1GetBackgroundQueryStatusResponseTerminatedError); ok && e != nil {
				switch {
				case e.TimedOut != nil:
					st.State = BackgroundTimedOut
				case e.Cancelled != nil:
					st.State = BackgroundCancelled
				case e.Failed != nil && e.Failed.Reason != nil:
					st.Reason = *e.Failed.Reason
				}
			}
		default:
			return st, fmt.Errorf("a terminated status without success, error or cancelled")
		}
	case s.Running != nil:
		st.State = BackgroundRunning
		if s.Running.RunningSince != nil {
			st.RunningSince = time.Time(*s.Running.RunningSince)
		}
	case s.WaitingForExecution != nil:
		st.State = BackgroundWaiting
	default:
		return st, fmt.Errorf("a status that is neither waiting, running nor terminated")
	}
	return st, nil
}

// Wait polls the status every Config.PollInterval until the query
// terminates. It returns the final status, and a *BackgroundError when the
// query did not succeed.
func (b *BackgroundQuery) Wait(ctx context.Context) (BackgroundStatus, error) {
	t := time.NewTicker(b.c.cfg.PollInterval)
	defer t.Stop()
	for {
		st, err := b.Status(ctx)
		if err != nil {
			return st, err
		}
		if st.State.Done() {
			if st.State != BackgroundSucceeded {
				return st, &BackgroundError{QueryID: b.ID, State: st.State, Reason: st.Reason}
			}
			return st, nil
		}
		select {
		case <-ctx.Done():
			return st, context.Cause(ctx)
		case <-t.C:
		}
	}
}

// Cancel stops the query if it is still waiting or running.
func (b *BackgroundQuery) Cancel(ctx context.Context) error {
	id := strfmt.UUID(b.ID)
	opts := b.c.logs.NewCancelBackgroundQueryOptions(&id)
	return b.c.retry(ctx, func() error {
		if _, err := b.c.logs.CancelBackgroundQueryWithContext(ctx, opts); err != nil {
			return b.c.callError(ctx, err, b.ID)
		}
		return nil
	})
}

// Events streams the results of a query that succeeded (see Wait). When
// the service or Query.Limit cut the results short, they end with a
// *TruncatedError.
func (b *BackgroundQuery) Events(ctx context.Context) iter.Seq2[Event, error] {
	return func(yield func(Event, error) bool) {
		st, err := b.Status(ctx)
		if err == nil && st.State != BackgroundSucceeded {
			err = &BackgroundError{QueryID: b.ID, State: st.State, Reason: st.Reason}
		}
		if err != nil {
			yield(Event{}, err)
			return
		}
		id := strfmt.UUID(b.ID)
		opts := b.c.logs.NewGetBackgroundQueryDataOptions(&id)
		count, stopped, userLimit := 0, false, false
		seen := newDedup()
		err = b.c.retry(ctx, func() error {
			att := seen.attempt()
			ss := streamState{queryID: b.ID}
			return b.c.run(ctx, func(ctx context.Context, cb logsv0.QueryCallBack) {
				b.c.logs.GetBackgroundQueryDataWithContext(ctx, opts, cb)
			}, &ss, func(ev Event, key string) bool {
				if !att.fresh(key) {
					return true // sent again by a retry
				}
				if !ev.Time.IsZero() && (ev.Time.Before(b.q.Start) || !ev.Time.Before(b.q.End)) {
					return true
				}
				if b.q.Limit > 0 && count == b.q.Limit {
					userLimit = true
					return false
				}
				count++
				if !yield(ev, nil) {
					stopped = true
					return false
				}
				return true
			})
		})
		switch {
		case stopped:
		case err != nil:
			if qe, ok := err.(*QueryError); ok {
				qe.Start, qe.End = b.q.Start, b.q.End
			}
			yield(Event{}, err)
		case userLimit || (st.limitHit && b.q.Limit > 0 && count == b.q.Limit):
			yield(Event{}, &TruncatedError{Limit: b.q.Limit, Start: b.q.Start, End: b.q.End})
		case st.limitHit:
			yield(Event{}, &TruncatedError{Limit: count, Start: b.q.Start, End: b.q.End, ByService: true})
		}
	}
}

// BackgroundEvents submits q as a background query, waits for it and
// streams its results. When ctx ends before the query terminates, the
// query is cancelled (best effort); nothing is yielded until then.
func (c *Client) BackgroundEvents(ctx context.Context, q Query) iter.Seq2[Event, error] {
	return func(yield func(Event, error) bool) {
		b, err := c.Background(ctx, q)
		if err != nil {
			yield(Event{}, err)
			return
		}
		if _, err := b.Wait(ctx); err != nil {
			if ctx.Err() != nil {
				// Best effort, on a context of its own: ours is over.
				cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
				_ = b.Cancel(cctx)
				cancel()
			}
			yield(Event{}, err)
			return
		}
		for ev, err := range b.Events(ctx) {
			if !yield(ev, err) {
				return
			}
		}
	}
}
