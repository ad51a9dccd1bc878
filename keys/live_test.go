package keys_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/e2eimage/e2e/keys"
)

// TestLive runs against IBM Cloud Key Protect only when IBMCLOUD_API_KEY and
// KP_INSTANCE_ID are set (KP_ENDPOINT and IBMCLOUD_IAM_URL optional; see
// the package doc). It creates a root key, wraps and unwraps a DEK, rotates,
// and deletes the key.
func TestLive(t *testing.T) {
	apiKey, inst := os.Getenv("IBMCLOUD_API_KEY"), os.Getenv("KP_INSTANCE_ID")
	if apiKey == "" || inst == "" {
		t.Skip("IBMCLOUD_API_KEY and KP_INSTANCE_ID not set; skipping the live Key Protect test")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cl, err := keys.NewClient(keys.Config{Endpoint: os.Getenv("KP_ENDPOINT"), InstanceID: inst,
		APIKey: apiKey, IAMURL: os.Getenv("IBMCLOUD_IAM_URL")})
	if err != nil {
		t.Fatal(err)
	}
	root, err := cl.CreateRootKey(ctx, fmt.Sprintf("e2e-live-test-%d", time.Now().Unix()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := cl.DeleteKey(context.Background(), root.ID); err != nil {
			t.Errorf("cleanup: delete root key %s: %v", root.ID, err)
		}
	})
	dek, w, err := cl.GenerateDEK(ctx, root.ID)
	if err != nil {
		t.Fatal(err)
	}
	defer dek.Destroy()
	if err := cl.Rotate(ctx, root.ID); err != nil {
		t.Fatal(err)
	}
	got, _, err := cl.UnwrapDEK(ctx, root.ID, w)
	if err != nil {
		t.Fatal(err)
	}
	defer got.Destroy()
	if !bytes.Equal(got.Bytes(), dek.Bytes()) {
		t.Fatal("the unwrapped DEK differs")
	}
}
