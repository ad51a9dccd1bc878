package e2etest_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	kp "github.com/IBM/keyprotect-go-client"
	kpiam "github.com/IBM/keyprotect-go-client/iam"

	"github.com/e2eimage/e2e/e2etest"
)

func init() {
	// The kp client retries 429/5xx up to 4 times, 30 s apart: keep fault tests fast.
	kp.RetryMax, kp.RetryWaitMax = 2, 20*time.Millisecond
	kpiam.RetryMax, kpiam.RetryWaitMax = 1, 20*time.Millisecond
}

func kmsCloud(t *testing.T, opts ...e2etest.Options) *e2etest.Cloud {
	t.Helper()
	c, err := e2etest.Start(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// kpClient is the official Key Protect client pointed at the emulator,
// fetching its own tokens at the OIDC endpoint as it does on IBM Cloud.
func kpClient(t *testing.T, c *e2etest.Cloud, instance, apiKey string) *kp.Client {
	t.Helper()
	k, err := kp.New(kp.ClientConfig{BaseURL: c.KMSURL, APIKey: apiKey, TokenURL: c.OIDCTokenURL(), InstanceID: instance}, kp.DefaultTransport())
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func kpStatus(t *testing.T, err error) (int, string) {
	t.Helper()
	var ke *kp.Error
	if !errors.As(err, &ke) {
		t.Fatalf("want a kp.Error, got %T %v", err, err)
	}
	code := ""
	if len(ke.Reasons) > 0 {
		code = ke.Reasons[0].Code
	}
	return ke.StatusCode, code
}

func TestKPKeysLifecycle(t *testing.T) {
	c := kmsCloud(t)
	k := kpClient(t, c, c.KPInstanceID, c.APIKey)
	ctx := context.Background()

	root, err := k.CreateRootKey(ctx, "root-1", nil)
	if err != nil {
		t.Fatal(err)
	}
	want := "crn:v1:bluemix:public:kms:us-south:a/" + c.AccountID + ":" + c.KPInstanceID + ":key:" + root.ID
	if root.CRN != want || root.State != int(kp.Active) || root.Extractable || root.KeyVersion == nil {
		t.Fatalf("created key = %+v, want CRN %s, active root key with a version", root, want)
	}
	got, err := k.GetKey(ctx, root.ID)
	if err != nil || got.ID != root.ID || got.Payload != "" {
		t.Fatalf("GetKey = %+v, %v (a root key's payload must never be returned)", got, err)
	}
	if _, err := k.GetKeyMetadata(ctx, root.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := k.CreateKeyAlias(ctx, "my-alias", root.ID); err != nil {
		t.Fatal(err)
	}
	if byAlias, err := k.GetKey(ctx, "my-alias"); err != nil || byAlias.ID != root.ID {
		t.Fatalf("GetKey(alias) = %+v, %v", byAlias, err)
	}

	std, err := k.CreateImportedStandardKey(ctx, "std", nil, base64.StdEncoding.EncodeToString([]byte("standard secret")))
	if err != nil {
		t.Fatal(err)
	}
	if s, err := k.GetKey(ctx, std.ID); err != nil || s.Payload != base64.StdEncoding.EncodeToString([]byte("standard secret")) {
		t.Fatalf("standard key payload = %q, %v", s.Payload, err)
	}
	if _, _, err := k.WrapCreateDEK(ctx, std.ID, nil); err == nil {
		t.Fatal("wrap with a standard key succeeded")
	} else if st, code := kpStatus(t, err); st != 400 || code != "KEY_ROOT_REQ_ERR" {
		t.Fatalf("wrap with a standard key: %d %s", st, code)
	}

	material := make([]byte, 32)
	_, _ = rand.Read(material)
	imp, err := k.CreateImportedRootKey(ctx, "imported", nil, base64.StdEncoding.EncodeToString(material), "", "")
	if err != nil || !imp.Imported {
		t.Fatalf("import = %+v, %v", imp, err)
	}
	if _, err := k.CreateImportedRootKey(ctx, "bad", nil, base64.StdEncoding.EncodeToString(material[:20]), "", ""); err == nil {
		t.Fatal("a 20-byte root key was imported")
	} else if st, _ := kpStatus(t, err); st != 400 {
		t.Fatalf("20-byte import answered %d", st)
	}

	list, err := k.GetKeys(ctx, 0, 0)
	if err != nil || len(list.Keys) != 3 || list.Metadata.NumberOfKeys != 3 {
		t.Fatalf("GetKeys = %+v, %v", list, err)
	}
	one := uint32(1)
	page, err := k.ListKeys(ctx, &kp.ListKeysOptions{Limit: &one, Offset: &one})
	if err != nil || len(page.Keys) != 1 || page.Keys[0].ID != std.ID {
		t.Fatalf("ListKeys page 2 = %+v, %v", page, err)
	}

	if _, err := k.DeleteKey(ctx, imp.ID, kp.ReturnRepresentation); err != nil {
		t.Fatal(err)
	}
	if _, err := k.GetKey(ctx, imp.ID); err == nil {
		t.Fatal("a deleted key is still served")
	} else if st, code := kpStatus(t, err); st != http.StatusGone || code != "KEY_DELETED_ERR" {
		t.Fatalf("GetKey(deleted) = %d %s", st, code)
	}
	if _, err := k.GetKey(ctx, "no-such-key"); err == nil {
		t.Fatal("unknown key found")
	} else if st, code := kpStatus(t, err); st != 404 || code != "KEY_NOT_FOUND_ERR" {
		t.Fatalf("GetKey(unknown) = %d %s", st, code)
	}

	infos := c.Keys()
	if len(infos) != 3 || infos[2].State != e2etest.KeyDestroyed || !infos[0].Root || infos[1].Root {
		t.Fatalf("Keys() = %+v", infos)
	}
	var actions []string
	for _, ev := range c.Events() {
		if strings.HasPrefix(ev.Action, "kms.") {
			actions = append(actions, ev.Action+"/"+ev.Outcome)
			if ev.Target.ID == "" || ev.Initiator.ID == "" {
				t.Errorf("event %s lacks target or initiator: %+v", ev.Action, ev)
			}
		}
	}
	wantActions := "kms.secrets.create/success kms.secrets.create/success kms.secrets.wrap/failure kms.secrets.create/success kms.secrets.delete/success"
	if got := strings.Join(actions, " "); got != wantActions {
		t.Fatalf("KMS events:\n got %s\nwant %s", got, wantActions)
	}
}

func TestKPWrapUnwrapRotate(t *testing.T) {
	c := kmsCloud(t)
	k := kpClient(t, c, c.KPInstanceID, c.APIKey)
	ctx := context.Background()
	root, err := k.CreateRootKey(ctx, "root", nil)
	if err != nil {
		t.Fatal(err)
	}

	// Wrap without plaintext: the service generates a 32-byte DEK.
	gen, err := k.WrapCreateDEKV2(ctx, root.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	dek, _ := base64.StdEncoding.DecodeString(gen.PlainText)
	if len(dek) != 32 || gen.CipherText == "" || gen.KeyVersion == nil || gen.KeyVersion.ID != root.KeyVersion.ID {
		t.Fatalf("generated DEK: %d bytes, response %+v", len(dek), gen)
	}
	pt, err := k.Unwrap(ctx, root.ID, []byte(gen.CipherText), nil)
	if err != nil || string(pt) != gen.PlainText {
		t.Fatalf("unwrap = %q, %v", pt, err)
	}

	// Wrap a given DEK with AAD: unwrap needs the same AAD.
	mine := base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))
	aad := []string{"a", "bc"}
	ct, err := k.Wrap(ctx, root.ID, []byte(mine), &aad)
	if err != nil {
		t.Fatal(err)
	}
	if pt, err := k.Unwrap(ctx, root.ID, ct, &aad); err != nil || string(pt) != mine {
		t.Fatalf("unwrap with AAD = %q, %v", pt, err)
	}
	for _, bad := range [][]string{nil, {"ab", "c"}, {"a", "bc", ""}} {
		bad := bad
		if _, err := k.Unwrap(ctx, root.ID, ct, &bad); err == nil {
			t.Fatalf("unwrap with AAD %q succeeded", bad)
		} else if st, code := kpStatus(t, err); st != 422 || code != "UNPROCESSABLE_CIPHERTEXT_ERR" {
			t.Fatalf("unwrap with wrong AAD: %d %s", st, code)
		}
	}

	// Corrupted and foreign ciphertexts are refused.
	raw, _ := base64.StdEncoding.DecodeString(gen.CipherText)
	raw[len(raw)-1] ^= 1
	if _, err := k.Unwrap(ctx, root.ID, []byte(base64.StdEncoding.EncodeToString(raw)), nil); err == nil {
		t.Fatal("unwrap of a corrupted WDEK succeeded")
	}
	other, _ := k.CreateRootKey(ctx, "other", nil)
	if _, err := k.Unwrap(ctx, other.ID, []byte(gen.CipherText), nil); err == nil {
		t.Fatal("unwrap with another root key succeeded")
	} else if st, _ := kpStatus(t, err); st != 422 {
		t.Fatalf("unwrap with another key answered %d", st)
	}
	if _, err := k.Unwrap(ctx, root.ID, []byte("not base64!"), nil); err == nil {
		t.Fatal("unwrap of garbage succeeded")
	} else if st, _ := kpStatus(t, err); st != 400 {
		t.Fatalf("unwrap of garbage answered %d", st)
	}

	// Rotate: the old WDEK still unwraps and comes back rewrapped.
	if err := k.Rotate(ctx, root.ID, ""); err != nil {
		t.Fatal(err)
	}
	after, _ := k.GetKey(ctx, root.ID)
	if after.KeyVersion.ID == root.KeyVersion.ID || after.LastRotateDate == nil {
		t.Fatalf("rotation did not make a new version: %+v", after.KeyVersion)
	}
	pt, rewrapped, err := k.UnwrapV2(ctx, root.ID, []byte(gen.CipherText), nil)
	if err != nil || string(pt) != gen.PlainText || len(rewrapped) == 0 || string(rewrapped) == gen.CipherText {
		t.Fatalf("unwrap after rotation = %q, rewrapped %q, %v", pt, rewrapped, err)
	}
	pt, again, err := k.UnwrapV2(ctx, root.ID, rewrapped, nil)
	if err != nil || string(pt) != gen.PlainText || len(again) != 0 {
		t.Fatalf("unwrap of the rewrapped WDEK = %q, rewrapped again %q, %v", pt, again, err)
	}
	vs, err := k.ListKeyVersions(ctx, root.ID, nil)
	if err != nil || len(vs.KeyVersion) != 2 || vs.KeyVersion[0].ID != after.KeyVersion.ID {
		t.Fatalf("ListKeyVersions = %+v, %v", vs, err)
	}
}

func TestKPKeyStates(t *testing.T) {
	c := kmsCloud(t)
	k := kpClient(t, c, c.KPInstanceID, c.APIKey)
	ctx := context.Background()
	root, _ := k.CreateRootKey(ctx, "root", nil)
	gen, err := k.WrapCreateDEKV2(ctx, root.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	expect := func(name string, err error, status int) {
		t.Helper()
		if status == 0 {
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			return
		}
		if err == nil {
			t.Fatalf("%s succeeded, want %d", name, status)
		}
		if st, _ := kpStatus(t, err); st != status {
			t.Fatalf("%s answered %d, want %d", name, st, status)
		}
	}
	unwrap := func() error { _, err := k.Unwrap(ctx, root.ID, []byte(gen.CipherText), nil); return err }
	wrap := func() error { _, _, err := k.WrapCreateDEK(ctx, root.ID, nil); return err }

	expect("enable an active key", k.EnableKey(ctx, root.ID), 409)
	expect("disable", k.DisableKey(ctx, root.ID), 0)
	if got, _ := k.GetKey(ctx, root.ID); got.State != int(kp.Suspended) {
		t.Fatalf("state after disable = %d", got.State)
	}
	expect("wrap on a suspended key", wrap(), 409)
	expect("unwrap on a suspended key", unwrap(), 409)
	expect("rotate a suspended key", k.Rotate(ctx, root.ID, ""), 409)
	expect("enable", k.EnableKey(ctx, root.ID), 0)
	expect("unwrap after enable", unwrap(), 0)

	if err := c.SetKeyState(root.ID, e2etest.KeyDeactivated); err != nil {
		t.Fatal(err)
	}
	expect("wrap on a deactivated key", wrap(), 409)
	expect("unwrap on a deactivated key", unwrap(), 0)

	if err := c.SetKeyState(root.ID, e2etest.KeyDestroyed); err != nil {
		t.Fatal(err)
	}
	expect("unwrap on a destroyed key", unwrap(), 410)
	if err := c.SetKeyState(root.ID, e2etest.KeyActive); err == nil {
		t.Fatal("a destroyed key was brought back")
	}
	if err := c.SetKeyState(root.ID, 4); err == nil {
		t.Fatal("state 4 accepted")
	}
}

func TestKPSecureImport(t *testing.T) {
	c := kmsCloud(t)
	k := kpClient(t, c, c.KPInstanceID, c.APIKey)
	ctx := context.Background()
	material := make([]byte, 32)
	_, _ = rand.Read(material)
	b64 := base64.StdEncoding.EncodeToString(material)

	if _, err := k.CreateImportToken(ctx, 300, 1); err != nil {
		t.Fatal(err)
	}
	tok, err := k.GetImportTokenTransportKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	encKey, err := kp.EncryptKey(b64, tok.Payload)
	if err != nil {
		t.Fatal(err)
	}
	encNonce, iv, err := kp.EncryptNonce(b64, tok.Nonce, "")
	if err != nil {
		t.Fatal(err)
	}
	// A nonce sealed under other material proves nothing: refused.
	otherNonce, otherIV, _ := kp.EncryptNonce(base64.StdEncoding.EncodeToString(make([]byte, 32)), tok.Nonce, "")
	if _, err := k.CreateImportedRootKey(ctx, "bad", nil, encKey, otherNonce, otherIV); err == nil {
		t.Fatal("import with a nonce under other material succeeded")
	}
	key, err := k.CreateImportedRootKey(ctx, "secure", nil, encKey, encNonce, iv)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := k.GetImportTokenTransportKey(ctx); err == nil {
		t.Fatal("an import token with one retrieval was retrieved twice")
	}
	// The imported material is what wraps: a DEK wrapped by the service
	// opens with AES-GCM under our own copy of the material? The format is
	// the emulator's own, so check the round trip instead.
	ct, err := k.Wrap(ctx, key.ID, []byte(b64), nil)
	if err != nil {
		t.Fatal(err)
	}
	if pt, err := k.Unwrap(ctx, key.ID, ct, nil); err != nil || string(pt) != b64 {
		t.Fatalf("round trip under the imported key = %q, %v", pt, err)
	}
	// Rotating an imported key needs new material.
	if err := k.Rotate(ctx, key.ID, ""); err == nil {
		t.Fatal("imported key rotated without a payload")
	}
	if err := k.Rotate(ctx, key.ID, base64.StdEncoding.EncodeToString(make([]byte, 16))); err != nil {
		t.Fatal(err)
	}
}

func TestKPInstanceAndAuth(t *testing.T) {
	c := kmsCloud(t)
	ctx := context.Background()

	hp := kpClient(t, c, c.HPCSInstanceID, c.APIKey)
	key, err := hp.CreateRootKey(ctx, "hpcs-root", nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(key.CRN, "crn:v1:bluemix:public:hs-crypto:us-south:") {
		t.Fatalf("HPCS key CRN = %s", key.CRN)
	}
	// Keys are per instance: Key Protect does not see the HPCS key.
	if _, err := kpClient(t, c, c.KPInstanceID, c.APIKey).GetKey(ctx, key.ID); err == nil {
		t.Fatal("a key of the HPCS instance was found in the Key Protect instance")
	}

	for _, tc := range []struct {
		name, instance string
		status         int
		code           string
	}{
		{"missing bluemix-instance", "", 400, "MISSING_INSTANCE_ERR"},
		{"unknown instance", "00000000-0000-4000-8000-000000000000", 401, "INSTANCE_NOT_FOUND_ERR"},
	} {
		_, err := kpClient(t, c, tc.instance, c.APIKey).GetKeys(ctx, 0, 0)
		if err == nil {
			t.Fatalf("%s: call succeeded", tc.name)
		}
		if st, code := kpStatus(t, err); st != tc.status || code != tc.code {
			t.Fatalf("%s: %d %s, want %d %s", tc.name, st, code, tc.status, tc.code)
		}
	}

	// A wrong API key is refused at the token endpoint with IAM's error.
	_, err = kpClient(t, c, c.KPInstanceID, "wrong-key").GetKeys(ctx, 0, 0)
	var ie kpiam.Error
	if !errors.As(err, &ie) || ie.ErrorCode != "BXNIM0415E" {
		t.Fatalf("wrong API key: %T %v", err, err)
	}
	// Garbage and missing tokens are refused with 401.
	bad := kpClient(t, c, c.KPInstanceID, c.APIKey)
	if _, err := bad.GetKeys(kp.NewContextWithAuth(ctx, "Bearer not.a.token"), 0, 0); err == nil {
		t.Fatal("a forged token was accepted")
	} else if st, _ := kpStatus(t, err); st != 401 {
		t.Fatalf("forged token: %d", st)
	}
}

func TestKPExpiredToken(t *testing.T) {
	c := kmsCloud(t, e2etest.Options{TokenLifetime: time.Second})
	k := kpClient(t, c, c.KPInstanceID, c.APIKey)
	ctx := kp.NewContextWithAuth(context.Background(), "Bearer "+c.NewToken())
	if _, err := k.GetKeys(ctx, 0, 0); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1100 * time.Millisecond)
	_, err := k.GetKeys(ctx, 0, 0)
	if err == nil {
		t.Fatal("an expired token was accepted")
	}
	if st, code := kpStatus(t, err); st != 401 || code != "UNAUTHORIZED_ERR" {
		t.Fatalf("expired token: %d %s", st, code)
	}
	// The client's own token source fetches a fresh token and succeeds.
	if _, err := k.GetKeys(context.Background(), 0, 0); err != nil {
		t.Fatal(err)
	}
}

func TestKPFaults(t *testing.T) {
	c := kmsCloud(t)
	k := kpClient(t, c, c.KPInstanceID, c.APIKey)
	ctx := context.Background()
	root, _ := k.CreateRootKey(ctx, "root", nil)

	// One 503 is retried by the client and succeeds.
	c.InjectFault(e2etest.ServiceKMS, "wrap", e2etest.Fault{Status: 503})
	if _, _, err := k.WrapCreateDEK(ctx, root.ID, nil); err != nil {
		t.Fatalf("wrap after one 503: %v", err)
	}
	// More failures than retries reach the caller in KP's envelope.
	c.InjectFault(e2etest.ServiceKMS, "unwrap", e2etest.Fault{Status: 500, Times: 5})
	_, err := k.Unwrap(ctx, root.ID, []byte("x"), nil)
	if st, code := kpStatus(t, err); st != 500 || code != "INTERNAL_SERVER_ERROR_ERR" {
		t.Fatalf("persistent 500: %d %s", st, code)
	}
	c.ClearFaults()
	c.InjectFault(e2etest.ServiceKMS, "getKey", e2etest.Fault{Status: 429, Code: "TOO_MANY_REQUESTS_ERR", Times: 5})
	_, err = k.GetKey(ctx, root.ID)
	if st, code := kpStatus(t, err); st != 429 || code != "TOO_MANY_REQUESTS_ERR" {
		t.Fatalf("rate limited: %d %s", st, code)
	}
}
