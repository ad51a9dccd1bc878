package e2etest

// The Cloud Logs background-query API (archive-tier searches that run
// asynchronously): submit, status, data and cancel, as logsv0 calls them.
// A background query waits for execution, runs, then terminates; the
// durations are IBM-like and scaled by Options.TimeScale.

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"time"
)

// Durations of a background query's phases on IBM Cloud (before scaling).
const (
	bgWaitTime = 5 * time.Second
	bgRunTime  = 30 * time.Second
)

// bgQuery is a submitted background query. Guarded by Cloud.mu.
type bgQuery struct {
	id        string
	submitted time.Time
	docs      []*logDoc // results, computed at submission over the archive tier
	truncated bool
	limit     int
	cancelled time.Time // zero unless cancelled before it finished
}

// phase reports where the query stands at now.
func (c *Cloud) bgPhase(q *bgQuery, now time.Time) string {
	switch {
	case !q.cancelled.IsZero():
		return "cancelled"
	case now.Before(q.submitted.Add(c.scaled(bgWaitTime))):
		return "waiting"
	case now.Before(q.submitted.Add(c.scaled(bgWaitTime + bgRunTime))):
		return "running"
	}
	return "success"
}

type bgSubmitRequest struct {
	Query     *string `json:"query"`
	Syntax    *string `json:"syntax"`
	StartDate string  `json:"start_date"`
	EndDate   string  `json:"end_date"`
	NowDate   string  `json:"now_date"`
}

func (c *Cloud) handleBGSubmit(w http.ResponseWriter, r *http.Request) {
	w, done := c.applyFault(ServiceLogs, "submitBackgroundQuery", w, r, writeLogsError)
	if done || !c.logsAuth(w, r) {
		return
	}
	var req bgSubmitRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&req); err != nil {
		writeLogsError(w, http.StatusBadRequest, "", "the request body is not valid JSON: "+err.Error())
		return
	}
	if req.Query == nil || req.Syntax == nil {
		writeLogsError(w, http.StatusBadRequest, "", "query and syntax are required")
		return
	}
	text, syntax := *req.Query, *req.Syntax
	switch syntax {
	case "dataprime", "lucene":
	case "dataprime_utf8_base64", "lucene_utf8_base64":
		b, err := base64.StdEncoding.DecodeString(text)
		if err != nil {
			writeLogsError(w, http.StatusBadRequest, "", "the query is not valid base64 for syntax "+syntax)
			return
		}
		text, syntax = string(b), syntax[:len(syntax)-len("_utf8_base64")]
	default:
		writeLogsError(w, http.StatusBadRequest, "", "syntax "+syntax+" is not one of dataprime, lucene, dataprime_utf8_base64, lucene_utf8_base64")
		return
	}
	s := &logsSearch{archive: true, limit: LogsMaxLimit}
	var err error
	if s.start, s.end, err = timeRange(req.StartDate, req.EndDate); err != nil {
		writeLogsError(w, http.StatusBadRequest, "", err.Error())
		return
	}
	if s.q, err = compileQuery(syntax, text); err != nil {
		writeLogsError(w, http.StatusBadRequest, "", err.Error())
		return
	}
	if s.q.limit > 0 {
		s.limit = s.q.limit
	}
	docs, truncated := c.search(s)
	q := &bgQuery{id: newUUID(), submitted: time.Now(), docs: docs, truncated: truncated, limit: s.limit}
	c.mu.Lock()
	if c.logs.background == nil {
		c.logs.background = map[string]*bgQuery{}
	}
	c.logs.background[q.id] = q
	c.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"query_id": q.id, "warnings": []any{}})
}

// bgLookup finds the query named in the path, or answers 404.
func (c *Cloud) bgLookup(w http.ResponseWriter, r *http.Request) *bgQuery {
	id := r.PathValue("id")
	c.mu.Lock()
	q := c.logs.background[id]
	c.mu.Unlock()
	if q == nil {
		writeLogsError(w, http.StatusNotFound, "", "background query "+id+" not found")
	}
	return q
}

func (c *Cloud) handleBGStatus(w http.ResponseWriter, r *http.Request) {
	w, done := c.applyFault(ServiceLogs, "getBackgroundQueryStatus", w, r, writeLogsError)
	if done || !c.logsAuth(w, r) {
		return
	}
	q := c.bgLookup(w, r)
	if q == nil {
		return
	}
	now := time.Now()
	c.mu.Lock()
	phase, cancelled := c.bgPhase(q, now), q.cancelled
	c.mu.Unlock()
	warnings := []any{}
	if q.truncated {
		warnings = append(warnings, map[string]any{
			"number_of_results_limit_warning": map[string]any{"number_of_results_limit": q.limit}})
	}
	resp := map[string]any{
		"submitted_at": formatLogsTime(q.submitted),
		"metadata":     []any{},
		"warnings":     warnings,
	}
	runningSince := formatLogsTime(q.submitted.Add(c.scaled(bgWaitTime)))
	switch phase {
	case "waiting":
		resp["waiting_for_execution"] = map[string]any{}
	case "running":
		resp["running"] = map[string]any{"running_since": runningSince}
	case "cancelled":
		resp["terminated"] = map[string]any{"running_since": runningSince,
			"terminated_at": formatLogsTime(cancelled), "cancelled": map[string]any{}}
	default:
		resp["terminated"] = map[string]any{"running_since": runningSince,
			"terminated_at": formatLogsTime(q.submitted.Add(c.scaled(bgWaitTime + bgRunTime))), "success": map[string]any{}}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(resp)
}

func (c *Cloud) handleBGData(w http.ResponseWriter, r *http.Request) {
	w, done := c.applyFault(ServiceLogs, "getBackgroundQueryData", w, r, writeLogsError)
	if done || !c.logsAuth(w, r) {
		return
	}
	q := c.bgLookup(w, r)
	if q == nil {
		return
	}
	c.mu.Lock()
	phase := c.bgPhase(q, time.Now())
	c.mu.Unlock()
	if phase != "success" {
		writeLogsError(w, http.StatusConflict, "", "background query "+q.id+" has not succeeded (it is "+phase+")")
		return
	}
	sse := newSSEWriter(w)
	sse.raw(": success\n\n")
	for i := 0; i < len(q.docs); i += logsBatchSize {
		batch := q.docs[i:min(i+logsBatchSize, len(q.docs))]
		sse.item(map[string]any{"response": map[string]any{"results": map[string]any{"results": renderResults(batch)}}})
	}
}

func (c *Cloud) handleBGCancel(w http.ResponseWriter, r *http.Request) {
	w, done := c.applyFault(ServiceLogs, "cancelBackgroundQuery", w, r, writeLogsError)
	if done || !c.logsAuth(w, r) {
		return
	}
	q := c.bgLookup(w, r)
	if q == nil {
		return
	}
	now := time.Now()
	c.mu.Lock()
	if p := c.bgPhase(q, now); p == "waiting" || p == "running" {
		q.cancelled = now
	}
	c.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte("{}"))
}
