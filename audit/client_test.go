package audit_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/IBM/go-sdk-core/v5/core"
	kp "github.com/IBM/keyprotect-go-client"
	"github.com/IBM/logs-go-sdk/logsv0"
	"github.com/go-openapi/strfmt"

	"github.com/e2eimage/e2e/audit"
	"github.com/e2eimage/e2e/e2etest"
)

func startCloud(t testing.TB) *e2etest.Cloud {
	t.Helper()
	cloud, err := e2etest.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cloud.Close() })
	return cloud
}

// newClient returns a client with test-sized waits.
func newClient(t testing.TB, cloud *e2etest.Cloud, tune ...func(*audit.Config)) *audit.Client {
	t.Helper()
	cfg := audit.Config{Endpoint: cloud.LogsURL,
		Authenticator: &core.IamAuthenticator{ApiKey: cloud.APIKey, URL: cloud.IAMURL},
		RetryWait:     time.Millisecond, MaxRetryWait: 5 * time.Millisecond, PollInterval: 5 * time.Millisecond}
	for _, f := range tune {
		f(&cfg)
	}
	c, err := audit.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func collect(ctx context.Context, c *audit.Client, q audit.Query) ([]audit.Event, error) {
	var evs []audit.Event
	for ev, err := range c.Events(ctx, q) {
		if err != nil {
			return evs, err
		}
		evs = append(evs, ev)
	}
	return evs, nil
}

func keyCRN(i int) string {
	return fmt.Sprintf("crn:v1:bluemix:public:kms:us-south:a/acct:inst:key:key-%d", i)
}

// record adds n events one second apart from base, cycling through three
// actions, three keys and two outcomes.
func record(cloud *e2etest.Cloud, base time.Time, n int) {
	actions := []string{"kms.secrets.wrap", "kms.secrets.unwrap", "audit-log.vsi.provision"}
	for i := range n {
		ev := e2etest.Event{EventTime: base.Add(time.Duration(i) * time.Second), Action: actions[i%3],
			Target:  e2etest.EventTarget{ID: keyCRN(i % 3), Name: fmt.Sprintf("key %d", i%3), TypeURI: "kms/secrets"},
			Service: e2etest.ServiceKMS, Message: fmt.Sprintf("event %d", i)}
		if i%5 == 0 {
			ev.Outcome, ev.Reason = "failure", e2etest.EventReason{ReasonCode: 403}
		}
		cloud.RecordEvent(ev)
	}
}

func TestEventsFields(t *testing.T) {
	cloud := startCloud(t)
	c := newClient(t, cloud)
	at := time.Now().Add(-time.Minute).UTC().Truncate(time.Millisecond)
	in := e2etest.Event{EventTime: at, Action: "kms.secrets.rotate", Outcome: "success", Severity: "warning",
		Message: "Key Protect: rotate key root", CorrelationID: "corr-1",
		Target: e2etest.EventTarget{ID: keyCRN(7), Name: "root", TypeURI: "kms/secrets"},
		Reason: e2etest.EventReason{ReasonCode: 204, ReasonType: "No Content"}}
	in.Initiator.ID, in.Initiator.Name, in.Initiator.TypeURI = "iam-ServiceId-1", "builder", "service/security/account/serviceid"
	in.Initiator.Host.Address = "192.0.2.7"
	cloud.RecordEvent(in)

	evs, err := collect(context.Background(), c, audit.Query{Start: at.Add(-time.Second), End: at.Add(time.Second)})
	if err != nil || len(evs) != 1 {
		t.Fatalf("events %+v, err %v", evs, err)
	}
	ev := evs[0]
	if !ev.Time.Equal(at) || ev.Action != in.Action || ev.Outcome != "success" || ev.Severity != "warning" ||
		ev.Message != in.Message || ev.CorrelationID != "corr-1" ||
		ev.Initiator != (audit.Initiator{ID: "iam-ServiceId-1", Name: "builder", Type: "service/security/account/serviceid", HostAddress: "192.0.2.7"}) ||
		ev.Target != (audit.Target{ID: "key-7", CRN: keyCRN(7), Name: "root", Type: "kms/secrets"}) ||
		ev.Reason != (audit.Reason{Code: 204, Type: "No Content"}) ||
		ev.Application != "ibm-audit-event" || ev.Subsystem != "kms" || !strings.Contains(string(ev.Raw), `"corr-1"`) {
		t.Errorf("event = %+v", ev)
	}
}

func TestEventsFilters(t *testing.T) {
	cloud := startCloud(t)
	c := newClient(t, cloud)
	base := time.Now().Add(-time.Hour).Truncate(time.Second)
	record(cloud, base, 30)
	all := audit.Query{Start: base, End: base.Add(time.Hour)}
	with := func(f func(*audit.Query)) audit.Query { q := all; f(&q); return q }
	for _, tt := range []struct {
		name string
		q    audit.Query
		want int
		each func(audit.Event) bool
	}{
		{"all", all, 30, func(audit.Event) bool { return true }},
		{"exact action", with(func(q *audit.Query) { q.Actions = []string{"kms.secrets.wrap"} }), 10,
			func(e audit.Event) bool { return e.Action == "kms.secrets.wrap" }},
		{"prefix action", with(func(q *audit.Query) { q.Actions = []string{"kms.secrets."} }), 20,
			func(e audit.Event) bool { return strings.HasPrefix(e.Action, "kms.secrets.") }},
		{"star prefix", with(func(q *audit.Query) { q.Actions = []string{"audit-log.*"} }), 10,
			func(e audit.Event) bool { return e.Action == "audit-log.vsi.provision" }},
		{"bare prefix is exact", with(func(q *audit.Query) { q.Actions = []string{"kms.secrets"} }), 0, nil},
		{"target CRN", with(func(q *audit.Query) { q.TargetIDs = []string{keyCRN(1)} }), 10,
			func(e audit.Event) bool { return e.Target.CRN == keyCRN(1) }},
		{"target ID", with(func(q *audit.Query) { q.TargetIDs = []string{"key-2"} }), 10,
			func(e audit.Event) bool { return e.Target.ID == "key-2" }},
		{"target ID is not a suffix match", with(func(q *audit.Query) { q.TargetIDs = []string{"y-2"} }), 0, nil},
		{"target name or ID", with(func(q *audit.Query) { q.TargetIDs, q.TargetNames = []string{"key-2"}, []string{"key 0"} }), 20,
			func(e audit.Event) bool { return e.Target.ID != "key-1" }},
		{"outcome", with(func(q *audit.Query) { q.Outcome = "failure" }), 6,
			func(e audit.Event) bool { return e.Outcome == "failure" && e.Reason.Code == 403 }},
		{"initiator", with(func(q *audit.Query) { q.Initiators = []string{"owner@example.com"} }), 30, nil},
		{"other initiator", with(func(q *audit.Query) { q.Initiators = []string{"someone"} }), 0, nil},
		{"time range", with(func(q *audit.Query) { q.Start, q.End = base.Add(5*time.Second), base.Add(15*time.Second) }), 10,
			func(e audit.Event) bool {
				return !e.Time.Before(base.Add(5*time.Second)) && e.Time.Before(base.Add(15*time.Second))
			}},
		{"sub-millisecond range", with(func(q *audit.Query) {
			q.Start, q.End = base.Add(2*time.Second), base.Add(2*time.Second+time.Microsecond)
		}), 1, nil},
		{"combined", with(func(q *audit.Query) { q.Actions, q.Outcome = []string{"kms.secrets.unwrap"}, "failure" }), 2,
			func(e audit.Event) bool { return e.Action == "kms.secrets.unwrap" && e.Outcome == "failure" }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			evs, err := collect(context.Background(), c, tt.q)
			if err != nil {
				t.Fatal(err)
			}
			if len(evs) != tt.want {
				t.Fatalf("%d events, want %d", len(evs), tt.want)
			}
			for _, e := range evs {
				if tt.each != nil && !tt.each(e) {
					t.Errorf("event does not fit the filter: %+v", e)
				}
			}
		})
	}
}

