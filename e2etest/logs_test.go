package e2etest_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/IBM/go-sdk-core/v5/core"
	"github.com/IBM/logs-go-sdk/logsv0"
	"github.com/go-openapi/strfmt"

	"github.com/e2eimage/e2e/e2etest"
)

// logsCollector gathers what logsv0 reports for one query.
type logsCollector struct {
	mu         sync.Mutex
	items      []*logsv0.QueryResponseStreamItem
	bg         []logsv0.ResponseData
	keepAlives int
	errs       []error
}

func (c *logsCollector) OnClose()     {}
func (c *logsCollector) OnKeepAlive() { c.mu.Lock(); c.keepAlives++; c.mu.Unlock() }
func (c *logsCollector) OnError(err error) {
	c.mu.Lock()
	c.errs = append(c.errs, err)
	c.mu.Unlock()
}
func (c *logsCollector) OnData(r *core.DetailedResponse) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch v := r.Result.(type) {
	case *logsv0.QueryResponseStreamItem:
		c.items = append(c.items, v)
	case logsv0.ResponseData:
		c.bg = append(c.bg, v)
	}
}

func (c *logsCollector) results() []logsv0.ApisDataprimeV1DataprimeResults {
	var out []logsv0.ApisDataprimeV1DataprimeResults
	for _, it := range c.items {
		if it.Result != nil {
			out = append(out, it.Result.Results...)
		}
	}
	for _, d := range c.bg {
		out = append(out, d.Results.Results...)
	}
	return out
}

func startLogs(t *testing.T) (*e2etest.Cloud, *logsv0.LogsV0) {
	t.Helper()
	cloud, err := e2etest.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cloud.Close() })
	logs, err := logsv0.NewLogsV0(&logsv0.LogsV0Options{URL: cloud.LogsURL,
		Authenticator: &core.IamAuthenticator{ApiKey: cloud.APIKey, URL: cloud.IAMURL}})
	if err != nil {
		t.Fatal(err)
	}
	return cloud, logs
}

func logsQuery(logs *logsv0.LogsV0, text, syntax string, start, end time.Time, limit int64) *logsCollector {
	s, e := strfmt.DateTime(start), strfmt.DateTime(end)
	md := &logsv0.ApisDataprimeV1Metadata{StartDate: &s, EndDate: &e, Syntax: &syntax,
		Tier: core.StringPtr("frequent_search")}
	if limit > 0 {
		md.Limit = &limit
	}
	c := &logsCollector{}
	logs.QueryWithContext(context.Background(), logs.NewQueryOptions().SetQuery(text).SetMetadata(md), c)
	return c
}

func recordLogsEvents(cloud *e2etest.Cloud, base time.Time, n int) {
	for i := range n {
		action := "kms.secrets.wrap"
		if i%2 == 1 {
			action = "kms.secrets.unwrap"
		}
		cloud.RecordEvent(e2etest.Event{EventTime: base.Add(time.Duration(i) * time.Second), Action: action,
			Service: e2etest.ServiceKMS,
			Target:  e2etest.EventTarget{ID: "crn:v1:bluemix:public:kms:us-south:a/x:inst:key:k" + string(rune('a'+i%3)), Name: "root"}})
	}
}

func TestLogsQueryStream(t *testing.T) {
	cloud, logs := startLogs(t)
	base := time.Now().Add(-time.Hour).Truncate(time.Second)
	recordLogsEvents(cloud, base, 120)

	c := logsQuery(logs, "source logs | filter $d.action == 'kms.secrets.wrap'", "dataprime", base, base.Add(time.Hour), 0)
	if len(c.errs) > 0 {
		t.Fatal(c.errs)
	}
	if c.keepAlives < 2 || len(c.items) == 0 || c.items[0].QueryID == nil || c.items[0].QueryID.QueryID == nil {
		t.Fatalf("want keep-alives and a query_id first; got %d keep-alives, items %+v", c.keepAlives, c.items)
	}
	res := c.results()
	if len(res) != 60 {
		t.Fatalf("got %d results, want the 60 wraps", len(res))
	}
	batches := 0
	for _, it := range c.items {
		if it.Result != nil {
			batches++
		}
	}
	if batches < 2 {
		t.Errorf("60 results came in %d result items; the emulator sends batches", batches)
	}
	r := res[0]
	labels := map[string]string{}
	for _, kv := range r.Labels {
		labels[*kv.Key] = *kv.Value
	}
	if labels["applicationname"] != "ibm-audit-event" || labels["subsystemname"] != "kms" {
		t.Errorf("labels = %v", labels)
	}
	var ev e2etest.Event
	if err := json.Unmarshal([]byte(*r.UserData), &ev); err != nil {
		t.Fatal(err)
	}
	if ev.Action != "kms.secrets.wrap" || !ev.EventTime.Equal(base) || ev.Initiator.ID == "" {
		t.Errorf("first event = %+v", ev)
	}
}

