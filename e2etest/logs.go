package e2etest

// IBM Cloud Logs query emulation; the query languages are in logs_query.go,
// the background-query API in logs_background.go.

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"
)

// The Cloud Logs endpoint (LogsURL) serves the audit events the cloud
// recorded, as Activity Tracker Event Routing delivers them to IBM Cloud
// Logs: application AuditApplication, subsystem the service name of the
// target CRN (e.g. "kms"), user data the CADF event as JSON.
//
// POST /v1/query answers a server-sent-event stream the way logsv0.Query
// reads it (a query_id item, keep-alives, result items of up to 50 records,
// a number_of_results_limit warning when more matched than the limit). The
// background-query API (/v1/background_query, …/status, …/data, …/cancel)
// runs queries over the archive tier that wait, run and terminate in
// scaled time.
//
// Queries are parsed, not pattern-matched; anything outside this subset is
// refused with a 400 that says where:
//
//   - DataPrime: source logs [| filter COND]... [| limit N], where COND
//     combines with &&, || and ! (and parentheses) comparisons
//     FIELD == LIT, FIELD != LIT and FIELD.startsWith|endsWith|contains('s');
//     FIELD is $d.path (user data), $l.applicationname, $l.subsystemname or
//     $m.severity; LIT is a single-quoted string (escapes \\ \' \" \n \r \t),
//     a number, true or false.
//   - Lucene: field:"phrase" (exact), field:word (with * and ? wildcards,
//     backslash escapes), AND, OR, NOT and parentheses; operators must be
//     explicit. Fields are user-data paths, or
//     coralogix.metadata.applicationName and coralogix.metadata.subsystemName.
//
// Fault operations of ServiceLogs: "query", "submitBackgroundQuery",
// "getBackgroundQueryStatus", "getBackgroundQueryData",
// "cancelBackgroundQuery". A Logs fault with Status 200 answers a stream
// instead of an HTTP error: with Code "malformed" it holds a line clients
// cannot parse, otherwise an {"error":{"message":…}} item with Message.
const (
	// LogsDefaultLimit is the number of results a query returns when its
	// metadata sets no limit.
	LogsDefaultLimit = 2000
	// LogsMaxLimit is the largest limit a query may ask for.
	LogsMaxLimit = 50000
	// LogsFrequentSearchRetention is how far back the frequent_search tier
	// holds events; the archive tier holds them all.
	LogsFrequentSearchRetention = 7 * 24 * time.Hour
	// AuditApplication is the Cloud Logs application name of every
	// Activity Tracker event.
	AuditApplication = "ibm-audit-event"

	logsBatchSize      = 50                     // results per "result" item of the stream
	logsRunTime        = 2 * time.Second        // how long a query "runs" before results (scaled)
	logsKeepAliveEvery = 500 * time.Millisecond // keep-alive period while it runs (scaled)
)

// logsState holds background queries. Guarded by Cloud.mu.
type logsState struct {
	background map[string]*bgQuery
}

// RecordEvent adds an audit event to the cloud's trail, as if a service had
// emitted it, so tests can query events they control. Unset ID, time,
// outcome, severity, reason and initiator are filled in (the initiator is
// the account owner). Its Cloud Logs subsystem is the service name of the
// target CRN, or else one named after Service.
func (c *Cloud) RecordEvent(ev Event) {
	id, _ := c.lookupAPIKey(c.APIKey)
	c.record(nil, id, ev)
}

func (c *Cloud) logsHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/query", c.handleLogsQuery)
	mux.HandleFunc("POST /v1/background_query", c.handleBGSubmit)
	mux.HandleFunc("GET /v1/background_query/{id}/status", c.handleBGStatus)
	mux.HandleFunc("GET /v1/background_query/{id}/data", c.handleBGData)
	mux.HandleFunc("POST /v1/background_query/{id}/cancel", c.handleBGCancel)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeLogsError(w, http.StatusNotFound, "not_found", "no such API: "+r.Method+" "+r.URL.Path)
	})
	return mux
}

// logsErrorCodes are the Cloud Logs API error codes by HTTP status.
var logsErrorCodes = map[int]string{
	400: "bad_request_or_unspecified",
	401: "unauthenticated",
	403: "forbidden",
	404: "not_found",
	409: "conflict",
	429: "resource_exhausted",
	504: "deadline_exceeded",
}

// writeLogsError answers in Cloud Logs' error envelope. Status 200 answers
// an event stream holding an error item (see the file comment), which is how
// a query fails once the service has accepted it.
func writeLogsError(w http.ResponseWriter, status int, code, msg string) {
	if status == http.StatusOK {
		sse := newSSEWriter(w)
		if code == "malformed" {
			sse.raw("data: {\"result\": this is not json\n\n")
			return
		}
		sse.item(map[string]any{"error": map[string]any{"message": msg}})
		return
	}
	if code == "" {
		code = logsErrorCodes[status]
		if code == "" {
			code = "method_internal_error"
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"errors":      []map[string]string{{"code": code, "message": msg}},
		"trace":       randomHex(16),
		"status_code": status,
	})
}

