package main

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/e2eimage/e2e/disk"
)

// TestInspectEveryFormat makes each format with the CLI and checks what
// inspect reports, as text and JSON, and that no secret shows.
func TestInspectEveryFormat(t *testing.T) {
	dir := t.TempDir()
	data := diskTestImage()
	raw := writeFile(t, dir, "in.raw", data)
	key := bytes.Repeat([]byte{0x42}, 32)
	keyFile := writeFile(t, dir, "key", key)
	pass := []byte("inspect-passphrase")
	passFile := writeFile(t, dir, "pass", pass)
	mk := func(name string, args ...string) string {
		t.Helper()
		out := filepath.Join(dir, name)
		if code, _, stderr := runCLI(t, nil, append(args, "--out", out)...); code != 0 {
			t.Fatalf("making %s: exit %d: %s", name, code, stderr)
		}
		return out
	}
	kh := disk.KeyHash(key)
	for _, tc := range []struct {
		path      string
		format    string
		encrypted bool
		virtual   int64
		check     func(t *testing.T, r *inspectReport)
	}{
		{raw, "raw", false, int64(len(data)), nil},
		{mk("fixed.vhd", "convert", "--in", raw, "--to", "vhd-fixed"), "vhd-fixed", false, int64(len(data)), nil},
		{mk("dyn.vhd", "convert", "--in", raw, "--to", "vhd-dynamic"), "vhd-dynamic", false, 4 << 20, func(t *testing.T, r *inspectReport) {
			if r.BlockSize != 2<<20 || r.Allocated != 4<<20 {
				t.Errorf("block size %d, allocated %d; want 2 MiB blocks, both allocated", r.BlockSize, r.Allocated)
			}
		}},
		{mk("plain.qcow2", "convert", "--in", raw, "--to", "qcow2"), "qcow2", false, int64(len(data)), func(t *testing.T, r *inspectReport) {
			if r.QCOW2Version != 3 || r.BlockSize != 64<<10 || r.Allocated != 64<<10+512 {
				t.Errorf("qcow2 v%d, cluster %d, allocated %d; want v3, 64 KiB, one cluster and the 512-byte tail", r.QCOW2Version, r.BlockSize, r.Allocated)
			}
		}},
		{mk("enc.vhd", "encrypt", "--format", "vhd", "--in", raw, "--key-file", keyFile), "vhd-encrypted", true, 4 << 20, func(t *testing.T, r *inspectReport) {
			if r.KeyHash != hex.EncodeToString(kh[:]) {
				t.Errorf("key hash %s, want %x", r.KeyHash, kh)
			}
		}},
		{mk("enc.qcow2", "encrypt", "--format", "qcow2", "--iter-time", "10ms", "--in", raw, "--passphrase-file", passFile), "qcow2-luks", true, int64(len(data)), func(t *testing.T, r *inspectReport) {
			if r.LUKS == nil || r.LUKS.Version != 1 || r.LUKSOffset == 0 || r.LUKSLength == 0 || len(r.LUKS.ActiveSlots()) != 1 {
				t.Errorf("embedded LUKS header missing or wrong: %+v at %d (%d bytes)", r.LUKS, r.LUKSOffset, r.LUKSLength)
			}
		}},
		{mk("img.luks2", "encrypt", "--format", "luks2", "--pbkdf", "pbkdf2", "--iter-time", "10ms", "--in", raw, "--passphrase-file", passFile), "luks2", true, int64(len(data)), func(t *testing.T, r *inspectReport) {
			if r.LUKS == nil || r.LUKS.Version != 2 || r.LUKS.PayloadOffset != 16<<20 {
				t.Errorf("LUKS2 header %+v", r.LUKS)
			}
		}},
	} {
		t.Run(tc.format, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, nil, "inspect", tc.path, "--json")
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			var r inspectReport
			dec := json.NewDecoder(strings.NewReader(stdout))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&r); err != nil {
				t.Fatalf("--json: %v\n%s", err, stdout)
			}
			if r.Format != tc.format || r.Encrypted != tc.encrypted || r.VirtualSize != tc.virtual || r.FileSize <= 0 {
				t.Errorf("format %q encrypted %v virtual size %d file size %d; want %q %v %d",
					r.Format, r.Encrypted, r.VirtualSize, r.FileSize, tc.format, tc.encrypted, tc.virtual)
			}
			if tc.check != nil {
				tc.check(t, &r)
			}
			code, text, stderr := runCLI(t, nil, "inspect", tc.path)
			if code != 0 || !strings.HasPrefix(text, "format       "+tc.format) {
				t.Errorf("text: exit %d %s:\n%s", code, stderr, text)
			}
			for _, out := range []string{stdout, text} {
				for _, secret := range []string{string(pass), hex.EncodeToString(key), string(key)} {
					if strings.Contains(out, secret) {
						t.Errorf("inspect output reveals a secret:\n%s", out)
					}
				}
			}
		})
	}

	t.Run("errors", func(t *testing.T) {
		for _, tc := range []struct {
			args []string
			code int
			want string
		}{
			{[]string{"inspect", filepath.Join(dir, "none")}, 1, "no such file"},
			{[]string{"inspect", writeFile(t, dir, "bad.qcow2", append([]byte("QFI\xfb\x00\x00\x00\x03"), make([]byte, 200)...))}, 1, "disk: corrupt qcow2 image"},
			{[]string{"inspect"}, 2, "missing FILE"},
			{[]string{"inspect", raw, "--yaml"}, 2, "flag provided but not defined: -yaml"},
		} {
			code, stdout, stderr := runCLI(t, nil, tc.args...)
			if code != tc.code || stdout != "" {
				t.Errorf("%q: exit %d (want %d), stdout %q", tc.args, code, tc.code, stdout)
			}
			checkOneLineError(t, stderr, tc.want)
		}
	})
}
