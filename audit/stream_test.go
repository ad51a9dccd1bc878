package audit

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/IBM/go-sdk-core/v5/core"
)

// streamTransport answers every request with one canned SSE body, in
// process: no network.
type streamTransport struct {
	status int
	body   string
	calls  int
}

func (s *streamTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	s.calls++
	if req.Body != nil {
		_, _ = io.Copy(io.Discard, req.Body)
		req.Body.Close()
	}
	h := http.Header{"Content-Type": {"text/event-stream"}}
	if s.status != http.StatusOK {
		h.Set("Content-Type", "application/json")
	}
	return &http.Response{StatusCode: s.status, Header: h, Body: io.NopCloser(strings.NewReader(s.body)),
		Request: req, ContentLength: -1}, nil
}

func cannedClient(t testing.TB, status int, body string) (*Client, *streamTransport) {
	tr := &streamTransport{status: status, body: body}
	c, err := NewClient(Config{Endpoint: "http://logs.invalid", Authenticator: &core.NoAuthAuthenticator{},
		HTTPClient: &http.Client{Transport: tr}, RetryWait: time.Millisecond, MaxRetryWait: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return c, tr
}

// sampleStream is a stream as Cloud Logs sends it (and e2etest serves).
func sampleStream(events ...string) string {
	var b strings.Builder
	b.WriteString(": success\n\n")
	b.WriteString(`data: {"query_id":{"query_id":"5c3d0b9e-1f0e-4a43-9d36-5c8d4e0c8a11"}}` + "\n\n")
	b.WriteString(": keepalive\n\n")
	var results []map[string]any
	for i, e := range events {
		results = append(results, map[string]any{
			"metadata":  []map[string]string{{"key": "timestamp", "value": "2026-11-27T09:00:00Z"}, {"key": "logid", "value": string(rune('a' + i))}},
			"labels":    []map[string]string{{"key": "applicationname", "value": "ibm-audit-event"}, {"key": "subsystemname", "value": "kms"}},
			"user_data": e,
		})
	}
	item, _ := json.Marshal(map[string]any{"result": map[string]any{"results": results}})
	b.WriteString("data: " + string(item) + "\n\n")
	return b.String()
}

const sampleEvent = `{"eventTime":"2026-11-27T09:10:00.25+0000","action":"kms.secrets.wrap","outcome":"success","severity":"normal",` +
	`"message":"Key Protect: wrap key root","correlationId":"c-1","initiator":{"id":"IBMid-1","name":"me","typeURI":"service/security/account/user",` +
	`"host":{"address":"10.0.0.1"}},"target":{"id":"crn:v1:bluemix:public:kms:us-south:a/acc:inst:key:k1","name":"root","typeURI":"kms/secrets"},` +
	`"reason":{"reasonCode":200,"reasonType":"OK"}}`

func collect(c *Client, q Query) ([]Event, error) {
	var evs []Event
	for ev, err := range c.Events(context.Background(), q) {
		if err != nil {
			return evs, err
		}
		evs = append(evs, ev)
	}
	return evs, nil
}

func TestDecodeStream(t *testing.T) {
	c, _ := cannedClient(t, 200, sampleStream(sampleEvent))
	evs, err := collect(c, Query{Start: t0, End: t1})
	if err != nil || len(evs) != 1 {
		t.Fatalf("events %v, err %v", evs, err)
	}
	ev := evs[0]
	want := Event{Time: time.Date(2026, 11, 27, 9, 10, 0, 250e6, time.UTC), Action: "kms.secrets.wrap", Outcome: "success",
		Severity: "normal", Message: "Key Protect: wrap key root", CorrelationID: "c-1",
		Initiator:   Initiator{ID: "IBMid-1", Name: "me", Type: "service/security/account/user", HostAddress: "10.0.0.1"},
		Target:      Target{ID: "k1", CRN: "crn:v1:bluemix:public:kms:us-south:a/acc:inst:key:k1", Name: "root", Type: "kms/secrets"},
		Reason:      Reason{Code: 200, Type: "OK"},
		Application: "ibm-audit-event", Subsystem: "kms"}
	if !ev.Time.Equal(want.Time) {
		t.Errorf("Time = %v, want %v", ev.Time, want.Time)
	}
	ev.Time, ev.Raw = want.Time, nil
	if ev.Initiator != want.Initiator || ev.Target != want.Target || ev.Reason != want.Reason || ev.Action != want.Action ||
		ev.Outcome != want.Outcome || ev.Severity != want.Severity || ev.Message != want.Message ||
		ev.CorrelationID != want.CorrelationID || ev.Application != want.Application || ev.Subsystem != want.Subsystem {
		t.Errorf("event\n got %+v\nwant %+v", ev, want)
	}
	if string(evs[0].Raw) != sampleEvent {
		t.Errorf("Raw = %s", evs[0].Raw)
	}
}

func TestMalformedStreams(t *testing.T) {
	good := sampleStream(sampleEvent)
	for _, tt := range []struct {
		name, body string
		want       error
		msg        string
	}{
		{"not SSE", "hello\n", ErrMalformedStream, "unknown format"},
		{"bad JSON", "data: {\"result\": nope\n\n", ErrMalformedStream, ""},
		{"unknown item", "data: {\"surprise\":1}\n\n", ErrMalformedStream, "none of"},
		{"not an object", "data: [1,2]\n\n", ErrMalformedStream, ""},
		{"results not a list", "data: {\"result\":{\"results\":5}}\n\n", ErrMalformedStream, ""},
		{"user_data not JSON", `data: {"result":{"results":[{"user_data":"{oops"}]}}` + "\n\n", ErrMalformedStream, "not a CADF event"},
		{"no user_data", `data: {"result":{"results":[{"labels":[]}]}}` + "\n\n", ErrMalformedStream, "without user_data"},
		{"bad time", `data: {"result":{"results":[{"user_data":"{\"eventTime\":\"yesterday\"}"}]}}` + "\n\n", ErrMalformedStream, "yesterday"},
		{"bad reason", `data: {"result":{"results":[{"user_data":"{\"reason\":{\"reasonCode\":1.5}}"}]}}` + "\n\n", ErrMalformedStream, "reasonCode"},
		{"error item", good + `data: {"error":{"message":"scan failed"}}` + "\n\n", ErrQueryFailed, "scan failed"},
		{"api error item", `data: {"errors":[{"code":"forbidden","message":"no access"}],"trace":"t","status_code":403}` + "\n\n", ErrQueryFailed, "no access"},
		{"CRLF lines", strings.ReplaceAll(good, "\n", "\r\n"), ErrMalformedStream, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, tr := cannedClient(t, 200, tt.body)
			_, err := collect(c, Query{Start: t0, End: t1})
			var qe *QueryError
			if !errors.Is(err, tt.want) || !errors.As(err, &qe) || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("err = %v, want %v mentioning %q", err, tt.want, tt.msg)
			}
			if tr.calls != 1 {
				t.Errorf("%d calls; a malformed stream is not retried", tr.calls)
			}
		})
	}
}

