package main

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/e2eimage/e2e/disk"
	"github.com/e2eimage/e2e/luks"
)

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// An unaligned source with a marker: both outputs exist, are encrypted (the
// marker is gone), have the expected geometry, and run's own round trip
// (which fails the run on a mismatch) passed.
func TestRunEncryptsAFile(t *testing.T) {
	dir := t.TempDir()
	marker := []byte("THE-PLAINTEXT-MARKER-0123456789")
	src := bytes.Repeat(marker, (1<<20+1000)/len(marker))
	in := filepath.Join(dir, "in.raw")
	if err := os.WriteFile(in, src, 0o600); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	err := run(context.Background(), &out, envOf(map[string]string{
		"E2E_SOURCE": in, "E2E_OUT_DIR": dir, "E2E_ITER_TIME": "10ms",
	}))
	if err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	t.Log(out.String())
	if n := strings.Count(out.String(), "decrypts to the source"); n != 2 {
		t.Errorf("want 2 verified round trips in the output, got %d", n)
	}

	lf, err := os.ReadFile(filepath.Join(dir, "disk.luks"))
	if err != nil {
		t.Fatal(err)
	}
	h, err := luks.ReadHeader(bytes.NewReader(lf))
	if err != nil {
		t.Fatal(err)
	}
	if h.CipherSpec() != "aes-xts-plain64" || len(h.ActiveSlots()) != 1 {
		t.Errorf("LUKS header: %s, active slots %v", h.CipherSpec(), h.ActiveSlots())
	}
	if want := h.PayloadOffset + int64(len(src)+511)/512*512; int64(len(lf)) != want {
		t.Errorf("LUKS file is %d bytes, want %d (header + payload padded to a sector)", len(lf), want)
	}
	vf, err := os.ReadFile(filepath.Join(dir, "disk.vhd-0.vhd"))
	if err != nil {
		t.Fatal(err)
	}
	info, err := disk.Inspect(bytes.NewReader(vf), int64(len(vf)))
	if err != nil {
		t.Fatal(err)
	}
	if !info.Format.Encrypted() || info.KeyHash == [32]byte{} || info.VirtualSize != 2<<20 {
		t.Errorf("VHD: format %v, key hash set %v, virtual size %d", info.Format, info.KeyHash != [32]byte{}, info.VirtualSize)
	}
	for name, b := range map[string][]byte{"LUKS": lf, "VHD": vf} {
		if bytes.Contains(b, marker) {
			t.Errorf("the %s output contains the plaintext", name)
		}
	}
}

// With nothing set but a short key-slot time, run makes its own source in
// a temporary directory and removes it.
func TestRunDefault(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	var out bytes.Buffer
	if err := run(context.Background(), &out, envOf(map[string]string{"E2E_ITER_TIME": "10ms"})); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	if n := strings.Count(out.String(), "decrypts to the source"); n != 2 {
		t.Errorf("want 2 verified round trips, got %d:\n%s", n, out.String())
	}
	left, _ := os.ReadDir(os.Getenv("TMPDIR"))
	if len(left) != 0 {
		t.Errorf("the temporary directory was left behind: %v", left)
	}
}

func TestRunBadInput(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.raw")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	for _, tc := range []struct {
		name string
		ctx  context.Context
		env  map[string]string
		want error
	}{
		{"missing source", context.Background(), map[string]string{"E2E_SOURCE": filepath.Join(dir, "nope.raw")}, fs.ErrNotExist},
		{"empty source", context.Background(), map[string]string{"E2E_SOURCE": empty}, disk.ErrEmpty},
		{"cancelled", cancelled, map[string]string{}, context.Canceled},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.env["E2E_OUT_DIR"], tc.env["E2E_ITER_TIME"] = t.TempDir(), "10ms"
			err := run(tc.ctx, new(bytes.Buffer), envOf(tc.env))
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
	if err := run(context.Background(), new(bytes.Buffer), envOf(map[string]string{"E2E_ITER_TIME": "soon"})); err == nil || !strings.Contains(err.Error(), "E2E_ITER_TIME") {
		t.Errorf("a bad E2E_ITER_TIME: %v", err)
	}
}
