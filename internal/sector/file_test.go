package sector_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/e2eimage/e2e/internal/sector"
)

// A regular file is written with WriteAt by the workers: the bytes must be
// those of the sequential path, after whatever the file already held
// before the stream (a header), with the offset left at the end so a
// trailer written next lands after the stream.
func TestWriterFile(t *testing.T) {
	prefix := []byte("header before the stream")
	for _, size := range []int{1, unit, 3*4096 + unit/2, 3<<20 + 5} {
		for _, workers := range []int{1, 3} {
			t.Run(fmt.Sprintf("size=%d/workers=%d", size, workers), func(t *testing.T) {
				checkNoLeak(t)
				data := randomData(size, uint64(size)+7)
				f, err := os.Create(filepath.Join(t.TempDir(), "out"))
				if err != nil {
					t.Fatal(err)
				}
				defer f.Close()
				if _, err := f.Write(prefix); err != nil {
					t.Fatal(err)
				}
				var seen []int64
				o := sector.Options{Workers: workers, BatchSize: 4096, FirstUnit: 5, Progress: func(n int64) { seen = append(seen, n) }}
				w := sector.NewWriter(f, unit, xorUnits(t, unit), o)
				if _, err := w.ReadFrom(bytes.NewReader(data)); err != nil {
					t.Fatal(err)
				}
				if err := w.Close(); err != nil {
					t.Fatal(err)
				}
				if _, err := f.Write([]byte("trailer")); err != nil {
					t.Fatal(err)
				}
				want := append(append(append([]byte(nil), prefix...), reference(data, unit, 5)...), "trailer"...)
				got, err := os.ReadFile(f.Name())
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, want) {
					t.Fatalf("file holds %d bytes, differing from the sequential reference (%d bytes)", len(got), len(want))
				}
				stream := int64(len(want) - len(prefix) - len("trailer"))
				if w.Written() != stream {
					t.Errorf("Written() = %d, want %d", w.Written(), stream)
				}
				checkProgress(t, "Writer to file", seen, stream)
			})
		}
	}
}

// A file that refuses writes (opened read-only) fails the stream with the
// file's error, sticky, and Close stops every worker.
func TestWriterFileError(t *testing.T) {
	checkNoLeak(t)
	name := filepath.Join(t.TempDir(), "ro")
	if err := os.WriteFile(name, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := sector.NewWriter(f, unit, xorUnits(t, unit), sector.Options{Workers: 2, BatchSize: 4096})
	_, err = w.ReadFrom(bytes.NewReader(randomData(1<<20, 12)))
	cerr := w.Close()
	var pe *os.PathError
	if !errors.As(cerr, &pe) {
		t.Fatalf("Close = %v, want the file's *os.PathError", cerr)
	}
	if err != nil && !errors.As(err, &pe) {
		t.Fatalf("ReadFrom = %v, want nil or the file's error", err)
	}
	if _, err := w.Write([]byte{1}); !errors.As(err, &pe) {
		t.Fatalf("Write after the failure = %v, want the sticky file error", err)
	}
	if w.Written() != 0 {
		t.Errorf("Written() = %d after every write failed", w.Written())
	}
}

// A pipe is not positional: the stream is written in order.
func TestWriterPipe(t *testing.T) {
	checkNoLeak(t)
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	data := randomData(5*4096+9, 13)
	got := make(chan []byte)
	go func() {
		b, _ := io.ReadAll(pr)
		got <- b
	}()
	w := sector.NewWriter(pw, unit, xorUnits(t, unit), sector.Options{Workers: 3, BatchSize: 4096})
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	if b := <-got; !bytes.Equal(b, reference(data, unit, 0)) {
		t.Fatalf("pipe got %d bytes, not the stream in order", len(b))
	}
}

// With Holes, all-zero batches are not written to a file that ended where
// the stream starts (they read back as zeros from the hole), and the file
// still gets its full length when the stream ends in zeros; a file with old
// bytes past the start has its zeros written over them. Without Holes the
// same bytes come out, every batch written.
func TestWriterFileZeroBatches(t *testing.T) {
	data := make([]byte, 6*4096)
	copy(data, randomData(4096, 20))
	copy(data[3*4096:], randomData(4096, 21)) // zeros in batches 1, 2, 4 and 5
	keep := func([]byte, uint64) {}
	for _, c := range []struct {
		old   int
		holes bool
	}{{0, true}, {len(data) + 100, true}, {0, false}} {
		old := c.old
		t.Run(fmt.Sprintf("old=%d/holes=%v", old, c.holes), func(t *testing.T) {
			checkNoLeak(t)
			name := filepath.Join(t.TempDir(), "out")
			oldBytes := bytes.Repeat([]byte{0xee}, old)
			if err := os.WriteFile(name, append([]byte("hdr"), oldBytes...), 0o600); err != nil {
				t.Fatal(err)
			}
			f, err := os.OpenFile(name, os.O_RDWR, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if _, err := f.Seek(3, io.SeekStart); err != nil {
				t.Fatal(err)
			}
			w := sector.NewWriter(f, unit, keep, sector.Options{Workers: 2, BatchSize: 4096, Holes: c.holes})
			if _, err := w.Write(data); err != nil {
				t.Fatal(err)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			fi, err := f.Stat()
			if err != nil {
				t.Fatal(err)
			}
			if fi.Size() < int64(3+len(data)) {
				t.Fatalf("file is %d bytes after Close, want at least %d", fi.Size(), 3+len(data))
			}
			if _, err := f.Write([]byte("!")); err != nil {
				t.Fatal(err)
			}
			want := append(append([]byte("hdr"), data...), '!')
			if old > len(data)+1 {
				want = append(want, oldBytes[len(data)+1:]...)
			}
			got, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("file holds %d bytes, want %d: zero batches lost or old bytes kept", len(got), len(want))
			}
		})
	}
}
