package e2etest

import (
	"bytes"
	"context"
	"encoding/base64"
	"strings"
	"testing"

	kp "github.com/IBM/keyprotect-go-client"
)

func TestUnwrapWDEK(t *testing.T) {
	c, err := Start()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	k, err := kp.New(kp.ClientConfig{BaseURL: c.KMSURL, APIKey: c.APIKey, TokenURL: c.OIDCTokenURL(), InstanceID: c.KPInstanceID}, kp.DefaultTransport())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	root, err := k.CreateRootKey(ctx, "root", nil)
	if err != nil {
		t.Fatal(err)
	}
	dek := []byte("0123456789abcdef0123456789abcdef")
	ct, err := k.Wrap(ctx, root.ID, []byte(base64.StdEncoding.EncodeToString(dek)), nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.unwrapWDEK("server-protect", root.CRN, ct)
	if err != nil || !bytes.Equal(got, dek) {
		t.Fatalf("unwrapWDEK(base64) = %q, %v", got, err)
	}
	raw, _ := base64.StdEncoding.DecodeString(string(ct))
	if got, err := c.unwrapWDEK("server-protect", root.CRN, raw); err != nil || !bytes.Equal(got, dek) {
		t.Fatalf("unwrapWDEK(raw) = %q, %v", got, err)
	}
	aad := []string{"x"}
	withAAD, _ := k.Wrap(ctx, root.ID, []byte(base64.StdEncoding.EncodeToString(dek)), &aad)
	other, _ := k.CreateRootKey(ctx, "other", nil)
	for name, tc := range map[string]struct {
		crn  string
		wdek []byte
		want string
	}{
		"not a CRN":     {"kms-key", ct, "not a root key CRN"},
		"other account": {strings.Replace(root.CRN, c.AccountID, "0000", 1), ct, "another account"},
		"unknown key":   {strings.Replace(root.CRN, root.ID, other.ID[:35]+"0", 1), ct, "does not exist"},
		"wrong key":     {other.CRN, ct, "not wrapped by this root key"},
		"with AAD":      {root.CRN, withAAD, "does not authenticate"},
		"truncated":     {root.CRN, raw[:40], "not a Key Protect ciphertext"},
		"empty":         {root.CRN, nil, "not a Key Protect ciphertext"},
	} {
		if _, err := c.unwrapWDEK("server-protect", tc.crn, tc.wdek); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q", name, err, tc.want)
		}
	}
	if err := k.DisableKey(ctx, root.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := c.unwrapWDEK("server-protect", root.CRN, ct); err == nil || !strings.Contains(err.Error(), "suspended") {
		t.Fatalf("unwrapWDEK with a suspended key: %v", err)
	}
}

func FuzzParseWDEK(f *testing.F) {
	k := &kmsKey{id: newUUID(), versions: []kmsKeyVersion{{id: newUUID(), material: bytes.Repeat([]byte{7}, 32)}}}
	seed, err := sealWDEK(k, &k.versions[0], []byte("a data key of 32 bytes, exactly."), nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add(seed[:wdekMinSize])
	f.Add([]byte("E2EW"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		h, err := parseWDEK(raw)
		if err != nil {
			return
		}
		if len(h.keyID) != wdekIDLen || len(h.versionID) != wdekIDLen || len(h.nonce) != 12 {
			t.Fatalf("parsed header of wrong shape: %+v", h)
		}
		dek, _, err := openWDEK(k, raw, nil)
		if err == nil && !bytes.Equal(raw, seed) && !bytes.Equal(dek, []byte("a data key of 32 bytes, exactly.")) {
			t.Fatalf("a forged WDEK opened to %q", dek)
		}
	})
}