func TestLogsQueryFiltersAndLimit(t *testing.T) {
	cloud, logs := startLogs(t)
	base := time.Now().Add(-time.Hour).Truncate(time.Second)
	recordLogsEvents(cloud, base, 30)
	tests := []struct {
		name, text, syntax string
		start, end         time.Time
		limit              int64
		want               int
		truncated          bool
	}{
		{"time range", "source logs", "dataprime", base.Add(10 * time.Second), base.Add(20 * time.Second), 0, 10, false},
		{"prefix", "source logs | filter $d.action.startsWith('kms.secrets.un')", "dataprime", base, base.Add(time.Hour), 0, 15, false},
		{"target suffix", "source logs | filter $d.target.id.endsWith(':ka')", "dataprime", base, base.Add(time.Hour), 0, 10, false},
		{"metadata limit", "source logs", "dataprime", base, base.Add(time.Hour), 7, 7, true},
		{"query limit", "source logs | limit 4", "dataprime", base, base.Add(time.Hour), 0, 4, true},
		{"exact count is not truncated", "source logs", "dataprime", base, base.Add(time.Hour), 30, 30, false},
		{"lucene", `action:kms.secrets.unwrap AND target.id:*\:kb`, "lucene", base, base.Add(time.Hour), 0, 5, false},
		{"no match", "source logs | filter $d.action == 'nope'", "dataprime", base, base.Add(time.Hour), 0, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := logsQuery(logs, tt.text, tt.syntax, tt.start, tt.end, tt.limit)
			if len(c.errs) > 0 {
				t.Fatal(c.errs)
			}
			if got := len(c.results()); got != tt.want {
				t.Errorf("got %d results, want %d", got, tt.want)
			}
			truncated := false
			for _, it := range c.items {
				if w, ok := it.Warning.(*logsv0.ApisDataprimeV1DataprimeWarning); ok && w.NumberOfResultsLimitWarning != nil {
					truncated = true
				}
			}
			if truncated != tt.truncated {
				t.Errorf("limit warning = %v, want %v", truncated, tt.truncated)
			}
		})
	}
}

func TestLogsQueryArchiveTier(t *testing.T) {
	cloud, logs := startLogs(t)
	old := time.Now().Add(-30 * 24 * time.Hour)
	cloud.RecordEvent(e2etest.Event{EventTime: old, Action: "kms.secrets.wrap"})
	s, e := strfmt.DateTime(old.Add(-time.Minute)), strfmt.DateTime(old.Add(time.Minute))
	for tier, want := range map[string]int{"frequent_search": 0, "archive": 1} {
		c := &logsCollector{}
		logs.Query(logs.NewQueryOptions().SetQuery("source logs").SetMetadata(&logsv0.ApisDataprimeV1Metadata{
			StartDate: &s, EndDate: &e, Tier: core.StringPtr(tier)}), c)
		if len(c.errs) > 0 || len(c.results()) != want {
			t.Errorf("tier %s: %d results, errors %v; want %d", tier, len(c.results()), c.errs, want)
		}
	}
}

// httpStatus digs out the HTTP status of an SDK error. Errors of the
// streaming calls come from the SDK core as is: wrapping them surfaces the
// HTTP problem they hold.
func logsHTTPStatus(err error) int {
	var hp *core.HTTPProblem
	err = core.SDKErrorf(err, "", "test", core.NewProblemComponent("e2etest_test", ""))
	if errors.As(err, &hp) && hp.Response != nil {
		return hp.Response.StatusCode
	}
	return 0
}

