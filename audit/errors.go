package audit

import (
	"errors"
	"fmt"
	"time"
)

// Sentinel errors; test for them with errors.Is.
var (
	// ErrInvalidConfig: a Config that NewClient cannot use.
	ErrInvalidConfig = errors.New("audit: invalid config")
	// ErrInvalidQuery: a Query or Run that cannot be sent (no time range,
	// an empty value, a value no query language can carry).
	ErrInvalidQuery = errors.New("audit: invalid query")
	// ErrTruncated: more events matched than were returned, because of
	// Query.Limit or a service limit that splitting the time window could
	// not get under. The events already yielded are valid.
	ErrTruncated = errors.New("audit: results truncated")
	// ErrMalformedStream: the service sent a stream line or item that is
	// not what Cloud Logs sends.
	ErrMalformedStream = errors.New("audit: malformed event stream")
	// ErrStreamCut: the connection broke in the middle of the stream. The
	// query is retried when none of its events had been delivered yet.
	ErrStreamCut = errors.New("audit: event stream cut")
	// ErrIdle: neither data nor a keep-alive arrived within
	// Config.IdleTimeout.
	ErrIdle = errors.New("audit: event stream idle")
	// ErrQueryFailed: the service refused or failed the query (an HTTP
	// error or an error item in the stream).
	ErrQueryFailed = errors.New("audit: query failed")
	// ErrBackgroundFailed: a background query ended failed, timed out or
	// cancelled.
	ErrBackgroundFailed = errors.New("audit: background query did not succeed")
)

// QueryError is a failed query, with what the service said about it.
// It unwraps to one of the sentinels above, and to the cause when there is
// one (a network error, a context error).
type QueryError struct {
	QueryID    string    // the ID the service gave the query, when it sent one
	Start, End time.Time // the time window being queried
	Status     int       // the HTTP status; 0 when the failure came later
	Code       string    // the Cloud Logs error code, when it sent one
	Message    string    // the service's message or the cause
	Received   int       // events delivered from this window before the failure
	Attempts   int       // how many times the query was sent
	Kind       error     // the sentinel: ErrQueryFailed, ErrMalformedStream, …
	Err        error     // the underlying cause, if any

	retryable  bool
	retryAfter time.Duration
}

func (e *QueryError) Error() string {
	s := e.Kind.Error()
	if e.Status != 0 {
		s += fmt.Sprintf(": HTTP %d", e.Status)
	}
	if e.Code != "" {
		s += " " + e.Code
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	s += fmt.Sprintf(" (window %s to %s", e.Start.UTC().Format(time.RFC3339), e.End.UTC().Format(time.RFC3339))
	if e.QueryID != "" {
		s += ", query " + e.QueryID
	}
	if e.Attempts > 1 {
		s += fmt.Sprintf(", %d attempts", e.Attempts)
	}
	if e.Received > 0 {
		s += fmt.Sprintf(", after %d events", e.Received)
	}
	return s + ")"
}

// Unwrap returns the sentinel and the cause.
func (e *QueryError) Unwrap() []error {
	if e.Err != nil {
		return []error{e.Kind, e.Err}
	}
	return []error{e.Kind}
}

// TruncatedError says results were cut short. It unwraps to ErrTruncated.
type TruncatedError struct {
	Limit      int       // the limit that was reached
	Start, End time.Time // the window that held more events than Limit
	ByService  bool      // the service's limit (not Query.Limit) was reached
}

func (e *TruncatedError) Error() string {
	who := "Query.Limit"
	if e.ByService {
		who = "the service's limit"
	}
	return fmt.Sprintf("audit: results truncated: more events than %s of %d between %s and %s",
		who, e.Limit, e.Start.UTC().Format(time.RFC3339Nano), e.End.UTC().Format(time.RFC3339Nano))
}

// Unwrap returns ErrTruncated.
func (e *TruncatedError) Unwrap() error { return ErrTruncated }

// BackgroundError is a background query that did not succeed.
type BackgroundError struct {
	QueryID string
	State   BackgroundState
	Reason  string // the service's reason, for failed queries
}

func (e *BackgroundError) Error() string {
	s := "audit: background query " + e.QueryID + " " + string(e.State)
	if e.Reason != "" {
		s += ": " + e.Reason
	}
	return s
}

// Unwrap returns ErrBackgroundFailed.
func (e *BackgroundError) Unwrap() error { return ErrBackgroundFailed }