func TestHTTPErrorsAreClassified(t *testing.T) {
	c, tr := cannedClient(t, 503, `{"errors":[{"code":"method_internal_error","message":"down"}],"trace":"x","status_code":503}`)
	_, err := collect(c, Query{Start: t0, End: t1})
	var qe *QueryError
	if !errors.As(err, &qe) || qe.Status != 503 || qe.Code != "method_internal_error" || qe.Attempts != 5 || tr.calls != 5 {
		t.Fatalf("err = %#v after %d calls; want a 503 QueryError after 5 attempts", err, tr.calls)
	}
	c, tr = cannedClient(t, 400, `{"errors":[{"code":"bad_request_or_unspecified","message":"does not compile"}],"trace":"x","status_code":400}`)
	_, err = collect(c, Query{Start: t0, End: t1})
	if !errors.Is(err, ErrQueryFailed) || !strings.Contains(err.Error(), "does not compile") || tr.calls != 1 {
		t.Fatalf("err = %v after %d calls; want one 400", err, tr.calls)
	}
}

// FuzzParseStream feeds arbitrary stream bodies through the SDK's stream
// reader and the decoder: never a panic or a hang, errors are typed, and
// every event has its raw JSON.
func FuzzParseStream(f *testing.F) {
	f.Add(sampleStream(sampleEvent))
	f.Add(sampleStream(sampleEvent, sampleEvent) + `data: {"warning":{"number_of_results_limit_warning":{"number_of_results_limit":2}}}` + "\n\n")
	f.Add(sampleStream() + `data: {"error":{"message":"x"}}` + "\n\n")
	f.Add(": keepalive\n\n: keepalive\n\n")
	f.Add("data: {\"query_id\":{\"query_id\":\"q\"}}\ndata: \n\n")
	f.Add(`data: {"warning":{"compile_warning":{"warning_message":"w"},"time_range_warning":{"warning_message":"t"}}}` + "\n\n")
	f.Fuzz(func(t *testing.T, body string) {
		c, _ := cannedClient(t, 200, body)
		c.cfg.MaxRetries = 0
		c.cfg.OnWarning = func(w Warning) { _ = w.String() }
		evs, err := collect(c, Query{Start: t0, End: t1})
		for _, ev := range evs {
			if !json.Valid(ev.Raw) {
				t.Fatalf("event with invalid raw JSON %q", ev.Raw)
			}
		}
		if err != nil {
			var qe *QueryError
			var te *TruncatedError
			if !errors.As(err, &qe) && !errors.As(err, &te) {
				t.Fatalf("untyped error %T: %v", err, err)
			}
		}
	})
}

func TestNewClientValidation(t *testing.T) {
	auth := &core.NoAuthAuthenticator{}
	for name, cfg := range map[string]Config{
		"no endpoint":      {Authenticator: auth},
		"no authenticator": {Endpoint: "http://x"},
		"tiny window":      {Endpoint: "http://x", Authenticator: auth, Window: time.Millisecond},
		"huge page":        {Endpoint: "http://x", Authenticator: auth, PageSize: 50001},
		"negative page":    {Endpoint: "http://x", Authenticator: auth, PageSize: -1},
		"bad URL":          {Endpoint: "://", Authenticator: auth},
	} {
		if _, err := NewClient(cfg); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%s: err = %v, want ErrInvalidConfig", name, err)
		}
	}
	c, err := NewClient(Config{Endpoint: "http://x", Authenticator: auth, MaxRetries: -1})
	if err != nil || c.cfg.MaxRetries != 0 || c.cfg.PageSize != 2000 || c.cfg.Window != 24*time.Hour ||
		c.cfg.IdleTimeout != 2*time.Minute || c.cfg.RetryWait != 500*time.Millisecond {
		t.Errorf("defaults: %+v, %v", c.cfg, err)
	}
}