func TestLogsQueryRefusals(t *testing.T) {
	cloud, logs := startLogs(t)
	now := time.Now()
	for _, tt := range []struct{ name, text, syntax, wantMsg string }{
		{"unknown stage", "source logs | sort $d.x", "dataprime", "unsupported stage"},
		{"unterminated", "source logs | filter $d.a == 'x", "dataprime", "unterminated string"},
		{"implicit or", "action:a action:b", "lucene", "implicit operators"},
		{"unknown syntax", "source logs", "sql", "not one of"},
		{"empty", " ", "dataprime", "query is required"},
	} {
		c := logsQuery(logs, tt.text, tt.syntax, now.Add(-time.Hour), now, 0)
		if len(c.errs) != 1 || logsHTTPStatus(c.errs[0]) != http.StatusBadRequest || !strings.Contains(c.errs[0].Error(), tt.wantMsg) {
			t.Errorf("%s: errors %v, want one 400 saying %q", tt.name, c.errs, tt.wantMsg)
		}
	}
	// A wrong token is refused with 401.
	bad, _ := logsv0.NewLogsV0(&logsv0.LogsV0Options{URL: cloud.LogsURL,
		Authenticator: &core.BearerTokenAuthenticator{BearerToken: "not-a-token"}})
	c := logsQuery(bad, "source logs", "dataprime", now.Add(-time.Hour), now, 0)
	if len(c.errs) != 1 || logsHTTPStatus(c.errs[0]) != http.StatusUnauthorized {
		t.Errorf("bad token: %v, want a 401", c.errs)
	}
	// So is an expired one.
	short, err := e2etest.Start(e2etest.Options{TokenLifetime: time.Nanosecond})
	if err != nil {
		t.Fatal(err)
	}
	defer short.Close()
	expired, _ := logsv0.NewLogsV0(&logsv0.LogsV0Options{URL: short.LogsURL,
		Authenticator: &core.BearerTokenAuthenticator{BearerToken: short.NewToken()}})
	c = logsQuery(expired, "source logs", "dataprime", now.Add(-time.Hour), now, 0)
	if len(c.errs) != 1 || logsHTTPStatus(c.errs[0]) != http.StatusUnauthorized || !strings.Contains(c.errs[0].Error(), "expired") {
		t.Errorf("expired token: %v, want a 401 that says so", c.errs)
	}
}

func TestLogsQueryFaults(t *testing.T) {
	cloud, logs := startLogs(t)
	base := time.Now().Add(-time.Hour)
	recordLogsEvents(cloud, base, 100)
	win := func() *logsCollector {
		return logsQuery(logs, "source logs", "dataprime", base, base.Add(time.Hour), 0)
	}

	cloud.InjectFault(e2etest.ServiceLogs, "query", e2etest.Fault{Status: 503})
	if c := win(); len(c.errs) != 1 || logsHTTPStatus(c.errs[0]) != 503 {
		t.Errorf("503 fault: %v", c.errs)
	}
	cloud.InjectFault(e2etest.ServiceLogs, "query", e2etest.Fault{Status: 429})
	if c := win(); len(c.errs) != 1 || logsHTTPStatus(c.errs[0]) != 429 {
		t.Errorf("429 fault: %v", c.errs)
	}
	cloud.InjectFault(e2etest.ServiceLogs, "query", e2etest.Fault{Status: 200, Message: "scan failed"})
	c := win()
	if len(c.errs) != 0 || len(c.items) != 1 || c.items[0].Error == nil || *c.items[0].Error.Message != "scan failed" {
		t.Errorf("stream error fault: items %+v errors %v", c.items, c.errs)
	}
	cloud.InjectFault(e2etest.ServiceLogs, "query", e2etest.Fault{Status: 200, Code: "malformed"})
	if c := win(); len(c.errs) != 1 {
		t.Errorf("malformed fault: errors %v, want one parse error", c.errs)
	}
	// A cut mid-way: some results arrive, then the SDK sees the break.
	cloud.InjectFault(e2etest.ServiceLogs, "query", e2etest.Fault{Drop: true, DropAfter: 50000})
	c = win()
	if len(c.errs) != 1 || len(c.results()) == 0 || len(c.results()) == 100 {
		t.Errorf("cut stream: %d results, errors %v; want some results then an error", len(c.results()), c.errs)
	}
	if c := win(); len(c.errs) != 0 || len(c.results()) != 100 {
		t.Errorf("after the faults: %d results, errors %v", len(c.results()), c.errs)
	}
}