// logsAuth checks the bearer token and answers 401 when it is not good.
func (c *Cloud) logsAuth(w http.ResponseWriter, r *http.Request) bool {
	if _, err := c.authenticate(r); err != nil {
		writeLogsError(w, http.StatusUnauthorized, "unauthenticated", err.Error())
		return false
	}
	return true
}

// queryRequest is the body of POST /v1/query.
type queryRequest struct {
	Query    *string `json:"query"`
	Metadata *struct {
		StartDate string `json:"start_date"`
		EndDate   string `json:"end_date"`
		Tier      string `json:"tier"`
		Syntax    string `json:"syntax"`
		Limit     *int64 `json:"limit"`
	} `json:"metadata"`
}

// logsSearch is a validated query: what to match, where and how many.
type logsSearch struct {
	q          *logQuery
	start, end time.Time
	archive    bool
	limit      int
}

// errBadRequest marks request errors that answer 400.
var errBadRequest = errors.New("bad request")

func badRequest(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{errBadRequest}, args...)...)
}

// parseLogsTime parses a date of a request; empty gives the zero time.
func parseLogsTime(name, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, badRequest("%s %q is not an RFC 3339 date-time", name, s)
	}
	return t, nil
}

// timeRange applies Cloud Logs' defaults: end defaults to now (or start + 15
// minutes), start to end - 15 minutes.
func timeRange(startS, endS string) (time.Time, time.Time, error) {
	start, err := parseLogsTime("start_date", startS)
	if err != nil {
		return start, start, err
	}
	end, err := parseLogsTime("end_date", endS)
	if err != nil {
		return start, end, err
	}
	switch {
	case end.IsZero() && start.IsZero():
		end = time.Now()
		start = end.Add(-15 * time.Minute)
	case end.IsZero():
		end = start.Add(15 * time.Minute)
	case start.IsZero():
		start = end.Add(-15 * time.Minute)
	}
	if !end.After(start) {
		return start, end, badRequest("end_date must be after start_date")
	}
	return start, end, nil
}

func (c *Cloud) handleLogsQuery(w http.ResponseWriter, r *http.Request) {
	w, done := c.applyFault(ServiceLogs, "query", w, r, writeLogsError)
	if done || !c.logsAuth(w, r) {
		return
	}
	var req queryRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&req); err != nil {
		writeLogsError(w, http.StatusBadRequest, "", "the request body is not valid JSON: "+err.Error())
		return
	}
	s, err := parseQueryRequest(&req)
	if err != nil {
		writeLogsError(w, http.StatusBadRequest, "", err.Error())
		return
	}
	docs, truncated := c.search(s)

	sse := newSSEWriter(w)
	sse.raw(": success\n\n")
	sse.item(map[string]any{"query_id": map[string]string{"query_id": newUUID()}})
	// The query "runs" for a moment (2 s, scaled): keep the connection
	// alive meanwhile, as the service does.
	for left := c.scaled(logsRunTime); ; {
		sse.raw(": keepalive\n\n")
		if left <= 0 {
			break
		}
		step := min(left, c.scaled(logsKeepAliveEvery))
		if !c.logsPause(r, step) {
			return
		}
		left -= step
	}
	for i := 0; i < len(docs); i += logsBatchSize {
		batch := docs[i:min(i+logsBatchSize, len(docs))]
		sse.item(map[string]any{"result": map[string]any{"results": renderResults(batch)}})
		if r.Context().Err() != nil {
			return // the client went away
		}
	}
	if truncated {
		sse.item(map[string]any{"warning": map[string]any{
			"number_of_results_limit_warning": map[string]any{"number_of_results_limit": s.limit}}})
	}
}

// logsPause waits d, or reports false when the client or the cloud went away.
func (c *Cloud) logsPause(r *http.Request, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
	case <-c.done:
	}
	return false
}

