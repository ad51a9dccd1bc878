package e2e_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	kp "github.com/IBM/keyprotect-go-client"
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