// TestEventsValuesCannotInject: values full of quotes, escapes and query
// syntax match exactly the event that carries them, through the emulator's
// own parser.
func TestEventsValuesCannotInject(t *testing.T) {
	cloud := startCloud(t)
	c := newClient(t, cloud)
	at := time.Now().Add(-time.Minute)
	nasty := []string{`a'b`, `x' || $d.action == 'y`, `\`, `\'`, `") OR action:*`, "two\nlines", `') || true || ('`, `*x`, `key 0`}
	for _, n := range nasty {
		cloud.RecordEvent(e2etest.Event{EventTime: at, Action: "kms.secrets.wrap", Target: e2etest.EventTarget{ID: "id-" + n, Name: n}})
	}
	for _, n := range nasty {
		evs, err := collect(context.Background(), c, audit.Query{Start: at.Add(-time.Second), End: at.Add(time.Second),
			TargetNames: []string{n}})
		if err != nil {
			t.Fatalf("%q: %v", n, err)
		}
		if len(evs) != 1 || evs[0].Target.Name != n {
			t.Errorf("name %q matched %d events: %+v", n, len(evs), evs)
		}
		evs, err = collect(context.Background(), c, audit.Query{Start: at.Add(-time.Second), End: at.Add(time.Second),
			TargetIDs: []string{"id-" + n}})
		if err != nil || len(evs) != 1 {
			t.Errorf("ID %q matched %d events (err %v)", "id-"+n, len(evs), err)
		}
	}
}

func TestEventsPaging(t *testing.T) {
	cloud := startCloud(t)
	base := time.Now().Add(-2 * time.Hour).Truncate(time.Second)
	record(cloud, base, 95)
	q := audit.Query{Start: base, End: base.Add(100 * time.Second)}
	for _, tt := range []struct {
		name string
		cfg  func(*audit.Config)
	}{
		{"windows", func(c *audit.Config) { c.Window = 10 * time.Second }},
		{"page splits", func(c *audit.Config) { c.PageSize = 7 }},
		{"both", func(c *audit.Config) { c.Window = 50 * time.Second; c.PageSize = 4 }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			evs, err := collect(context.Background(), newClient(t, cloud, tt.cfg), q)
			if err != nil {
				t.Fatal(err)
			}
			if len(evs) != 95 {
				t.Fatalf("%d events, want 95", len(evs))
			}
			seen := map[string]bool{}
			for _, e := range evs {
				if seen[e.Message] {
					t.Fatalf("%s delivered twice", e.Message)
				}
				seen[e.Message] = true
			}
		})
	}
	// Events at one instant cannot be split apart: the page limit shows.
	at := time.Now().Add(-time.Minute)
	for range 5 {
		cloud.RecordEvent(e2etest.Event{EventTime: at, Action: "x.same.instant"})
	}
	c := newClient(t, cloud, func(c *audit.Config) { c.PageSize = 3 })
	evs, err := collect(context.Background(), c, audit.Query{Start: at.Add(-time.Second), End: at.Add(time.Second), Actions: []string{"x.same.instant"}})
	var te *audit.TruncatedError
	if !errors.As(err, &te) || !te.ByService || len(evs) != 3 {
		t.Errorf("%d events, err %v; want 3 then a service TruncatedError", len(evs), err)
	}
}

