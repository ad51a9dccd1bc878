package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/e2eimage/e2e"
	"github.com/e2eimage/e2e/e2etest"
)

func TestAudit(t *testing.T) {
	cloud := startCloud(t)
	dir := t.TempDir()
	code, out, stderr := runCLI(t, nil, "keys", "ensure-root", "audited-root")
	if code != 0 {
		t.Fatal(stderr)
	}
	id, crn := field(t, out, "id"), field(t, out, "crn")
	for range 2 {
		if code, _, stderr := runCLI(t, nil, "keys", "generate-dek", "--root-key", id); code != 0 {
			t.Fatal(stderr)
		}
	}
	// Another key's events must not show when filtering on this one.
	code, out, _ = runCLI(t, nil, "keys", "ensure-root", "other-root")
	if code != 0 {
		t.Fatal(out)
	}
	other := field(t, out, "id")
	if code, _, stderr := runCLI(t, nil, "keys", "generate-dek", "--root-key", other); code != 0 {
		t.Fatal(stderr)
	}

	t.Run("text", func(t *testing.T) {
		code, stdout, stderr := runCLI(t, nil, "audit", "--since", "1h", "--action", "kms.secrets.wrap", "--target", id)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
		if len(lines) != 2 {
			t.Fatalf("want the 2 wraps of key %s, got:\n%s", id, stdout)
		}
		for _, l := range lines {
			if !strings.Contains(l, "kms.secrets.wrap") || !strings.Contains(l, id) || !strings.Contains(l, "success") || strings.Contains(l, other) {
				t.Errorf("line %q", l)
			}
		}
	})
	t.Run("json", func(t *testing.T) {
		code, stdout, stderr := runCLI(t, nil, "audit", "--since", "1h", "--action", "kms.secrets.", "--json")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		keysSeen := map[string]int{}
		for _, l := range strings.Split(strings.TrimSuffix(stdout, "\n"), "\n") {
			var ev eventJSON
			dec := json.NewDecoder(strings.NewReader(l))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&ev); err != nil {
				t.Fatalf("line %q: %v", l, err)
			}
			if !strings.HasPrefix(ev.Action, "kms.secrets.") || ev.Time.IsZero() || ev.Target.ID == "" {
				t.Errorf("event %+v", ev)
			}
			keysSeen[ev.Target.ID]++
		}
		if keysSeen[id] < 2 || keysSeen[other] < 1 {
			t.Errorf("events per key %v, want both keys' wraps", keysSeen)
		}
	})
	t.Run("limit", func(t *testing.T) {
		code, stdout, stderr := runCLI(t, nil, "audit", "--since", "1h", "--action", "kms.secrets.", "--limit", "1")
		if code != 1 || strings.Count(stdout, "\n") != 1 {
			t.Errorf("exit %d, stdout %q", code, stdout)
		}
		checkOneLineError(t, stderr, "audit: results truncated")
	})
	t.Run("state", func(t *testing.T) {
		state := filepath.Join(dir, "e2e-state.json")
		st := e2e.State{RootKeyID: id, RootKeyCRN: crn, StartedAt: time.Now().Add(-time.Minute)}
		if err := (e2e.FileStore{Path: state}).Save(t.Context(), st); err != nil {
			t.Fatal(err)
		}
		code, stdout, stderr := runCLI(t, nil, "audit", "--state", state)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		if n := strings.Count(stdout, "kms.secrets.wrap"); n != 2 || strings.Contains(stdout, other) {
			t.Errorf("the run's trail should hold its key's 2 wraps and nothing of the other key:\n%s", stdout)
		}
	})
	t.Run("errors", func(t *testing.T) {
		empty := filepath.Join(dir, "empty-state.json")
		if err := (e2e.FileStore{Path: empty}).Save(t.Context(), e2e.State{}); err != nil {
			t.Fatal(err)
		}
		corrupt := writeFile(t, dir, "corrupt.json", []byte("{"))
		for _, tc := range []badCase{
			{"nothing", []string{"audit"}, 2, "--since or --state is required"},
			{"negative since", []string{"audit", "--since", "-1h"}, 2, "--since must be positive"},
			{"bad since", []string{"audit", "--since", "yesterday"}, 2, "invalid value"},
			{"bad until", []string{"audit", "--since", "1h", "--until", "tomorrow"}, 2, "not an RFC 3339 time"},
			{"bad outcome", []string{"audit", "--since", "1h", "--outcome", "meh"}, 2, "--outcome must be"},
			{"empty action", []string{"audit", "--since", "1h", "--action", ""}, 2, "empty value"},
			{"state and filter", []string{"audit", "--state", empty, "--action", "kms."}, 2, "--state reads a run's whole trail"},
			{"missing state", []string{"audit", "--state", filepath.Join(dir, "none.json")}, 1, "no such file"},
			{"empty state", []string{"audit", "--state", empty}, 1, "records no run"},
			{"corrupt state", []string{"audit", "--state", corrupt}, 1, "is corrupt"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				code, stdout, stderr := runCLI(t, nil, tc.args...)
				if code != tc.code || stdout != "" {
					t.Errorf("exit %d (want %d), stdout %q", code, tc.code, stdout)
				}
				checkOneLineError(t, stderr, tc.want)
			})
		}

		cloud.InjectFault(e2etest.ServiceLogs, "query", e2etest.Fault{Status: 403})
		code, stdout, stderr := runCLI(t, nil, "audit", "--since", "1h")
		if code != 1 || stdout != "" {
			t.Errorf("refused query: exit %d, stdout %q", code, stdout)
		}
		checkOneLineError(t, stderr, "audit: query failed")

		t.Setenv("E2E_LOGS_URL", "")
		code, _, stderr = runCLI(t, nil, "audit", "--since", "1h")
		if code != 2 {
			t.Errorf("no logs endpoint: exit %d", code)
		}
		checkOneLineError(t, stderr, "E2E_LOGS_URL is not set")
		t.Setenv("E2E_LOGS_URL", fmt.Sprintf("ftp://%s", "example.com"))
		code, _, stderr = runCLI(t, nil, "audit", "--since", "1h")
		if code != 1 {
			t.Errorf("non-http logs endpoint: exit %d", code)
		}
		checkOneLineError(t, stderr, "audit: invalid config")
	})
}
