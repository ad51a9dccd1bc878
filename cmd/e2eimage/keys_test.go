package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/e2eimage/e2e/e2etest"
)

// field returns the value of a "name   value" line of ensure-root's output.
func field(t *testing.T, out, name string) string {
	t.Helper()
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) == 2 && f[0] == name {
			return f[1]
		}
	}
	t.Fatalf("no %q in:\n%s", name, out)
	return ""
}

// checkNoSecret fails if any form of secret shows in the outputs.
func checkNoSecret(t *testing.T, secret []byte, outs ...string) {
	t.Helper()
	forms := []string{hex.EncodeToString(secret), base64.StdEncoding.EncodeToString(secret), base64.RawURLEncoding.EncodeToString(secret)}
	if len(secret) >= 16 {
		forms = append(forms, string(secret))
	}
	for _, out := range outs {
		for _, f := range forms {
			if strings.Contains(out, f) {
				t.Errorf("output reveals the secret: %q", out)
			}
		}
	}
}

func TestKeysWorkflow(t *testing.T) {
	cloud := startCloud(t)
	dir := t.TempDir()

	code, out, stderr := runCLI(t, nil, "keys", "ensure-root", "cli-root")
	if code != 0 {
		t.Fatalf("ensure-root: exit %d: %s", code, stderr)
	}
	id := field(t, out, "id")
	if crn := field(t, out, "crn"); !strings.HasSuffix(crn, ":"+id) || field(t, out, "state") != "active" {
		t.Errorf("ensure-root output:\n%s", out)
	}
	if code, out, _ := runCLI(t, nil, "keys", "ensure-root", "cli-root", "--json"); code != 0 || !strings.Contains(out, `"id": "`+id+`"`) {
		t.Errorf("a second ensure-root did not reuse key %s: exit %d\n%s", id, code, out)
	}
	if n := len(cloud.Keys()); n != 1 {
		t.Errorf("the instance holds %d keys, want 1", n)
	}
	code, out, stderr = runCLI(t, nil, "keys", "list")
	if code != 0 || !strings.Contains(out, id) || !strings.Contains(out, "cli-root") || !strings.HasPrefix(out, "ID ") {
		t.Errorf("list: exit %d %s\n%s", code, stderr, out)
	}
	code, out, _ = runCLI(t, nil, "keys", "list", "--json")
	var listed []keyJSON
	if err := json.Unmarshal([]byte(out), &listed); code != 0 || err != nil || len(listed) != 1 || listed[0].ID != id || listed[0].State != "active" {
		t.Errorf("list --json: exit %d, %v: %s", code, err, out)
	}

	t.Run("vhd", func(t *testing.T) {
		wdekFile, keyFile := filepath.Join(dir, "vhd.wdek"), filepath.Join(dir, "vhd.key")
		code, stdout, stderr := runCLI(t, nil, "keys", "generate-dek", "--root-key", id, "--format", "vhd", "--out-wdek", wdekFile, "--dek-out", keyFile)
		if code != 0 || stdout != "" || !strings.Contains(stderr, "warning: "+keyFile) {
			t.Fatalf("generate-dek: exit %d, stdout %q, stderr %q", code, stdout, stderr)
		}
		key, _ := os.ReadFile(keyFile)
		if fi, err := os.Stat(keyFile); err != nil || fi.Mode().Perm() != 0o600 || len(key) != 64 {
			t.Fatalf("DEK file: %d bytes, %v", len(key), err)
		}
		checkNoSecret(t, key, stdout, stderr)

		// Encrypt with the key file; decrypt with the key unwrapped again.
		data := diskTestImage()
		in := writeFile(t, dir, "in.raw", data)
		img := filepath.Join(dir, "img.vhd")
		if code, _, stderr := runCLI(t, nil, "encrypt", "--format", "vhd", "--in", in, "--out", img, "--key-file", keyFile); code != 0 {
			t.Fatalf("encrypt: %s", stderr)
		}
		again := filepath.Join(dir, "again.key")
		code, stdout, stderr = runCLI(t, nil, "keys", "unwrap", "--root-key", id, "--wdek", wdekFile, "--dek-out", again, "--format", "vhd")
		if code != 0 || stdout != "" {
			t.Fatalf("unwrap: exit %d, stdout %q: %s", code, stdout, stderr)
		}
		if got, _ := os.ReadFile(again); !bytes.Equal(got, key) {
			t.Fatal("the unwrapped DEK differs from the generated one")
		}
		plain := filepath.Join(dir, "plain.raw")
		if code, _, stderr := runCLI(t, nil, "decrypt", "--in", img, "--out", plain, "--key-file", again); code != 0 {
			t.Fatalf("decrypt: %s", stderr)
		}
		if got, _ := os.ReadFile(plain); !bytes.Equal(got[:len(data)], data) {
			t.Error("the image does not decrypt to its input with the unwrapped key")
		}
	})

	t.Run("luks and rotation", func(t *testing.T) {
		code, stdout, stderr := runCLI(t, nil, "keys", "generate-dek", "--root-key", id)
		if code != 0 || stderr != "" {
			t.Fatalf("generate-dek: exit %d: %s", code, stderr)
		}
		wdek := strings.TrimSpace(stdout)
		if _, err := base64.StdEncoding.DecodeString(wdek); err != nil || strings.Count(stdout, "\n") != 1 {
			t.Fatalf("stdout is not one WDEK line: %q", stdout)
		}
		if code, out, stderr := runCLI(t, nil, "keys", "rotate", id); code != 0 || !strings.HasPrefix(out, "rotated "+id) {
			t.Fatalf("rotate: exit %d %s: %s", code, stderr, out)
		}
		pass := filepath.Join(dir, "luks.pass")
		code, stdout, stderr = runCLI(t, []byte(wdek+"\n"), "keys", "unwrap", "--root-key", id, "--wdek", "-", "--dek-out", pass)
		if code != 0 {
			t.Fatalf("unwrap after rotation: exit %d: %s", code, stderr)
		}
		rewrapped := strings.TrimSpace(stdout)
		if !strings.Contains(stderr, "rotated") || rewrapped == wdek || rewrapped == "" {
			t.Errorf("unwrap after rotation should print the rewrapped WDEK: stdout %q stderr %q", stdout, stderr)
		}
		p, _ := os.ReadFile(pass)
		dek, err := base64.StdEncoding.DecodeString(string(p))
		if err != nil || len(dek) != 32 {
			t.Fatalf("the LUKS passphrase file is not the base64 text of a 32-byte DEK: %v", err)
		}
		checkNoSecret(t, dek, stdout, stderr)
		// The rewrapped WDEK gives the same DEK.
		pass2 := filepath.Join(dir, "luks2.pass")
		if code, _, stderr := runCLI(t, []byte(rewrapped), "keys", "unwrap", "--root-key", id, "--wdek", "-", "--dek-out", pass2, "--format", "luks1"); code != 0 {
			t.Fatalf("unwrap of the rewrapped WDEK: %s", stderr)
		}
		if p2, _ := os.ReadFile(pass2); !bytes.Equal(p, p2) {
			t.Error("the rewrapped WDEK holds another DEK")
		}
	})

	t.Run("qcow2", func(t *testing.T) {
		pass := filepath.Join(dir, "q.pass")
		code, stdout, stderr := runCLI(t, nil, "keys", "generate-dek", "--root-key", id, "--format", "qcow2", "--dek-out", pass)
		if code != 0 {
			t.Fatalf("generate-dek: exit %d: %s", code, stderr)
		}
		p, _ := os.ReadFile(pass)
		if len(p) != 64 || !isText(p) {
			t.Errorf("qcow2 passphrase %d bytes, text %v", len(p), isText(p))
		}
		checkNoSecret(t, p, stdout, stderr)
	})

	t.Run("errors", func(t *testing.T) {
		wdek := writeFile(t, dir, "w", []byte("not base64!"))
		other := writeFile(t, dir, "other.wdek", nil)
		if code, out, stderr := runCLI(t, nil, "keys", "generate-dek", "--root-key", id, "--out-wdek", other); code != 0 || out != "" {
			t.Fatalf("generate-dek: %s", stderr)
		}
		code, out, stderr := runCLI(t, nil, "keys", "ensure-root", "second-root")
		if code != 0 {
			t.Fatal(stderr)
		}
		second := field(t, out, "id")
		exists := writeFile(t, dir, "exists", []byte("keep me"))
		out2 := filepath.Join(dir, "never")
		for _, tc := range []badCase{
			{"no subcommand", []string{"keys"}, 2, "missing subcommand"},
			{"unknown subcommand", []string{"keys", "destroy"}, 2, `unknown subcommand "destroy"`},
			{"ensure-root without name", []string{"keys", "ensure-root"}, 2, "missing NAME"},
			{"rotate two ids", []string{"keys", "rotate", "a", "b"}, 2, `unexpected argument "b"`},
			{"generate-dek without root key", []string{"keys", "generate-dek"}, 2, "--root-key is required"},
			{"generate-dek bad format", []string{"keys", "generate-dek", "--root-key", id, "--format", "zip"}, 2, "--format must be luks, vhd or qcow2"},
			{"DEK to stdout", []string{"keys", "generate-dek", "--root-key", id, "--dek-out", "-"}, 2, "never printed"},
			{"DEK over a file", []string{"keys", "generate-dek", "--root-key", id, "--dek-out", exists}, 1, "never overwritten"},
			{"unknown root key", []string{"keys", "generate-dek", "--root-key", "00000000-0000-0000-0000-000000000000"}, 1, "Key does not exist (KEY_NOT_FOUND_ERR)"},
			{"rotate unknown key", []string{"keys", "rotate", "00000000-0000-0000-0000-000000000000"}, 1, "HTTP 404"},
			{"unwrap without dek-out", []string{"keys", "unwrap", "--root-key", id, "--wdek", wdek}, 2, "--dek-out is required"},
			{"unwrap bad wdek", []string{"keys", "unwrap", "--root-key", id, "--wdek", wdek, "--dek-out", out2}, 1, "keys: WDEK is not base64 text"},
			{"unwrap missing wdek", []string{"keys", "unwrap", "--root-key", id, "--wdek", out2 + ".nope", "--dek-out", out2}, 1, "no such file"},
			{"unwrap with another key", []string{"keys", "unwrap", "--root-key", second, "--wdek", other, "--dek-out", out2}, 1, "ciphertext is invalid"},
			{"vhd key from a luks DEK", []string{"keys", "unwrap", "--root-key", id, "--wdek", other, "--dek-out", out2, "--format", "qcow2"}, 1, "keys: DEK is not a UTF-8 passphrase"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				code, stdout, stderr := runCLI(t, nil, tc.args...)
				if code != tc.code || stdout != "" {
					t.Errorf("exit %d (want %d), stdout %q", code, tc.code, stdout)
				}
				checkOneLineError(t, stderr, tc.want)
				if _, err := os.Stat(out2); err == nil {
					t.Error("a failed run left a DEK file behind")
					os.Remove(out2)
				}
			})
		}
		if b, _ := os.ReadFile(exists); string(b) != "keep me" {
			t.Error("an existing file was overwritten with a DEK")
		}

		t.Setenv("IBMCLOUD_API_KEY", "")
		code, _, stderr = runCLI(t, nil, "keys", "list")
		if code != 2 {
			t.Errorf("no API key: exit %d", code)
		}
		checkOneLineError(t, stderr, "IBMCLOUD_API_KEY is not set")
		t.Setenv("IBMCLOUD_API_KEY", "wrong-api-key-0123456789abcdef")
		code, _, stderr = runCLI(t, nil, "keys", "list")
		if code != 1 {
			t.Errorf("wrong API key: exit %d", code)
		}
		checkOneLineError(t, stderr, "")
		checkNoSecret(t, []byte("wrong-api-key-0123456789abcdef"), stderr)
	})
}

