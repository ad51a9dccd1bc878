// Package testtool lets tests that need a real external tool (cryptsetup,
// qemu-img, versitygw) skip with a clear message when it is absent, and fail
// instead under CI, where .ci/run installs every tool and sets
// E2E_REQUIRE_TOOLS=1.
package testtool

import (
	"os"
	"os/exec"
	"testing"
)

// RequireEnv is the environment variable under which a missing tool fails
// the test instead of skipping it.
const RequireEnv = "E2E_REQUIRE_TOOLS"

// Path returns the path of the named executable, or skips (fails under
// E2E_REQUIRE_TOOLS=1) the test when it is not installed.
func Path(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	Unavailable(t, name+" not installed (bash .ci/run installs it)", err)
	return ""
}

// Unavailable skips the test for a missing tool or platform feature (say
// SEEK_DATA on the temp dir's file system), or fails it under
// E2E_REQUIRE_TOOLS=1, where CI has everything the tests need.
func Unavailable(t testing.TB, what string, err error) {
	t.Helper()
	if os.Getenv(RequireEnv) != "" {
		t.Fatalf("%s, but %s is set: %v", what, RequireEnv, err)
	}
	t.Skipf("%s: %v; skipping", what, err)
}
