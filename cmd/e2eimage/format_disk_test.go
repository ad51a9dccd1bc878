package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/e2eimage/e2e/disk"
)

func TestEncryptDiskFormats(t *testing.T) {
	dir := t.TempDir()
	data := make([]byte, 3<<20+512)
	copy(data[1<<20:], "some data in the second MiB")
	copy(data[len(data)-512:], "last sector")
	in := writeFile(t, dir, "in.raw", data)
	key := writeFile(t, dir, "key", bytes.Repeat([]byte{0x5a}, 64))
	pass := writeFile(t, dir, "pass", []byte("passphrase"))

	check := func(t *testing.T, d disk.Disk, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		got := make([]byte, len(data))
		if _, err := d.ReadAt(got, 0); err != nil || !bytes.Equal(got, data) {
			t.Fatalf("decrypted image differs (%v)", err)
		}
	}
	t.Run("vhd", func(t *testing.T) {
		out := filepath.Join(dir, "out.vhd")
		code, _, stderr := runCLI(t, nil, "encrypt", "--format", "vhd", "--in", in, "--out", out, "--passphrase-file", key, "--workers", "2")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		img, _ := os.ReadFile(out)
		d, err := disk.OpenEncryptedVHD(bytes.NewReader(img), int64(len(img)), bytes.Repeat([]byte{0x5a}, 64))
		check(t, d, err)
	})
	t.Run("qcow2", func(t *testing.T) {
		out := filepath.Join(dir, "out.qcow2")
		code, _, stderr := runCLI(t, nil, "encrypt", "--format", "qcow2", "--in", in, "--out", out, "--passphrase-file", pass, "--iter-time", "10ms")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		img, _ := os.ReadFile(out)
		d, err := disk.OpenQCOW2LUKS(bytes.NewReader(img), int64(len(img)), []byte("passphrase"))
		check(t, d, err)
	})
	t.Run("errors", func(t *testing.T) {
		out := filepath.Join(dir, "bad")
		if code, _, stderr := runCLI(t, nil, "encrypt", "--format", "vhd", "--in", in, "--out", out, "--passphrase-file", pass); code != 2 || !strings.Contains(stderr, "32 or 64 bytes") {
			t.Errorf("short key: exit %d: %s", code, stderr)
		}
		if code, _, stderr := runCLI(t, data, "encrypt", "--format", "qcow2", "--in", "-", "--out", out, "--passphrase-file", pass); code != 2 || !strings.Contains(stderr, "regular file") {
			t.Errorf("stdin input: exit %d: %s", code, stderr)
		}
		if _, err := os.Stat(out); !os.IsNotExist(err) {
			t.Errorf("failed run left %s behind", out)
		}
	})
}
