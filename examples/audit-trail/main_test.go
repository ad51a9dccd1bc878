package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/e2eimage/e2e/audit"
	"github.com/e2eimage/e2e/e2etest"
	"github.com/e2eimage/e2e/iam"
	"github.com/e2eimage/e2e/keys"
)

func prepared(t *testing.T) (*e2etest.Cloud, map[string]string) {
	t.Helper()
	cloud, err := e2etest.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cloud.Close() })
	m, err := prepare(context.Background(), cloud)
	if err != nil {
		t.Fatal(err)
	}
	return cloud, m
}

func envOf(m map[string]string, extra ...string) func(string) string {
	c := map[string]string{}
	for k, v := range m {
		c[k] = v
	}
	for i := 0; i+1 < len(extra); i += 2 {
		c[extra[i]] = extra[i+1]
	}
	return func(k string) string { return c[k] }
}

// The output lists exactly the cloud's events on the root key, with the
// right counts, and none of another key's.
func TestRunListsTheKeysEvents(t *testing.T) {
	cloud, m := prepared(t)
	ctx := context.Background()
	kc, _ := keys.NewClient(keys.Config{Endpoint: cloud.KMSURL, InstanceID: cloud.KPInstanceID, APIKey: cloud.APIKey, IAMURL: cloud.IAMURL})
	other, err := kc.CreateRootKey(ctx, "other")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := kc.GenerateDEK(ctx, other.ID); err != nil {
		t.Fatal(err)
	}

	var out bytes.Buffer
	if err := run(ctx, &out, envOf(m)); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	t.Log(out.String())
	var ok, failed int
	for _, ev := range cloud.Events() {
		if ev.Target.ID != m["E2E_ROOT_KEY_CRN"] || !strings.HasPrefix(ev.Action, "kms.secrets.") {
			continue
		}
		if !strings.Contains(out.String(), fmt.Sprintf("%-22s %-8s", ev.Action, ev.Outcome)) {
			t.Errorf("event %s %s is not listed", ev.Action, ev.Outcome)
		}
		switch ev.Outcome {
		case "success":
			ok++
		case "failure":
			failed++
		}
	}
	if ok < 3 || failed != 1 {
		t.Fatalf("the cloud recorded %d successes and %d failures on the key, want ≥3 and 1", ok, failed)
	}
	if want := fmt.Sprintf("%d succeeded, %d failed", ok, failed); !strings.Contains(out.String(), want) {
		t.Errorf("output lacks %q", want)
	}
	if want := fmt.Sprintf("trail of the run (%d events)", ok+failed); !strings.Contains(out.String(), want) {
		t.Errorf("output lacks %q", want)
	}
	if strings.Contains(out.String(), other.ID) {
		t.Error("the other key's events are listed")
	}
}

func TestRunLimit(t *testing.T) {
	_, m := prepared(t)
	var out bytes.Buffer
	if err := run(context.Background(), &out, envOf(m, "E2E_LIMIT", "2")); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "more events than E2E_LIMIT") || !strings.Contains(out.String(), "2 succeeded, 0 failed") {
		t.Errorf("output:\n%s", out.String())
	}
}

func TestRunDefault(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), &out, func(string) string { return "" }); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "1 failed") || !strings.Contains(out.String(), "kms.secrets.wrap") {
		t.Errorf("output:\n%s", out.String())
	}
}

func TestRunFailures(t *testing.T) {
	cloud, m := prepared(t)
	cloud.InjectFault(e2etest.ServiceLogs, "query", e2etest.Fault{Status: 400, Message: "bad query"})
	err := run(context.Background(), new(bytes.Buffer), envOf(m))
	var qe *audit.QueryError
	if !errors.Is(err, audit.ErrQueryFailed) || !errors.As(err, &qe) || qe.Status != 400 {
		t.Errorf("refused query: %v", err)
	}
	cloud.ClearFaults()

	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	if err := run(cancelled, new(bytes.Buffer), envOf(m)); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
	for _, bad := range [][]string{{"E2E_LOGS_URL", ""}, {"E2E_SINCE", "yesterday"}, {"E2E_LIMIT", "many"}} {
		if err := run(context.Background(), new(bytes.Buffer), envOf(m, bad...)); err == nil {
			t.Errorf("%s=%q: no error", bad[0], bad[1])
		}
	}
	if err := run(context.Background(), new(bytes.Buffer), envOf(m, "IBMCLOUD_API_KEY", "not-a-key")); !errors.Is(err, iam.ErrInvalidAPIKey) {
		t.Errorf("a wrong API key: %v", err)
	}
}
