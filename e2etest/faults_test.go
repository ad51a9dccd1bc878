package e2etest_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/e2eimage/e2e/e2etest"
)

// Fault.AfterHandling lets the call take effect and answers the error: the
// official kp client, which resends a createKey answered 5xx, then makes
// two keys — the behaviour the fault exists to expose.
func TestFaultAfterHandling(t *testing.T) {
	c := kmsCloud(t)
	k := kpClient(t, c, c.KPInstanceID, c.APIKey)
	c.InjectFault(e2etest.ServiceKMS, "createKey", e2etest.Fault{Status: http.StatusBadGateway, AfterHandling: true})
	if _, err := k.CreateRootKey(context.Background(), "twice", nil); err != nil {
		t.Fatalf("CreateRootKey (retried by kp): %v", err)
	}
	if n := len(c.Keys()); n != 2 {
		t.Fatalf("%d keys, want 2: the first create took effect and its 502 made kp resend it", n)
	}

	// Without AfterHandling the call is refused before it runs.
	c.InjectFault(e2etest.ServiceKMS, "createKey", e2etest.Fault{Status: http.StatusBadGateway})
	if _, err := k.CreateRootKey(context.Background(), "once", nil); err != nil {
		t.Fatalf("CreateRootKey: %v", err)
	}
	if n := len(c.Keys()); n != 3 {
		t.Fatalf("%d keys, want 3", n)
	}
}