func TestEventsLimit(t *testing.T) {
	cloud := startCloud(t)
	c := newClient(t, cloud, func(c *audit.Config) { c.PageSize = 4 })
	base := time.Now().Add(-time.Hour).Truncate(time.Second)
	record(cloud, base, 20)
	q := audit.Query{Start: base, End: base.Add(time.Hour), Limit: 10}
	evs, err := collect(context.Background(), c, q)
	var te *audit.TruncatedError
	if !errors.Is(err, audit.ErrTruncated) || !errors.As(err, &te) || te.Limit != 10 || te.ByService || len(evs) != 10 {
		t.Fatalf("%d events, err %v; want 10 then ErrTruncated", len(evs), err)
	}
	q.Limit = 20
	if evs, err := collect(context.Background(), c, q); err != nil || len(evs) != 20 {
		t.Fatalf("limit = count: %d events, err %v; want all 20 and no truncation", len(evs), err)
	}
}

func TestEventsWarnings(t *testing.T) {
	cloud := startCloud(t)
	var warns []audit.Warning
	c := newClient(t, cloud, func(c *audit.Config) {
		c.PageSize = 2
		c.OnWarning = func(w audit.Warning) { warns = append(warns, w) }
	})
	base := time.Now().Add(-time.Hour).Truncate(time.Second)
	record(cloud, base, 5)
	if _, err := collect(context.Background(), c, audit.Query{Start: base, End: base.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if len(warns) == 0 || warns[0].Kind != "number_of_results_limit" || !strings.Contains(warns[0].Message, "2") {
		t.Errorf("warnings = %v", warns)
	}
}

func TestEventsFaults(t *testing.T) {
	cloud := startCloud(t)
	base := time.Now().Add(-time.Hour).Truncate(time.Second)
	record(cloud, base, 200)
	q := audit.Query{Start: base, End: base.Add(time.Hour)}
	ctx := context.Background()

	t.Run("429 and 5xx are retried", func(t *testing.T) {
		c := newClient(t, cloud)
		cloud.InjectFault(e2etest.ServiceLogs, "query", e2etest.Fault{Status: 429})
		cloud.InjectFault(e2etest.ServiceLogs, "query", e2etest.Fault{Status: 502, Times: 2})
		if evs, err := collect(ctx, c, q); err != nil || len(evs) != 200 {
			t.Fatalf("%d events, err %v", len(evs), err)
		}
	})
	t.Run("a dropped connection is retried", func(t *testing.T) {
		c := newClient(t, cloud)
		cloud.InjectFault(e2etest.ServiceLogs, "query", e2etest.Fault{Drop: true})
		if evs, err := collect(ctx, c, q); err != nil || len(evs) != 200 {
			t.Fatalf("%d events, err %v", len(evs), err)
		}
	})
	t.Run("persistent 503 is reported", func(t *testing.T) {
		c := newClient(t, cloud, func(c *audit.Config) { c.MaxRetries = 2 })
		cloud.InjectFault(e2etest.ServiceLogs, "query", e2etest.Fault{Status: 503, Times: 3})
		_, err := collect(ctx, c, q)
		var qe *audit.QueryError
		if !errors.Is(err, audit.ErrQueryFailed) || !errors.As(err, &qe) || qe.Status != 503 || qe.Attempts != 3 {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("a cut before any event is retried", func(t *testing.T) {
		c := newClient(t, cloud)
		cloud.InjectFault(e2etest.ServiceLogs, "query", e2etest.Fault{Drop: true, DropAfter: 60})
		if evs, err := collect(ctx, c, q); err != nil || len(evs) != 200 {
			t.Fatalf("%d events, err %v", len(evs), err)
		}
	})
	t.Run("a cut mid-way is resumed without duplicates", func(t *testing.T) {
		c := newClient(t, cloud)
		cloud.InjectFault(e2etest.ServiceLogs, "query", e2etest.Fault{Drop: true, DropAfter: 50000})
		evs, err := collect(ctx, c, q)
		if err != nil || len(evs) != 200 {
			t.Fatalf("%d events, err %v; want all 200", len(evs), err)
		}
		seen := map[string]bool{}
		for _, e := range evs {
			if seen[e.Message] {
				t.Fatalf("%s delivered twice", e.Message)
			}
			seen[e.Message] = true
		}
	})
	t.Run("a stream cut every time is reported", func(t *testing.T) {
		c := newClient(t, cloud, func(c *audit.Config) { c.MaxRetries = 2 })
		cloud.InjectFault(e2etest.ServiceLogs, "query", e2etest.Fault{Drop: true, DropAfter: 50000, Times: 3})
		evs, err := collect(ctx, c, q)
		var qe *audit.QueryError
		if !errors.Is(err, audit.ErrStreamCut) || !errors.As(err, &qe) || qe.Received == 0 || qe.Attempts != 3 ||
			qe.QueryID == "" || len(evs) == 0 || len(evs) == 200 {
			t.Fatalf("%d events, err %v; want some events then ErrStreamCut after 3 attempts", len(evs), err)
		}
	})
	t.Run("an error in the stream is reported", func(t *testing.T) {
		c := newClient(t, cloud)
		cloud.InjectFault(e2etest.ServiceLogs, "query", e2etest.Fault{Status: 200, Message: "archive bucket unreadable"})
		_, err := collect(ctx, c, q)
		if !errors.Is(err, audit.ErrQueryFailed) || !strings.Contains(err.Error(), "archive bucket unreadable") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("a malformed line is reported", func(t *testing.T) {
		c := newClient(t, cloud)
		cloud.InjectFault(e2etest.ServiceLogs, "query", e2etest.Fault{Status: 200, Code: "malformed"})
		_, err := collect(ctx, c, q)
		if !errors.Is(err, audit.ErrMalformedStream) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("an idle stream times out", func(t *testing.T) {
		c := newClient(t, cloud, func(c *audit.Config) { c.IdleTimeout = 20 * time.Millisecond; c.MaxRetries = 1 })
		cloud.InjectFault(e2etest.ServiceLogs, "query", e2etest.Fault{Latency: time.Second, Times: 2})
		start := time.Now()
		_, err := collect(ctx, c, q)
		if !errors.Is(err, audit.ErrIdle) || time.Since(start) > 900*time.Millisecond {
			t.Fatalf("err = %v after %v", err, time.Since(start))
		}
		cloud.ClearFaults()
	})
	t.Run("a wrong API key is not retried", func(t *testing.T) {
		c := newClient(t, cloud, func(c *audit.Config) {
			c.Authenticator = &core.IamAuthenticator{ApiKey: "wrong", URL: cloud.IAMURL}
		})
		_, err := collect(ctx, c, q)
		var qe *audit.QueryError
		if !errors.As(err, &qe) || qe.Status != 400 || qe.Attempts != 1 || strings.Contains(err.Error(), "wrong") {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestEventsCancel(t *testing.T) {
	cloud := startCloud(t)
	c := newClient(t, cloud)
	base := time.Now().Add(-time.Hour).Truncate(time.Second)
	record(cloud, base, 200)
	q := audit.Query{Start: base, End: base.Add(time.Hour)}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	n := 0
	var last error
	for _, err := range c.Events(ctx, q) {
		if err != nil {
			last = err
			break
		}
		if n++; n == 3 {
			cancel()
		}
	}
	if !errors.Is(last, context.Canceled) || n >= 200 {
		t.Fatalf("after cancel: %d events, err %v; want context.Canceled", n, last)
	}

	cancelled, cancel2 := context.WithCancel(context.Background())
	cancel2()
	if _, err := collect(cancelled, c, q); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled ctx: %v", err)
	}

	// Breaking out of the loop stops the stream; the client stays usable.
	for range c.Events(context.Background(), q) {
		break
	}
	if evs, err := collect(context.Background(), c, q); err != nil || len(evs) != 200 {
		t.Fatalf("after a break: %d events, err %v", len(evs), err)
	}
}

func TestBackground(t *testing.T) {
	cloud := startCloud(t)
	c := newClient(t, cloud)
	ctx := context.Background()
	old := time.Now().Add(-30 * 24 * time.Hour).Truncate(time.Second)
	record(cloud, old, 12) // beyond the frequent_search tier
	q := audit.Query{Start: old, End: old.Add(time.Hour), Actions: []string{"kms.secrets.unwrap"}}

	if evs, err := collect(ctx, c, q); err != nil || len(evs) != 0 {
		t.Fatalf("frequent_search: %d events, err %v; want none", len(evs), err)
	}
	archive := q
	archive.Tier = audit.TierArchive
	if evs, err := collect(ctx, c, archive); err != nil || len(evs) != 4 {
		t.Fatalf("archive: %d events, err %v; want 4", len(evs), err)
	}

	var evs []audit.Event
	for ev, err := range c.BackgroundEvents(ctx, q) {
		if err != nil {
			t.Fatal(err)
		}
		evs = append(evs, ev)
	}
	if len(evs) != 4 || evs[0].Action != "kms.secrets.unwrap" {
		t.Fatalf("background: %+v", evs)
	}

	limited := q
	limited.Limit = 2
	evs = nil
	var last error
	for ev, err := range c.BackgroundEvents(ctx, limited) {
		if err != nil {
			last = err
			break
		}
		evs = append(evs, ev)
	}
	if len(evs) != 2 || !errors.Is(last, audit.ErrTruncated) {
		t.Fatalf("limited background: %d events, err %v", len(evs), last)
	}

	b, err := c.Background(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Cancel(ctx); err != nil {
		t.Fatal(err)
	}
	st, err := b.Wait(ctx)
	var be *audit.BackgroundError
	if !errors.As(err, &be) || be.State != audit.BackgroundCancelled || st.State != audit.BackgroundCancelled || be.QueryID != b.ID {
		t.Fatalf("after cancel: %+v, %v", st, err)
	}
	for _, err := range b.Events(ctx) {
		if !errors.Is(err, audit.ErrBackgroundFailed) {
			t.Fatalf("events of a cancelled query: %v", err)
		}
	}

	cloud.InjectFault(e2etest.ServiceLogs, "submitBackgroundQuery", e2etest.Fault{Status: 503})
	cloud.InjectFault(e2etest.ServiceLogs, "getBackgroundQueryStatus", e2etest.Fault{Status: 429})
	if _, err := c.Background(ctx, q); err != nil {
		t.Fatalf("retried submit: %v", err)
	}
	bad := q
	bad.Start = time.Time{}
	if _, err := c.Background(ctx, bad); !errors.Is(err, audit.ErrInvalidQuery) {
		t.Fatalf("invalid background query: %v", err)
	}
}

// TestTrailFromRealCalls drives Key Protect through its official client and
// reads the trail of the root key back, with template and server events.
func TestTrailFromRealCalls(t *testing.T) {
	cloud := startCloud(t)
	ctx := context.Background()
	start := time.Now().Add(-time.Second)
	k, err := kp.New(kp.ClientConfig{BaseURL: cloud.KMSURL, APIKey: cloud.APIKey, TokenURL: cloud.OIDCTokenURL(),
		InstanceID: cloud.KPInstanceID}, kp.DefaultTransport())
	if err != nil {
		t.Fatal(err)
	}
	root, err := k.CreateRootKey(ctx, "trail-root", nil)
	if err != nil {
		t.Fatal(err)
	}
	dek, wdek, err := k.WrapCreateDEK(ctx, root.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	clear(dek)
	if _, _, err := k.UnwrapV2(ctx, root.ID, wdek, nil); err != nil {
		t.Fatal(err)
	}
	// Another key's events are not part of the trail.
	other, err := k.CreateRootKey(ctx, "other", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := k.WrapCreateDEK(ctx, other.ID, nil); err != nil {
		t.Fatal(err)
	}
	tplCRN := "crn:v1:bluemix:public:classic-infrastructure:us-south:a/" + cloud.AccountID + "::image-template:4242"
	cloud.RecordEvent(e2etest.Event{Action: "audit-log.vsi-image-template.create",
		Target: e2etest.EventTarget{ID: tplCRN, Name: "encrypted-ubuntu"}})
	cloud.RecordEvent(e2etest.Event{Action: "audit-log.vsi.provision",
		Target: e2etest.EventTarget{ID: "crn:v1:bluemix:public:classic-infrastructure:us-south:a/x::virtual-guest:99", Name: "web1"}})
	cloud.RecordEvent(e2etest.Event{Action: "audit-log.vsi.power-on",
		Target: e2etest.EventTarget{ID: "crn:v1:bluemix:public:classic-infrastructure:us-south:a/x::virtual-guest:99", Name: "web1.example.com"}})
	cloud.RecordEvent(e2etest.Event{Action: "audit-log.vsi.power-off", // another server
		Target: e2etest.EventTarget{ID: "crn:v1:bluemix:public:classic-infrastructure:us-south:a/x::virtual-guest:100", Name: "web10.example.com"}})

	c := newClient(t, cloud)
	trail, err := c.Trail(ctx, audit.Run{RootKeyCRN: root.CRN, TemplateID: "4242", Hostname: "web1", Start: start})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for i, ev := range trail {
		actions = append(actions, ev.Action)
		if i > 0 && ev.Time.Before(trail[i-1].Time) {
			t.Errorf("trail out of order at %d", i)
		}
		if strings.HasPrefix(ev.Action, "kms.") && (ev.Target.CRN != root.CRN || ev.Target.ID != root.ID || ev.Subsystem != "kms" ||
			ev.Initiator.ID == "" || ev.Initiator.HostAddress != "127.0.0.1" || ev.Outcome != "success") {
			t.Errorf("key event %+v", ev)
		}
	}
	want := "kms.secrets.create kms.secrets.wrap kms.secrets.unwrap audit-log.vsi-image-template.create audit-log.vsi.provision audit-log.vsi.power-on"
	if got := strings.Join(actions, " "); got != want {
		t.Errorf("trail actions:\n got %s\nwant %s", got, want)
	}
	if _, err := c.Trail(ctx, audit.Run{Start: start}); !errors.Is(err, audit.ErrInvalidQuery) {
		t.Errorf("empty run: %v", err)
	}
}

func TestBackgroundDataCutIsResumed(t *testing.T) {
	cloud := startCloud(t)
	c := newClient(t, cloud)
	old := time.Now().Add(-20 * 24 * time.Hour).Truncate(time.Second)
	record(cloud, old, 150)
	cloud.InjectFault(e2etest.ServiceLogs, "getBackgroundQueryData", e2etest.Fault{Drop: true, DropAfter: 40000})
	seen := map[string]bool{}
	for ev, err := range c.BackgroundEvents(context.Background(), audit.Query{Start: old, End: old.Add(time.Hour)}) {
		if err != nil {
			t.Fatal(err)
		}
		if seen[ev.Message] {
			t.Fatalf("%s delivered twice", ev.Message)
		}
		seen[ev.Message] = true
	}
	if len(seen) != 150 {
		t.Fatalf("%d events, want 150", len(seen))
	}
}

// TestLuceneRenderingMatchesDataPrime sends both renderings of the same
// queries to the emulated service (through the official client) and expects
// the same events: the Lucene subset e2etest parses is the one audit renders.
func TestLuceneRenderingMatchesDataPrime(t *testing.T) {
	cloud := startCloud(t)
	base := time.Now().Add(-time.Hour).Truncate(time.Second)
	record(cloud, base, 30)
	cloud.RecordEvent(e2etest.Event{EventTime: base, Action: "kms.secrets.wrap", Target: e2etest.EventTarget{ID: "x", Name: `q"uo\te' (x) OR *`}})
	logs, err := logsv0.NewLogsV0(&logsv0.LogsV0Options{URL: cloud.LogsURL,
		Authenticator: &core.IamAuthenticator{ApiKey: cloud.APIKey, URL: cloud.IAMURL}})
	if err != nil {
		t.Fatal(err)
	}
	count := func(text, syntax string) int {
		s, e := strfmt.DateTime(base), strfmt.DateTime(base.Add(time.Hour))
		cb := &countingCallback{}
		logs.Query(logs.NewQueryOptions().SetQuery(text).SetMetadata(&logsv0.ApisDataprimeV1Metadata{
			StartDate: &s, EndDate: &e, Syntax: &syntax}), cb)
		if cb.err != nil {
			t.Fatalf("%s %s: %v", syntax, text, cb.err)
		}
		return cb.n
	}
	for _, q := range []audit.Query{
		{Actions: []string{"kms.secrets."}},
		{Actions: []string{"kms.secrets.wrap", "audit-log.*"}, Outcome: "failure"},
		{TargetIDs: []string{"key-1", keyCRN(2)}},
		{TargetNames: []string{`q"uo\te' (x) OR *`}},
		{Initiators: []string{"owner@example.com"}, Actions: []string{"kms.secrets.unwrap"}},
	} {
		q.Start, q.End = base, base.Add(time.Hour)
		dp, err := q.DataPrime()
		if err != nil {
			t.Fatal(err)
		}
		lc, err := q.Lucene()
		if err != nil {
			t.Fatal(err)
		}
		nd, nl := count(dp, "dataprime"), count(lc, "lucene")
		if nd == 0 || nd != nl {
			t.Errorf("%+v: DataPrime matched %d, Lucene %d", q, nd, nl)
		}
	}
}

type countingCallback struct {
	n   int
	err error
}

func (c *countingCallback) OnClose()          {}
func (c *countingCallback) OnKeepAlive()      {}
func (c *countingCallback) OnError(err error) { c.err = err }
func (c *countingCallback) OnData(r *core.DetailedResponse) {
	if it, ok := r.Result.(*logsv0.QueryResponseStreamItem); ok && it != nil && it.Result != nil {
		c.n += len(it.Result.Results)
	}
}

func TestEventsRefusesAbsurdRanges(t *testing.T) {
	cloud := startCloud(t)
	c := newClient(t, cloud)
	start := time.Now()
	_, err := collect(context.Background(), c, audit.Query{Start: time.Time{}.Add(-time.Minute), End: time.Now()})
	if !errors.Is(err, audit.ErrInvalidQuery) || !strings.Contains(err.Error(), "windows") || time.Since(start) > time.Second {
		t.Fatalf("err = %v after %v", err, time.Since(start))
	}
	_, err = c.Trail(context.Background(), audit.Run{RootKeyCRN: keyCRN(1), Start: time.Time{}.Add(-time.Minute)})
	if !errors.Is(err, audit.ErrInvalidQuery) {
		t.Fatalf("Trail: %v", err)
	}
}

func TestEventsExpiredToken(t *testing.T) {
	cloud, err := e2etest.Start(e2etest.Options{TokenLifetime: time.Nanosecond})
	if err != nil {
		t.Fatal(err)
	}
	defer cloud.Close()
	tok := cloud.NewToken()
	c := newClient(t, cloud, func(c *audit.Config) { c.Authenticator = &core.BearerTokenAuthenticator{BearerToken: tok} })
	_, err = collect(context.Background(), c, audit.Query{Start: time.Now().Add(-time.Hour), End: time.Now()})
	var qe *audit.QueryError
	if !errors.As(err, &qe) || qe.Status != 401 || qe.Attempts != 1 || !strings.Contains(err.Error(), "expired") ||
		strings.Contains(err.Error(), tok) {
		t.Fatalf("err = %v", err)
	}
}

func TestEventsConcurrent(t *testing.T) {
	cloud := startCloud(t)
	c := newClient(t, cloud, func(c *audit.Config) { c.PageSize = 20 })
	base := time.Now().Add(-time.Hour).Truncate(time.Second)
	record(cloud, base, 60)
	errs := make(chan error, 4)
	for i := range 4 {
		go func() {
			q := audit.Query{Start: base, End: base.Add(time.Hour), Actions: []string{[]string{"kms.secrets.wrap", "kms.secrets.unwrap", "audit-log.", "kms."}[i]}}
			evs, err := collect(context.Background(), c, q)
			if err == nil && len(evs) != []int{20, 20, 20, 40}[i] {
				err = fmt.Errorf("query %d: %d events", i, len(evs))
			}
			errs <- err
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

// TestEventsKeepAlives: a query that runs longer than IdleTimeout succeeds
// because the service sends keep-alives meanwhile.
func TestEventsKeepAlives(t *testing.T) {
	cloud, err := e2etest.Start(e2etest.Options{TimeScale: 0.2}) // a query runs 400 ms, keep-alives every 100 ms
	if err != nil {
		t.Fatal(err)
	}
	defer cloud.Close()
	base := time.Now().Add(-time.Hour)
	record(cloud, base, 3)
	c := newClient(t, cloud, func(c *audit.Config) { c.IdleTimeout = 300 * time.Millisecond; c.MaxRetries = -1 })
	if evs, err := collect(context.Background(), c, audit.Query{Start: base, End: base.Add(time.Hour)}); err != nil || len(evs) != 3 {
		t.Fatalf("%d events, err %v", len(evs), err)
	}
}
