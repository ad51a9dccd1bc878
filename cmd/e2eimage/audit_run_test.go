package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/e2eimage/e2e/internal/demo"
)

// TestAuditTrailOfARun runs the whole pipeline with `e2eimage run` against
// the emulated cloud, then reads its trail back with `audit --state`: the
// key's wraps and the import's unwrap, the template and the server.
func TestAuditTrailOfARun(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the whole pipeline; skipped in -short mode")
	}
	cloud := startCloud(t)
	dir := t.TempDir()
	cfg := demo.Config(cloud)
	cfg.StateFile = filepath.Join(dir, "e2e-state.json")
	b, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	cfgFile := writeFile(t, dir, "config.json", b)
	img := writeFile(t, dir, "disk.raw", demo.Image(2<<20, 1))
	code, stdout, stderr := runCLI(t, nil, "run", "--config", cfgFile, "--in", img)
	if code != 0 {
		t.Fatalf("run: exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "template") || !strings.Contains(stdout, "server") {
		t.Fatalf("run summary:\n%s", stdout)
	}

	t.Setenv("E2E_IMAGE_NAME", cfg.Image.Name)
	code, stdout, stderr = runCLI(t, nil, "audit", "--state", cfg.StateFile, "--json")
	if code != 0 {
		t.Fatalf("audit --state: exit %d: %s", code, stderr)
	}
	actions := map[string]bool{}
	for _, l := range strings.Split(strings.TrimSuffix(stdout, "\n"), "\n") {
		var ev eventJSON
		if err := json.Unmarshal([]byte(l), &ev); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		actions[ev.Action] = true
	}
	var missing []string
	for _, want := range []string{"kms.secrets.wrap", "kms.secrets.unwrap", "audit-log.vsi-image-template.create", "audit-log.vsi.provision"} {
		if !actions[want] {
			missing = append(missing, want)
		}
	}
	if len(missing) > 0 {
		t.Errorf("the run's trail lacks %v; it holds %v", missing, actions)
	}
}
