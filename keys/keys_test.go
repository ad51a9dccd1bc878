package keys_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/IBM/go-sdk-core/v5/core"
	kp "github.com/IBM/keyprotect-go-client"

	"github.com/e2eimage/e2e/e2etest"
	"github.com/e2eimage/e2e/keys"
)

func init() {
	// The kp client retries 429/5xx up to 4 times, 30 s apart: keep fault tests fast.
	kp.RetryMax, kp.RetryWaitMax = 2, 20*time.Millisecond
}

func startCloud(t *testing.T, opts ...e2etest.Options) *e2etest.Cloud {
	t.Helper()
	c, err := e2etest.Start(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func newClient(t *testing.T, c *e2etest.Cloud, instance string) *keys.Client {
	t.Helper()
	cl, err := keys.NewClient(keys.Config{Endpoint: c.KMSURL, InstanceID: instance, APIKey: c.APIKey, IAMURL: c.IAMURL,
		HPCS: instance == c.HPCSInstanceID})
	if err != nil {
		t.Fatal(err)
	}
	return cl
}

func TestRootKeys(t *testing.T) {
	c := startCloud(t)
	cl := newClient(t, c, c.KPInstanceID)
	ctx := context.Background()

	k, err := cl.EnsureRootKey(ctx, "images")
	if err != nil {
		t.Fatal(err)
	}
	if !k.Root || k.State != keys.Active || !strings.HasSuffix(k.CRN, ":"+c.KPInstanceID+":key:"+k.ID) || k.Version == "" {
		t.Fatalf("key = %+v", k)
	}
	again, err := cl.EnsureRootKey(ctx, "images")
	if err != nil || again.ID != k.ID {
		t.Fatalf("EnsureRootKey made a duplicate: %+v, %v", again, err)
	}
	if n := len(c.Keys()); n != 1 {
		t.Fatalf("%d keys in the cloud, want 1", n)
	}
	got, err := cl.GetKey(ctx, k.ID)
	if err != nil || got.CRN != k.CRN || got.Name != "images" {
		t.Fatalf("GetKey = %+v, %v", got, err)
	}
	if err := cl.SetAlias(ctx, k.ID, "images-alias"); err != nil {
		t.Fatal(err)
	}
	if byAlias, err := cl.GetKey(ctx, "images-alias"); err != nil || byAlias.ID != k.ID || byAlias.Aliases[0] != "images-alias" {
		t.Fatalf("GetKey(alias) = %+v, %v", byAlias, err)
	}
	if _, _, err := cl.GenerateDEK(ctx, "images-alias"); err != nil {
		t.Fatalf("GenerateDEK by alias: %v", err)
	}
	if _, err := cl.GetKey(ctx, "no-such-key"); !errors.Is(err, keys.ErrKeyNotFound) {
		t.Fatalf("GetKey(unknown): %v", err)
	}
	if _, err := cl.FindRootKey(ctx, "nothing"); !errors.Is(err, keys.ErrKeyNotFound) {
		t.Fatalf("FindRootKey(unknown): %v", err)
	}

	// A disabled key is not reused: Ensure makes a fresh active one.
	if err := cl.Disable(ctx, k.ID); err != nil {
		t.Fatal(err)
	}
	if got, _ := cl.GetKey(ctx, k.ID); got.State != keys.Suspended {
		t.Fatalf("state after Disable = %v", got.State)
	}
	fresh, err := cl.EnsureRootKey(ctx, "images")
	if err != nil || fresh.ID == k.ID {
		t.Fatalf("Ensure with the only key disabled = %+v, %v", fresh, err)
	}
	if err := cl.Enable(ctx, k.ID); err != nil {
		t.Fatal(err)
	}
	var se *keys.KeyStateError
	if err := cl.Enable(ctx, k.ID); !errors.As(err, &se) || se.State != keys.Active || !errors.Is(err, keys.ErrKeyNotActive) {
		t.Fatalf("Enable of an active key: %v", err)
	}
	all, err := cl.ListRootKeys(ctx)
	if err != nil || len(all) != 2 {
		t.Fatalf("ListRootKeys = %d, %v", len(all), err)
	}

	// Rotation makes a new version.
	if err := cl.Rotate(ctx, k.ID); err != nil {
		t.Fatal(err)
	}
	if got, _ := cl.GetKey(ctx, k.ID); got.Version == k.Version || got.LastRotate.IsZero() {
		t.Fatalf("after Rotate: %+v", got)
	}

	if err := cl.DeleteKey(ctx, fresh.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.GetKey(ctx, fresh.ID); !errors.As(err, &se) || se.State != keys.Destroyed {
		t.Fatalf("GetKey(deleted): %v", err)
	}
	if err := cl.DeleteKey(ctx, fresh.ID); !errors.Is(err, keys.ErrKeyNotActive) {
		t.Fatalf("second delete: %v", err)
	}
}

func TestImportRootKey(t *testing.T) {
	c := startCloud(t)
	cl := newClient(t, c, c.KPInstanceID)
	ctx := context.Background()
	for _, n := range []int{16, 24, 32} {
		material := make([]byte, n)
		_, _ = rand.Read(material)
		k, err := cl.ImportRootKey(ctx, "imported", material)
		if err != nil || !k.Imported || !k.Root {
			t.Fatalf("import %d bytes = %+v, %v", n, k, err)
		}
	}
	for _, n := range []int{0, 15, 20, 33, 64} {
		if _, err := cl.ImportRootKey(ctx, "bad", make([]byte, n)); !errors.Is(err, keys.ErrBadRequest) {
			t.Fatalf("import of %d bytes: %v", n, err)
		}
	}
	material := make([]byte, 32)
	_, _ = rand.Read(material)
	k, err := cl.ImportRootKey(ctx, "secure", material, keys.WithImportToken())
	if err != nil || !k.Imported {
		t.Fatalf("import with token = %+v, %v", k, err)
	}
	dek, w, err := cl.GenerateDEK(ctx, k.ID)
	if err != nil {
		t.Fatal(err)
	}
	defer dek.Destroy()
	if err := cl.Rotate(ctx, k.ID); !errors.Is(err, keys.ErrBadRequest) {
		t.Fatalf("rotating an imported key without material: %v", err)
	}
	if err := cl.RotateImported(ctx, k.ID, make([]byte, 16)); err != nil {
		t.Fatal(err)
	}
	back, rewrapped, err := cl.UnwrapDEK(ctx, k.ID, w)
	if err != nil || !bytes.Equal(back.Bytes(), dek.Bytes()) || bytes.Equal(rewrapped, w) {
		t.Fatalf("unwrap after rotating the imported key: %v", err)
	}
	if _, err := newClient(t, c, c.HPCSInstanceID).ImportRootKey(ctx, "x", material, keys.WithImportToken()); err == nil {
		t.Fatal("HPCS import token accepted")
	}
}

func TestDEKs(t *testing.T) {
	c := startCloud(t)
	cl := newClient(t, c, c.KPInstanceID)
	ctx := context.Background()
	root, err := cl.CreateRootKey(ctx, "root")
	if err != nil {
		t.Fatal(err)
	}

	dek, w, err := cl.GenerateDEK(ctx, root.ID)
	if err != nil {
		t.Fatal(err)
	}
	if dek.Len() != 32 || len(w) == 0 {
		t.Fatalf("GenerateDEK: %d-byte DEK, %d-byte WDEK", dek.Len(), len(w))
	}
	back, same, err := cl.UnwrapDEK(ctx, root.ID, w)
	if err != nil || !bytes.Equal(back.Bytes(), dek.Bytes()) || !bytes.Equal(same, w) {
		t.Fatalf("UnwrapDEK: %v", err)
	}

	for _, size := range []int{32, 64} {
		local, err := keys.NewDEK(size)
		if err != nil {
			t.Fatal(err)
		}
		lw, err := cl.WrapDEK(ctx, root.ID, local)
		if err != nil {
			t.Fatal(err)
		}
		got, _, err := cl.UnwrapDEK(ctx, root.ID, lw)
		if err != nil || !bytes.Equal(got.Bytes(), local.Bytes()) {
			t.Fatalf("round trip of a local %d-byte DEK: %v", size, err)
		}
	}
	pass, _ := keys.NewPassphraseDEK(44)
	pw, err := cl.WrapDEK(ctx, root.ID, pass)
	if err != nil {
		t.Fatal(err)
	}
	if got, _, err := cl.UnwrapDEK(ctx, root.ID, pw); err != nil || string(got.Bytes()) != string(pass.Bytes()) {
		t.Fatalf("passphrase DEK round trip: %v", err)
	}

	// AAD: needed to unwrap when used.
	aw, err := cl.WrapDEK(ctx, root.ID, dek, keys.WithAAD("image-42"))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := cl.UnwrapDEK(ctx, root.ID, aw); !errors.Is(err, keys.ErrWrongKey) {
		t.Fatalf("unwrap without the AAD: %v", err)
	}
	if got, _, err := cl.UnwrapDEK(ctx, root.ID, aw, keys.WithAAD("image-42")); err != nil || !bytes.Equal(got.Bytes(), dek.Bytes()) {
		t.Fatalf("unwrap with the AAD: %v", err)
	}

	// Another root key cannot unwrap; neither can a corrupted or empty WDEK.
	other, _ := cl.CreateRootKey(ctx, "other")
	var se *keys.ServiceError
	if _, _, err := cl.UnwrapDEK(ctx, other.ID, w); !errors.Is(err, keys.ErrWrongKey) || !errors.As(err, &se) || se.CorrelationID == "" || se.Status != 422 {
		t.Fatalf("unwrap with the wrong key: %v", err)
	}
	bad := append(keys.WDEK(nil), w...)
	bad[len(bad)/2] ^= 0x40
	if _, _, err := cl.UnwrapDEK(ctx, root.ID, bad); !errors.Is(err, keys.ErrWrongKey) {
		t.Fatalf("corrupted WDEK: %v", err)
	}
	if _, _, err := cl.UnwrapDEK(ctx, root.ID, w[:10]); !errors.Is(err, keys.ErrWrongKey) {
		t.Fatalf("truncated WDEK: %v", err)
	}
	if _, _, err := cl.UnwrapDEK(ctx, root.ID, nil); !errors.Is(err, keys.ErrBadRequest) {
		t.Fatalf("empty WDEK: %v", err)
	}
	if _, err := cl.WrapDEK(ctx, root.ID, &keys.DEK{}); !errors.Is(err, keys.ErrBadRequest) {
		t.Fatalf("wrap of an empty DEK: %v", err)
	}
	if _, _, err := cl.GenerateDEK(ctx, "missing"); !errors.Is(err, keys.ErrKeyNotFound) {
		t.Fatalf("GenerateDEK with an unknown key: %v", err)
	}

	// Rotation: the old WDEK still unwraps and comes back rewrapped; the
	// rewrapped one unwraps without further rewrapping.
	if err := cl.Rotate(ctx, root.ID); err != nil {
		t.Fatal(err)
	}
	got, rewrapped, err := cl.UnwrapDEK(ctx, root.ID, w)
	if err != nil || !bytes.Equal(got.Bytes(), dek.Bytes()) || bytes.Equal(rewrapped, w) {
		t.Fatalf("unwrap after rotation: rewrapped=%v, %v", !bytes.Equal(rewrapped, w), err)
	}
	got, again, err := cl.UnwrapDEK(ctx, root.ID, rewrapped)
	if err != nil || !bytes.Equal(got.Bytes(), dek.Bytes()) || !bytes.Equal(again, rewrapped) {
		t.Fatalf("unwrap of the rewrapped WDEK: %v", err)
	}

	// Every wrap and unwrap is in the audit trail under the key's CRN.
	wraps := 0
	for _, ev := range c.Events() {
		if ev.Action == "kms.secrets.wrap" && ev.Target.ID == root.CRN && ev.Outcome == "success" {
			wraps++
		}
	}
	if wraps != 5 { // GenerateDEK, two local DEKs, the passphrase, the AAD wrap
		t.Fatalf("%d successful wrap events for the root key, want 5", wraps)
	}
}

func TestKeyStatesRefuse(t *testing.T) {
	c := startCloud(t)
	cl := newClient(t, c, c.KPInstanceID)
	ctx := context.Background()
	root, _ := cl.CreateRootKey(ctx, "root")
	_, w, err := cl.GenerateDEK(ctx, root.ID)
	if err != nil {
		t.Fatal(err)
	}
	wantState := func(what string, err error, state keys.KeyState) {
		t.Helper()
		var se *keys.KeyStateError
		if !errors.Is(err, keys.ErrKeyNotActive) || !errors.As(err, &se) || se.State != state || se.KeyID != root.ID {
			t.Fatalf("%s: %v, want key %s %s", what, err, root.ID, state)
		}
		if !strings.Contains(err.Error(), state.String()) {
			t.Fatalf("%s: the error does not say the state: %v", what, err)
		}
	}
	if err := cl.Disable(ctx, root.ID); err != nil {
		t.Fatal(err)
	}
	_, _, err = cl.GenerateDEK(ctx, root.ID)
	wantState("wrap on a suspended key", err, keys.Suspended)
	_, _, err = cl.UnwrapDEK(ctx, root.ID, w)
	wantState("unwrap on a suspended key", err, keys.Suspended)
	wantState("disable twice", cl.Disable(ctx, root.ID), keys.Suspended)
	if err := cl.Enable(ctx, root.ID); err != nil {
		t.Fatal(err)
	}

	if err := c.SetKeyState(root.ID, e2etest.KeyDeactivated); err != nil {
		t.Fatal(err)
	}
	_, _, err = cl.GenerateDEK(ctx, root.ID)
	wantState("wrap on a deactivated key", err, keys.Deactivated)
	if _, _, err := cl.UnwrapDEK(ctx, root.ID, w); err != nil {
		t.Fatalf("unwrap on a deactivated key: %v", err)
	}
	if err := c.SetKeyState(root.ID, e2etest.KeyDestroyed); err != nil {
		t.Fatal(err)
	}
	_, _, err = cl.UnwrapDEK(ctx, root.ID, w)
	wantState("unwrap on a destroyed key", err, keys.Destroyed)
}

func TestAuthFailures(t *testing.T) {
	c := startCloud(t, e2etest.Options{TokenLifetime: time.Second})
	ctx := context.Background()

	wrong, err := keys.NewClient(keys.Config{Endpoint: c.KMSURL, InstanceID: c.KPInstanceID, APIKey: "wrong-key", IAMURL: c.IAMURL})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := wrong.CreateRootKey(ctx, "x"); !errors.Is(err, keys.ErrUnauthorized) || strings.Contains(err.Error(), "wrong-key") {
		t.Fatalf("wrong API key: %v", err)
	}

	// A static token that expires is refused with 401.
	static, err := keys.NewClient(keys.Config{Endpoint: c.KMSURL, InstanceID: c.KPInstanceID,
		Authenticator: &core.BearerTokenAuthenticator{BearerToken: c.NewToken()}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := static.ListRootKeys(ctx); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1100 * time.Millisecond)
	var se *keys.ServiceError
	if _, err := static.ListRootKeys(ctx); !errors.Is(err, keys.ErrUnauthorized) || !errors.As(err, &se) || se.Status != 401 {
		t.Fatalf("expired token: %v", err)
	}
	// An API key client renews its token and keeps working.
	if _, err := newClient(t, c, c.KPInstanceID).ListRootKeys(ctx); err != nil {
		t.Fatalf("API key client after expiry: %v", err)
	}

	unknown := newClient(t, c, "00000000-0000-4000-8000-000000000000")
	if _, err := unknown.ListRootKeys(ctx); !errors.Is(err, keys.ErrWrongInstance) {
		t.Fatalf("unknown instance: %v", err)
	}
	if _, err := keys.NewClient(keys.Config{Endpoint: c.KMSURL, APIKey: c.APIKey}); !errors.Is(err, keys.ErrWrongInstance) {
		t.Fatalf("no instance: %v", err)
	}
	if _, err := keys.NewClient(keys.Config{InstanceID: c.KPInstanceID}); err == nil {
		t.Fatal("a client without credentials was built")
	}
}

func TestHPCS(t *testing.T) {
	c := startCloud(t)
	cl := newClient(t, c, c.HPCSInstanceID)
	ctx := context.Background()
	k, err := cl.EnsureRootKey(ctx, "hpcs")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(k.CRN, "crn:v1:bluemix:public:hs-crypto:") {
		t.Fatalf("HPCS CRN = %s", k.CRN)
	}
	// A key of one instance is not found through the other.
	if _, err := newClient(t, c, c.KPInstanceID).GetKey(ctx, k.ID); !errors.Is(err, keys.ErrKeyNotFound) {
		t.Fatalf("cross-instance lookup: %v", err)
	}
}

func TestRetriesAndCancel(t *testing.T) {
	c := startCloud(t)
	cl := newClient(t, c, c.KPInstanceID)
	ctx := context.Background()
	root, _ := cl.CreateRootKey(ctx, "root")

	c.InjectFault(e2etest.ServiceKMS, "wrap", e2etest.Fault{Status: 503, Times: 2})
	if _, _, err := cl.GenerateDEK(ctx, root.ID); err != nil {
		t.Fatalf("after two 503s: %v", err)
	}
	c.InjectFault(e2etest.ServiceKMS, "wrap", e2etest.Fault{Status: 500, Times: 3})
	var se *keys.ServiceError
	if _, _, err := cl.GenerateDEK(ctx, root.ID); !errors.As(err, &se) || se.Status != 500 || se.CorrelationID == "" {
		t.Fatalf("persistent 500: %v", err)
	}
	// One 429 waits Retry-After and succeeds; three are ErrRateLimited.
	c.InjectFault(e2etest.ServiceKMS, "getKey", e2etest.Fault{Status: 429})
	if _, err := cl.GetKey(ctx, root.ID); err != nil {
		t.Fatalf("after one 429: %v", err)
	}
	c.InjectFault(e2etest.ServiceKMS, "getKey", e2etest.Fault{Status: 429, Times: 3})
	if _, err := cl.GetKey(ctx, root.ID); !errors.Is(err, keys.ErrRateLimited) {
		t.Fatalf("persistent 429: %v", err)
	}

	c.InjectFault(e2etest.ServiceKMS, "unwrap", e2etest.Fault{Latency: 10 * time.Second})
	tctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, _, err := cl.UnwrapDEK(tctx, root.ID, keys.WDEK("x")); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("timed-out ctx: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("cancellation took %v", d)
	}
	c.ClearFaults()
	cctx, cancel2 := context.WithCancel(ctx)
	cancel2()
	if _, err := cl.CreateRootKey(cctx, "never"); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled ctx: %v", err)
	}
	if n := len(c.Keys()); n != 1 {
		t.Fatalf("%d keys; the cancelled create must not have happened", n)
	}
}