func parseQueryRequest(req *queryRequest) (*logsSearch, error) {
	if req.Query == nil || strings.TrimSpace(*req.Query) == "" {
		return nil, badRequest("query is required")
	}
	s := &logsSearch{limit: LogsDefaultLimit}
	syntax, tier, startS, endS := "dataprime", "", "", ""
	if m := req.Metadata; m != nil {
		startS, endS, tier = m.StartDate, m.EndDate, m.Tier
		switch m.Syntax {
		case "", "unspecified", "dataprime":
		case "lucene":
			syntax = "lucene"
		default:
			return nil, badRequest("metadata.syntax %q is not one of dataprime, lucene", m.Syntax)
		}
		if m.Limit != nil {
			if *m.Limit < 1 || *m.Limit > LogsMaxLimit {
				return nil, badRequest("metadata.limit must be between 1 and %d", LogsMaxLimit)
			}
			s.limit = int(*m.Limit)
		}
	}
	switch tier {
	case "", "unspecified", "frequent_search":
	case "archive":
		s.archive = true
	default:
		return nil, badRequest("metadata.tier %q is not one of frequent_search, archive", tier)
	}
	var err error
	if s.start, s.end, err = timeRange(startS, endS); err != nil {
		return nil, err
	}
	if s.q, err = compileQuery(syntax, *req.Query); err != nil {
		return nil, badRequest("%v", err)
	}
	if s.q.limit > 0 && s.q.limit < s.limit {
		s.limit = s.q.limit
	}
	return s, nil
}

// search returns the matching events in time order, at most s.limit of
// them, and whether more matched.
func (c *Cloud) search(s *logsSearch) ([]*logDoc, bool) {
	events := c.Events()
	sort.SliceStable(events, func(i, j int) bool { return events[i].EventTime.Before(events[j].EventTime) })
	horizon := time.Now().Add(-LogsFrequentSearchRetention)
	var out []*logDoc
	for i := range events {
		ev := &events[i]
		if ev.EventTime.Before(s.start) || !ev.EventTime.Before(s.end) {
			continue
		}
		if !s.archive && ev.EventTime.Before(horizon) {
			continue
		}
		d := eventDoc(ev)
		if !s.q.match(d) {
			continue
		}
		if len(out) == s.limit {
			return out, true
		}
		out = append(out, d)
	}
	return out, false
}

// eventDoc turns an event into the record Cloud Logs stores for it.
func eventDoc(ev *Event) *logDoc {
	raw, _ := json.Marshal(ev)
	d := &logDoc{
		labels: map[string]string{
			"applicationname": AuditApplication,
			"subsystemname":   eventSubsystem(ev),
		},
		meta: map[string]string{
			"timestamp": ev.EventTime.UTC().Format(time.RFC3339Nano),
			"severity":  logsSeverity(ev.Severity),
			"logid":     ev.ID,
		},
	}
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.UseNumber()
	_ = dec.Decode(&d.data)
	d.raw = string(raw)
	return d
}

// eventSubsystem is the Cloud Logs subsystem of an audit event: the service
// name of its target CRN, as Activity Tracker Event Routing sets it.
func eventSubsystem(ev *Event) string {
	if parts := strings.Split(ev.Target.ID, ":"); len(parts) > 4 && parts[0] == "crn" && parts[4] != "" {
		return parts[4]
	}
	switch ev.Service {
	case ServiceIAM:
		return "iam-identity"
	case ServiceKMS:
		return "kms"
	case ServiceCOS:
		return "cloud-object-storage"
	case ServiceSoftLayer:
		return "virtual-server"
	case "":
		return "unknown"
	}
	return string(ev.Service)
}

// logsSeverity maps a CADF severity to a Cloud Logs severity.
func logsSeverity(s string) string {
	switch s {
	case "critical":
		return "Critical"
	case "warning":
		return "Warning"
	}
	return "Info"
}

// renderResults renders records as logsv0's ApisDataprimeV1DataprimeResults.
func renderResults(docs []*logDoc) []map[string]any {
	out := make([]map[string]any, 0, len(docs))
	kv := func(m map[string]string, keys ...string) []map[string]string {
		var l []map[string]string
		for _, k := range keys {
			l = append(l, map[string]string{"key": k, "value": m[k]})
		}
		return l
	}
	for _, d := range docs {
		out = append(out, map[string]any{
			"metadata":  kv(d.meta, "timestamp", "severity", "logid"),
			"labels":    kv(d.labels, "applicationname", "subsystemname"),
			"user_data": d.raw,
		})
	}
	return out
}

// sseWriter writes server-sent events and flushes each one, so the client
// sees items as they are found.
type sseWriter struct {
	w       http.ResponseWriter
	started bool
}

func newSSEWriter(w http.ResponseWriter) *sseWriter { return &sseWriter{w: w} }

func (s *sseWriter) raw(text string) {
	if !s.started {
		s.started = true
		s.w.Header().Set("Content-Type", "text/event-stream")
		s.w.Header().Set("Cache-Control", "no-cache")
		s.w.WriteHeader(http.StatusOK)
	}
	_, _ = s.w.Write([]byte(text))
	if f, ok := s.w.(http.Flusher); ok {
		f.Flush()
	}
}

func (s *sseWriter) item(v any) {
	b, _ := json.Marshal(v)
	s.raw("data: " + string(b) + "\n\n")
}

// formatLogsTime formats a time the way Cloud Logs' JSON does.
func formatLogsTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }
