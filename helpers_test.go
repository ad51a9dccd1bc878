package e2e_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	kp "github.com/IBM/keyprotect-go-client"

	"github.com/e2eimage/e2e"
)

func writeTemp(t *testing.T, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "image.raw")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func init() {
	// keyprotect-go-client's retry limits are package variables (no
	// per-client setting): keep its backoff short in tests.
	kp.RetryWaitMax = 50 * time.Millisecond
}

// runCrashingAfter runs the pipeline on img and cancels it, as a crash
// would, as soon as stage has finished; it returns Run's error.
func runCrashingAfter(t *testing.T, cfg e2e.Config, store e2e.StateStore, stage e2e.Stage, img []byte) error {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	p, err := e2e.New(cfg, e2e.WithStateStore(store), e2e.WithProgress(func(u e2e.Update) {
		if u.Stage == stage && u.Finished {
			cancel()
		}
	}))
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.Run(ctx, e2e.FromReader(bytes.NewReader(img), int64(len(img))))
	return err
}
