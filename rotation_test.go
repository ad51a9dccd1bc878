package e2e_test

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/e2eimage/e2e"
	"github.com/e2eimage/e2e/internal/demo"
	"github.com/e2eimage/e2e/keys"
)

// TestRerunAfterRootKeyRotation: the root key rotates between a crashed run
// and its rerun. The rerun unwraps the saved WDEK, keeps the WDEK rewrapped
// under the newest key version (saved), imports with it, and the object
// still decrypts with it.
func TestRerunAfterRootKeyRotation(t *testing.T) {
	cloud := startCloud(t)
	cfg := testConfig(cloud)
	cfg.Audit = false
	cfg.Server = nil
	img := demo.Image(1<<20, 5)
	store := &e2e.MemoryStore{}
	if err := runCrashingAfter(t, cfg, store, e2e.StageVerify, img); !errors.Is(err, context.Canceled) {
		t.Fatalf("first run: %v, want context.Canceled", err)
	}
	before, _ := store.Load(context.Background())
	kc, err := keys.NewClient(keys.Config{Endpoint: cloud.KMSURL, InstanceID: cloud.KPInstanceID, APIKey: cloud.APIKey, IAMURL: cloud.IAMURL})
	if err != nil {
		t.Fatal(err)
	}
	if err := kc.Rotate(context.Background(), before.RootKeyID); err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	p2, err := e2e.New(cfg, e2e.WithStateStore(store), e2e.WithProgress(rec.fn))
	if err != nil {
		t.Fatal(err)
	}
	res, err := p2.Run(context.Background(), e2e.FromReader(bytes.NewReader(img), int64(len(img))))
	if err != nil {
		t.Fatalf("rerun after rotation: %v", err)
	}
	if bytes.Equal(res.State.WDEK, before.WDEK) {
		t.Error("the WDEK saved after the rotation is still the one wrapped by the old key version")
	}
	if s := rec.skipped(); !s[e2e.StageEncrypt] || !s[e2e.StageVerify] {
		t.Errorf("the rerun redid the upload or verification after a rotation (skipped: %v)", s)
	}
	if got := objectPlaintext(t, cloud, cfg, res.State); !bytes.Equal(got, img) {
		t.Error("object does not decrypt with the rewrapped WDEK")
	}
	assertOneOfEach(t, cloud, cfg)
}
