//go:build unix

package sector_test

import (
	"bytes"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/e2eimage/e2e/internal/sector"
)

// With O_APPEND, Linux's pwrite ignores the offset and appends (and
// os.File.WriteAt refuses to run), so the Writer must write in order. The
// descriptor is duplicated into a new *os.File, as a shell's >> hands one
// down to a command's standard output.
func TestWriterFileAppend(t *testing.T) {
	checkNoLeak(t)
	name := filepath.Join(t.TempDir(), "out")
	if err := os.WriteFile(name, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	opened, err := os.OpenFile(name, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	fd, err := syscall.Dup(int(opened.Fd()))
	opened.Close()
	if err != nil {
		t.Fatal(err)
	}
	f := os.NewFile(uintptr(fd), name)
	defer f.Close()
	data := randomData(10*4096+3, 11)
	w := sector.NewWriter(f, unit, xorUnits(t, unit), sector.Options{Workers: 3, BatchSize: 4096})
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	if want := append([]byte("old"), reference(data, unit, 0)...); !bytes.Equal(got, want) {
		t.Fatalf("appended file holds %d bytes, want %d in stream order", len(got), len(want))
	}
}
