package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/e2eimage/e2e/disk"
)

// FuzzInspect feeds inspect's detection and report any bytes: it must
// return an error or a report that renders as text and JSON, never panic.
// Seeds are real images: cryptsetup's LUKS1 header, QEMU's VHDs and qcow2s
// from package disk's testdata, and a small encrypted VHD.
func FuzzInspect(f *testing.F) {
	if b, err := os.ReadFile("../../luks/testdata/cryptsetup-luks1.hdr"); err == nil {
		f.Add(b)
	}
	gzs, _ := filepath.Glob("../../disk/testdata/*.gz")
	for _, p := range gzs {
		fh, err := os.Open(p)
		if err != nil {
			f.Fatal(err)
		}
		zr, err := gzip.NewReader(fh)
		if err != nil {
			f.Fatal(err)
		}
		b, err := io.ReadAll(zr)
		fh.Close()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	src := make([]byte, 4096)
	copy(src, "data")
	d, err := disk.Open(bytes.NewReader(src), int64(len(src)))
	if err != nil {
		f.Fatal(err)
	}
	var vhd bytes.Buffer
	if _, err := disk.WriteEncryptedVHD(context.Background(), &vhd, d, bytes.Repeat([]byte{7}, 32)); err != nil {
		f.Fatal(err)
	}
	f.Add(vhd.Bytes())
	f.Add([]byte{})
	f.Add([]byte("LUKS\xba\xbe\x00\x02"))

	f.Fuzz(func(t *testing.T, b []byte) {
		id, err := identify(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			if id != nil {
				t.Fatal("an identity with an error")
			}
			return
		}
		r := report(id, int64(len(b)))
		if !strings.HasPrefix(r.text(), "format       "+r.Format) {
			t.Fatalf("text report %q", r.text())
		}
		if _, err := json.Marshal(r); err != nil {
			t.Fatal(err)
		}
	})
}