func TestLogsBackgroundQuery(t *testing.T) {
	cloud, logs := startLogs(t)
	base := time.Now().Add(-time.Hour)
	recordLogsEvents(cloud, base, 20)
	ctx := context.Background()
	s, e := strfmt.DateTime(base), strfmt.DateTime(base.Add(time.Hour))
	sub, _, err := logs.SubmitBackgroundQueryWithContext(ctx, logs.NewSubmitBackgroundQueryOptions(
		"source logs | filter $d.action == 'kms.secrets.unwrap'", "dataprime").SetStartDate(&s).SetEndDate(&e))
	if err != nil {
		t.Fatal(err)
	}
	id := sub.QueryID
	// Data before the query finished is a 409.
	early := &logsCollector{}
	logs.GetBackgroundQueryDataWithContext(ctx, logs.NewGetBackgroundQueryDataOptions(id), early)
	if len(early.errs) != 1 || logsHTTPStatus(early.errs[0]) != http.StatusConflict {
		t.Errorf("early data: %v, want a 409", early.errs)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		st, _, err := logs.GetBackgroundQueryStatusWithContext(ctx, logs.NewGetBackgroundQueryStatusOptions(id))
		if err != nil {
			t.Fatal(err)
		}
		if term := st.(*logsv0.BackgroundQueryStatus).Terminated; term != nil {
			if term.(*logsv0.ApisDataprimeV1GetBackgroundQueryStatusResponseTerminated).Success == nil {
				t.Fatalf("terminated without success: %+v", term)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the background query never finished")
		}
		time.Sleep(5 * time.Millisecond)
	}
	c := &logsCollector{}
	logs.GetBackgroundQueryDataWithContext(ctx, logs.NewGetBackgroundQueryDataOptions(id), c)
	if len(c.errs) > 0 || len(c.results()) != 10 {
		t.Errorf("data: %d results, errors %v; want 10", len(c.results()), c.errs)
	}
	if _, err := logs.CancelBackgroundQueryWithContext(ctx, logs.NewCancelBackgroundQueryOptions(id)); err != nil {
		t.Errorf("cancel of a finished query: %v", err)
	}
	unknown := strfmt.UUID("00000000-0000-4000-8000-000000000000")
	if _, _, err := logs.GetBackgroundQueryStatusWithContext(ctx, logs.NewGetBackgroundQueryStatusOptions(&unknown)); logsHTTPStatus(err) != 404 {
		t.Errorf("unknown query: %v, want a 404", err)
	}
	// A query cancelled while it waits says so.
	sub, _, err = logs.SubmitBackgroundQueryWithContext(ctx, logs.NewSubmitBackgroundQueryOptions("source logs", "dataprime"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := logs.CancelBackgroundQueryWithContext(ctx, logs.NewCancelBackgroundQueryOptions(sub.QueryID)); err != nil {
		t.Fatal(err)
	}
	st, _, err := logs.GetBackgroundQueryStatusWithContext(ctx, logs.NewGetBackgroundQueryStatusOptions(sub.QueryID))
	if err != nil {
		t.Fatal(err)
	}
	term, _ := st.(*logsv0.BackgroundQueryStatus).Terminated.(*logsv0.ApisDataprimeV1GetBackgroundQueryStatusResponseTerminated)
	if term == nil || term.Cancelled == nil {
		t.Errorf("status after cancel: %+v", st)
	}
	if _, _, err := logs.SubmitBackgroundQueryWithContext(ctx, logs.NewSubmitBackgroundQueryOptions("source logs | nope", "dataprime")); logsHTTPStatus(err) != 400 {
		t.Errorf("bad background query: %v, want a 400", err)
	}
}
