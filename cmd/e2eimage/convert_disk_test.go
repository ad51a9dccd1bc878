package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/e2eimage/e2e/disk"
)

func TestConvertCommand(t *testing.T) {
	dir := t.TempDir()
	data := make([]byte, 2<<20+4096)
	copy(data[100:], "plain data")
	copy(data[len(data)-10:], "the end")
	key := bytes.Repeat([]byte{3}, 32)
	keyFile := writeFile(t, dir, "key", key)
	passFile := writeFile(t, dir, "pass", []byte("pw"))
	raw := writeFile(t, dir, "in.raw", data)

	src, err := disk.Open(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	var vhd bytes.Buffer
	if _, err := disk.WriteEncryptedVHD(context.Background(), &vhd, src, key); err != nil {
		t.Fatal(err)
	}
	encVHD := writeFile(t, dir, "enc.vhd", vhd.Bytes())

	// raw -> qcow2 -> raw, and encrypted VHD -> raw with the key.
	q := filepath.Join(dir, "out.qcow2")
	if code, _, stderr := runCLI(t, nil, "convert", "--in", raw, "--out", q, "--to", "qcow2"); code != 0 {
		t.Fatalf("to qcow2: exit %d: %s", code, stderr)
	}
	for _, c := range []struct {
		name string
		args []string
	}{
		{"qcow2", []string{"--in", q}},
		{"encrypted vhd", []string{"--in", encVHD, "--key-file", keyFile}},
	} {
		back := filepath.Join(dir, "back.raw")
		code, _, stderr := runCLI(t, nil, append([]string{"convert", "--out", back, "--to", "raw"}, c.args...)...)
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", c.name, code, stderr)
		}
		got, _ := os.ReadFile(back)
		if !bytes.Equal(got[:len(data)], data) {
			t.Errorf("%s: content differs", c.name)
		}
	}

	bad := filepath.Join(dir, "bad")
	for _, c := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"--in", encVHD, "--out", bad, "--to", "raw"}, 1, "encrypted"},
		{[]string{"--in", encVHD, "--out", bad, "--to", "raw", "--key-file", passFile}, 1, "32 or 64 raw bytes"},
		{[]string{"--in", raw, "--out", bad, "--to", "qcow2-luks"}, 2, "--to must be"},
		{[]string{"--in", "-", "--out", bad, "--to", "raw"}, 2, "--in must name a file"},
		{[]string{"--in", raw, "--out", bad, "--to", "raw", "--key-file", keyFile, "--passphrase-file", passFile}, 2, "not both"},
	} {
		code, _, stderr := runCLI(t, nil, append([]string{"convert"}, c.args...)...)
		if code != c.code || !strings.Contains(stderr, c.msg) {
			t.Errorf("convert %v: exit %d (want %d): %s", c.args, code, c.code, stderr)
		}
		if _, err := os.Stat(bad); !os.IsNotExist(err) {
			t.Errorf("convert %v left %s behind", c.args, bad)
		}
	}
}
