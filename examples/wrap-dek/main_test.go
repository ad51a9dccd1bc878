package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/e2eimage/e2e/e2etest"
	"github.com/e2eimage/e2e/keys"
)

// settings points run at cloud the way a user points it at IBM Cloud.
func settings(cloud *e2etest.Cloud, extra ...string) func(string) string {
	m := map[string]string{
		"IBMCLOUD_API_KEY": cloud.APIKey, "IBMCLOUD_REGION": cloud.Region,
		"E2E_IAM_URL": cloud.IAMURL, "E2E_KMS_URL": cloud.KMSURL, "KP_INSTANCE_ID": cloud.KPInstanceID,
	}
	for i := 0; i+1 < len(extra); i += 2 {
		m[extra[i]] = extra[i+1]
	}
	return func(k string) string { return m[k] }
}

func startCloud(t *testing.T) *e2etest.Cloud {
	t.Helper()
	cloud, err := e2etest.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cloud.Close() })
	return cloud
}

var wdekLine = regexp.MustCompile(`E2E_WDEK=(\S+)`)

// The printed WDEK is real: it unwraps with the root key the cloud holds,
// and the DEK it holds appears nowhere in the output.
func TestRunWrapsAndUnwraps(t *testing.T) {
	cloud := startCloud(t)
	ctx := context.Background()
	var out bytes.Buffer
	if err := run(ctx, &out, settings(cloud)); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	ks := cloud.Keys()
	if len(ks) != 1 || ks[0].Name != "e2e-example-root-key" || !ks[0].Root || ks[0].State != e2etest.KeyActive {
		t.Fatalf("keys after run: %+v", ks)
	}
	m := wdekLine.FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("no WDEK in the output:\n%s", out.String())
	}
	w, err := keys.ParseWDEK(m[1])
	if err != nil {
		t.Fatal(err)
	}
	kc, err := keys.NewClient(keys.Config{Endpoint: cloud.KMSURL, InstanceID: cloud.KPInstanceID, APIKey: cloud.APIKey, IAMURL: cloud.IAMURL})
	if err != nil {
		t.Fatal(err)
	}
	dek, _, err := kc.UnwrapDEK(ctx, ks[0].ID, w)
	if err != nil {
		t.Fatalf("the printed WDEK does not unwrap: %v", err)
	}
	defer dek.Destroy()
	if dek.Len() != 32 {
		t.Errorf("DEK is %d bytes, want 32", dek.Len())
	}
	for _, enc := range []string{base64.StdEncoding.EncodeToString(dek.Bytes()), hex.EncodeToString(dek.Bytes())} {
		if strings.Contains(out.String(), enc) {
			t.Fatal("the output contains the DEK")
		}
	}
	actions := map[string]int{}
	for _, ev := range cloud.Events() {
		if strings.HasSuffix(ev.Target.ID, ks[0].ID) {
			actions[ev.Action]++
		}
	}
	// generate + wrap of the VHD key; unwrap + the refused damaged WDEK.
	if actions["kms.secrets.wrap"] < 2 || actions["kms.secrets.unwrap"] < 1 {
		t.Errorf("audit events on the root key: %v", actions)
	}

	// A rerun reuses the root key by name.
	if err := run(ctx, new(bytes.Buffer), settings(cloud)); err != nil {
		t.Fatal(err)
	}
	if n := len(cloud.Keys()); n != 1 {
		t.Errorf("a rerun made %d keys, want 1", n)
	}
}

func TestRunDefault(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), &out, func(string) string { return "" }); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "emulated IBM Cloud") || !strings.Contains(out.String(), "same 32-byte DEK") {
		t.Errorf("output:\n%s", out.String())
	}
}

func TestRunBadSettings(t *testing.T) {
	cloud := startCloud(t)
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	for _, tc := range []struct {
		name string
		ctx  context.Context
		env  func(string) string
		want error
	}{
		{"unknown root key", context.Background(), settings(cloud, "E2E_ROOT_KEY_ID", "7f4c2a10-0000-4000-8000-000000000000"), keys.ErrKeyNotFound},
		{"wrong API key", context.Background(), settings(cloud, "IBMCLOUD_API_KEY", "not-a-key"), keys.ErrUnauthorized},
		{"no instance", context.Background(), settings(cloud, "KP_INSTANCE_ID", ""), nil},
		{"cancelled", cancelled, settings(cloud), context.Canceled},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := run(tc.ctx, new(bytes.Buffer), tc.env)
			if err == nil || (tc.want != nil && !errors.Is(err, tc.want)) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			t.Log(err)
			if strings.Contains(err.Error(), cloud.APIKey) {
				t.Fatal("the error shows the API key")
			}
		})
	}
}
