package keys_test

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/e2eimage/e2e/e2etest"
	"github.com/e2eimage/e2e/keys"
)

// An answer cut mid-body was returned as an untyped "unexpected EOF"
// without a retry (kp reads the body after its retry layer).
func TestCutAnswersRetriedAndTyped(t *testing.T) {
	c := startCloud(t)
	cl := newClient(t, c, c.KPInstanceID)
	ctx := context.Background()
	k, err := cl.CreateRootKey(ctx, "root")
	if err != nil {
		t.Fatal(err)
	}
	dek, w, err := cl.GenerateDEK(ctx, k.ID)
	if err != nil {
		t.Fatal(err)
	}
	defer dek.Destroy()

	cut := e2etest.Fault{Drop: true, DropAfter: 10}
	c.InjectFault(e2etest.ServiceKMS, "unwrap", cut)
	got, _, err := cl.UnwrapDEK(ctx, k.ID, w)
	if err != nil {
		t.Fatalf("UnwrapDEK after one cut answer: %v", err)
	}
	if !bytes.Equal(got.Bytes(), dek.Bytes()) {
		t.Fatal("unwrapped DEK differs")
	}
	got.Destroy()
	c.InjectFault(e2etest.ServiceKMS, "getKey", cut)
	if _, err := cl.GetKey(ctx, k.ID); err != nil {
		t.Fatalf("GetKey after one cut answer: %v", err)
	}

	// Cut every time: a typed error once the retries are spent.
	cut.Times = 10
	c.InjectFault(e2etest.ServiceKMS, "getKey", cut)
	if _, err := cl.GetKey(ctx, k.ID); !errors.Is(err, keys.ErrTransport) {
		t.Fatalf("GetKey with every answer cut: %v, want ErrTransport", err)
	}
	c.ClearFaults()
}
