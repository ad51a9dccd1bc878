package e2e_test

import (
	"bytes"
	"context"
	"errors"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/e2eimage/e2e"
	"github.com/e2eimage/e2e/internal/demo"
)

// strayGoroutines lists goroutines still running code of the SDK's own
// packages (not the emulator, not the test): workers, uploaders or pollers
// that Run left behind. It waits a little for goroutines that are exiting.
func strayGoroutines() []string {
	var stray []string
	for range 50 {
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		stray = stray[:0]
		for _, g := range strings.Split(string(buf), "\n\n") {
			if strings.Contains(g, "github.com/e2eimage/e2e/") && !strings.Contains(g, "/e2etest.") &&
				!strings.Contains(g, "e2e_test.") && !strings.Contains(g, "github.com/e2eimage/e2e/e2etest") {
				stray = append(stray, g)
			}
		}
		if len(stray) == 0 {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return stray
}

// TestRunLeavesNoGoroutine: after Run returns, successfully or cancelled
// mid-upload, none of its encryption workers or upload goroutines remain.
func TestRunLeavesNoGoroutine(t *testing.T) {
	cloud := startCloud(t)
	img := demo.Image(6<<20, 7)
	for _, cancelMidUpload := range []bool{true, false} {
		name := map[bool]string{true: "cancelled", false: "finished"}[cancelMidUpload]
		t.Run(name, func(t *testing.T) {
			cfg := testConfig(cloud)
			cfg.Audit = false
			cfg.Server = nil
			cfg.Image.Name += "-" + name
			cfg.COS.Object = ""
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			p, err := e2e.New(cfg, e2e.WithStateStore(&e2e.MemoryStore{}), e2e.WithProgress(func(u e2e.Update) {
				if cancelMidUpload && u.Stage == e2e.StageEncrypt && u.Done > 0 && !u.Finished {
					cancel()
				}
			}))
			if err != nil {
				t.Fatal(err)
			}
			_, err = p.Run(ctx, e2e.FromReader(bytes.NewReader(img), int64(len(img))))
			if cancelMidUpload && !errors.Is(err, context.Canceled) {
				t.Fatalf("err = %v, want context.Canceled", err)
			}
			if !cancelMidUpload && err != nil {
				t.Fatal(err)
			}
			if stray := strayGoroutines(); len(stray) > 0 {
				t.Errorf("%d goroutines of the SDK left after Run returned:\n%s", len(stray), strings.Join(stray, "\n\n"))
			}
		})
	}
}
