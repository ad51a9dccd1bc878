package keys_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/e2eimage/e2e/e2etest"
	"github.com/e2eimage/e2e/keys"
)

// A createKey whose answer is lost must not be sent again: the kp client
// retries POSTs on connection errors and 5xx, which made a second root key.
func TestCreateRootKeyNotRetried(t *testing.T) {
	c := startCloud(t)
	cl := newClient(t, c, c.KPInstanceID)
	ctx := context.Background()

	// Handled, then the connection is cut mid-answer.
	c.InjectFault(e2etest.ServiceKMS, "createKey", e2etest.Fault{Drop: true, DropAfter: 1})
	_, err := cl.CreateRootKey(ctx, "lost-answer")
	if !errors.Is(err, keys.ErrOutcomeUnknown) {
		t.Fatalf("CreateRootKey with a lost answer: %v, want ErrOutcomeUnknown", err)
	}
	if n := len(c.Keys()); n != 1 {
		t.Fatalf("%d keys in the cloud after one lost create, want 1 (the request was resent)", n)
	}

	// A gateway in front of Key Protect loses the answer of a create that
	// went through: before the fix, kp resent it and made a second key.
	c.InjectFault(e2etest.ServiceKMS, "createKey", e2etest.Fault{Status: http.StatusBadGateway, AfterHandling: true,
		Code: "GATEWAY_TIMEOUT_ERR", Message: "upstream timed out"})
	_, err = cl.CreateRootKey(ctx, "behind-gateway")
	var se *keys.ServiceError
	if !errors.Is(err, keys.ErrOutcomeUnknown) || !errors.As(err, &se) || se.Status != http.StatusBadGateway ||
		se.CorrelationID == "" || !strings.Contains(se.Message, "upstream timed out") {
		t.Fatalf("CreateRootKey answered 502 after creating: %v, want a *ServiceError 502 with a correlation ID wrapping ErrOutcomeUnknown", err)
	}
	if n := len(c.Keys()); n != 2 {
		t.Fatalf("%d keys in the cloud, want 2 (one per create call)", n)
	}
	if k, err := cl.EnsureRootKey(ctx, "behind-gateway"); err != nil || len(c.Keys()) != 2 {
		t.Fatalf("EnsureRootKey of the key whose answer was lost = %+v, %v; %d keys, want 2", k, err, len(c.Keys()))
	}

	// A 5xx: the key may or may not exist; no retry either.
	c.InjectFault(e2etest.ServiceKMS, "createKey", e2etest.Fault{Status: 503})
	_, err = cl.CreateRootKey(ctx, "unavailable")
	if !errors.Is(err, keys.ErrOutcomeUnknown) || !errors.As(err, &se) || se.Status != 503 || se.CorrelationID == "" {
		t.Fatalf("CreateRootKey on 503: %v, want a *ServiceError 503 with a correlation ID wrapping ErrOutcomeUnknown", err)
	}
	if n := len(c.Keys()); n != 2 {
		t.Fatalf("%d keys in the cloud, want 2", n)
	}

	// EnsureRootKey looks again after an unknown outcome and finds the key.
	c.InjectFault(e2etest.ServiceKMS, "createKey", e2etest.Fault{Drop: true, DropAfter: 1})
	k, err := cl.EnsureRootKey(ctx, "ensured")
	if err != nil || k.Name != "ensured" {
		t.Fatalf("EnsureRootKey after a lost create answer = %+v, %v", k, err)
	}
	if n := len(c.Keys()); n != 3 {
		t.Fatalf("%d keys in the cloud, want 3", n)
	}

	// Other calls are still retried.
	c.InjectFault(e2etest.ServiceKMS, "getKey", e2etest.Fault{Status: 503})
	if _, err := cl.GetKey(ctx, k.ID); err != nil {
		t.Fatalf("GetKey after one 503: %v", err)
	}
}

// An imported key is created once too.
func TestImportRootKeyNotRetried(t *testing.T) {
	c := startCloud(t)
	cl := newClient(t, c, c.KPInstanceID)
	c.InjectFault(e2etest.ServiceKMS, "createKey", e2etest.Fault{Drop: true, DropAfter: 1})
	payload := make([]byte, 32)
	if _, err := cl.ImportRootKey(context.Background(), "byok", payload); !errors.Is(err, keys.ErrOutcomeUnknown) {
		t.Fatalf("ImportRootKey with a lost answer: %v, want ErrOutcomeUnknown", err)
	}
	if n := len(c.Keys()); n != 1 {
		t.Fatalf("%d keys in the cloud, want 1", n)
	}
}