// isText reports whether b is printable ASCII.
func isText(b []byte) bool {
	for _, c := range b {
		if c < 0x20 || c > 0x7e {
			return false
		}
	}
	return true
}

func TestKeysEnvironment(t *testing.T) {
	cloud := startCloud(t)

	t.Run("hpcs", func(t *testing.T) {
		t.Setenv("KP_INSTANCE_ID", "")
		t.Setenv("HPCS_INSTANCE_ID", cloud.HPCSInstanceID)
		code, out, stderr := runCLI(t, nil, "keys", "ensure-root", "hpcs-root")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		if crn := field(t, out, "crn"); !strings.Contains(crn, ":hs-crypto:") {
			t.Errorf("HPCS key CRN %s does not name hs-crypto", crn)
		}
	})
	t.Run("no instance", func(t *testing.T) {
		t.Setenv("KP_INSTANCE_ID", "")
		code, _, stderr := runCLI(t, nil, "keys", "list")
		if code != 2 {
			t.Errorf("exit %d, want 2", code)
		}
		checkOneLineError(t, stderr, "KP_INSTANCE_ID (or HPCS_INSTANCE_ID) is not set")
		// A usage mistake is reported before the missing setting.
		code, _, stderr = runCLI(t, nil, "keys", "unwrap", "--root-key", "k", "--dek-out", "d")
		if code != 2 {
			t.Errorf("exit %d, want 2", code)
		}
		checkOneLineError(t, stderr, "keys: unwrap: --wdek is required")
	})
	t.Run("config file", func(t *testing.T) {
		t.Setenv("KP_INSTANCE_ID", "")
		cfg := writeFile(t, t.TempDir(), "config.json", []byte(`{"kms": {"instanceId": "`+cloud.KPInstanceID+`"}}`))
		if code, out, stderr := runCLI(t, nil, "keys", "list", "--config", cfg); code != 0 || !strings.HasPrefix(out, "ID") {
			t.Errorf("exit %d: %s%s", code, out, stderr)
		}
		bad := writeFile(t, t.TempDir(), "bad.json", []byte(`{"kms": {"instance": "x"}}`))
		code, _, stderr := runCLI(t, nil, "keys", "list", "--config", bad)
		if code != 1 {
			t.Errorf("unknown config field: exit %d", code)
		}
		checkOneLineError(t, stderr, "unknown field")
	})
	t.Run("cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		var stdout, stderr bytes.Buffer
		if code := runContext(ctx, []string{"keys", "list"}, nil, &stdout, &stderr); code != 1 || stdout.Len() != 0 {
			t.Errorf("exit %d, stdout %q", code, stdout.String())
		}
		checkOneLineError(t, stderr.String(), "context canceled")
	})
	t.Run("help", func(t *testing.T) {
		code, out, _ := runCLI(t, nil, "keys", "-h")
		if code != 0 || !strings.Contains(out, "generate-dek") || !strings.Contains(out, "KP_INSTANCE_ID") {
			t.Errorf("keys -h: exit %d\n%s", code, out)
		}
		code, out, _ = runCLI(t, nil, "keys", "unwrap", "-h")
		if code != 0 || !strings.Contains(out, "-dek-out") || !strings.Contains(out, "-config") {
			t.Errorf("keys unwrap -h: exit %d\n%s", code, out)
		}
	})
}

func TestKeysExpiredToken(t *testing.T) {
	cloud, err := e2etest.Start(e2etest.Options{TokenLifetime: time.Nanosecond})
	if err != nil {
		t.Fatal(err)
	}
	defer cloud.Close()
	t.Setenv("IBMCLOUD_API_KEY", cloud.APIKey)
	t.Setenv("KP_INSTANCE_ID", cloud.KPInstanceID)
	t.Setenv("HPCS_INSTANCE_ID", "")
	t.Setenv("E2E_IAM_URL", cloud.IAMURL)
	t.Setenv("E2E_KMS_URL", cloud.KMSURL)
	code, stdout, stderr := runCLI(t, nil, "keys", "list")
	if code != 1 || stdout != "" {
		t.Errorf("exit %d, stdout %q", code, stdout)
	}
	checkOneLineError(t, stderr, "401")
}
