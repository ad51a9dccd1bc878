package disk_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/e2eimage/e2e/disk"
	"github.com/e2eimage/e2e/internal/testtool"
)

const (
	kiB = 1 << 10
	miB = 1 << 20
)

// pattern builds a test disk of size bytes: "dense" fills everything with
// pseudo-random bytes; "sparse" writes a few islands (including one straddling
// a 2 MiB boundary and the very last sector) into zeros.
func pattern(size int64, kind string, seed uint64) []byte {
	b := make([]byte, size)
	r := rand.New(rand.NewPCG(seed, 7))
	fill := func(off, n int64) {
		if off < 0 || off >= size {
			return
		}
		n = min(n, size-off)
		for i := off; i < off+n; i++ {
			b[i] = byte(r.Uint32())
		}
	}
	switch kind {
	case "dense":
		fill(0, size)
	case "text": // compressible, so qemu-img -c really compresses it
		for i := int64(0); i < size; {
			line := fmt.Sprintf("line %d of a compressible disk\n", i)
			i += int64(copy(b[i:], line))
		}
	case "sparse":
		fill(0, 4*kiB)
		fill(2*miB-1000, 3000)
		fill(size/2, 70*kiB)
		fill(size-512, 512)
	}
	return b
}

// openBytes opens an in-memory image.
func openBytes(t testing.TB, img []byte) disk.Disk {
	t.Helper()
	d, err := disk.Open(bytes.NewReader(img), int64(len(img)))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// readAll reads the whole virtual disk with one ReadAt.
func readAll(t testing.TB, d disk.Disk) []byte {
	t.Helper()
	b := make([]byte, d.Size())
	n, err := d.ReadAt(b, 0)
	if n != len(b) || (err != nil && err != io.EOF) {
		t.Fatalf("ReadAt(%d bytes): n=%d err=%v", len(b), n, err)
	}
	return b
}

// sameDisk checks that got starts with want and is zero after it (formats
// round virtual sizes up).
func sameDisk(t testing.TB, got, want []byte) {
	t.Helper()
	if len(got) < len(want) {
		t.Fatalf("disk is %d bytes, want at least %d", len(got), len(want))
	}
	if i := firstDiff(got[:len(want)], want); i >= 0 {
		t.Fatalf("content differs at byte %d (sector %d)", i, i/512)
	}
	for i, c := range got[len(want):] {
		if c != 0 {
			t.Fatalf("tail byte %d past the source size is %#x, want 0", len(want)+i, c)
		}
	}
}

func firstDiff(a, b []byte) int {
	for i := 0; i < len(a); i += 4096 {
		j := min(i+4096, len(a))
		if !bytes.Equal(a[i:j], b[i:j]) {
			for k := i; k < j; k++ {
				if a[k] != b[k] {
					return k
				}
			}
		}
	}
	return -1
}

func qemuImg(t testing.TB) string {
	t.Helper()
	return testtool.Path(t, "qemu-img")
}

// run runs a command and returns its combined output, failing the test on
// a non-zero exit.
func run(t testing.TB, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", filepath.Base(name), strings.Join(args, " "), err, out)
	}
	return string(out)
}

func writeFile(t testing.TB, dir, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func readFile(t testing.TB, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// convert writes src in a plain format with Convert.
func convert(t testing.TB, src []byte, to disk.Format, opts ...disk.WriteOption) []byte {
	t.Helper()
	var out bytes.Buffer
	n, err := disk.Convert(context.Background(), &out, openBytes(t, src), to, opts...)
	if err != nil {
		t.Fatalf("Convert to %s: %v", to, err)
	}
	if n != int64(out.Len()) {
		t.Fatalf("Convert returned %d, wrote %d", n, out.Len())
	}
	return out.Bytes()
}
