package sector_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/e2eimage/e2e/internal/sector"
	"github.com/e2eimage/e2e/internal/testtool"
)

// WriteData leaves the all-zero HoleGrain pieces of a buffer out of a fresh
// file (they stay holes, SEEK_DATA skips them), writes the rest where it
// belongs, and writes everything over a file that held old bytes.
func TestWriteDataHoles(t *testing.T) {
	const g = sector.HoleGrain
	data := bytes.Repeat([]byte{0}, 5*g+100)
	fill := func(from, to int) {
		for i := from; i < to; i++ {
			data[i] = byte(i%251 + 1)
		}
	}
	fill(0, g)            // piece 0: data
	fill(2*g, 2*g+1)      // piece 2: one byte of data
	fill(3*g+g-1, 3*g+g)  // piece 3: its last byte (a run with piece 2)
	fill(5*g+99, 5*g+100) // the short tail piece: its last byte
	const base = 4096     // the stream starts past a header
	for _, fresh := range []bool{true, false} {
		name := filepath.Join(t.TempDir(), "out")
		old := []byte("hdr")
		if !fresh {
			old = bytes.Repeat([]byte{0xee}, base+len(data))
		}
		if err := os.WriteFile(name, old, 0o600); err != nil {
			t.Fatal(err)
		}
		f, err := os.OpenFile(name, os.O_RDWR, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if _, err := f.Seek(base, 0); err != nil {
			t.Fatal(err)
		}
		p := sector.PositionalFile(f)
		if p == nil || p.Fresh() != fresh {
			t.Fatalf("PositionalFile: %v, fresh %v; want fresh %v", p, p != nil && p.Fresh(), fresh)
		}
		if err := p.WriteData(data, 0); err != nil {
			t.Fatal(err)
		}
		if err := p.Finish(int64(len(data))); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != base+len(data) || !bytes.Equal(got[base:], data) {
			t.Fatalf("fresh %v: file of %d bytes does not hold the data at %d", fresh, len(got), base)
		}
		if !fresh {
			continue
		}
		// Pieces 1 and 4 were never written: holes, if the file system
		// keeps them (tmpfs and ext4 do, at 4 KiB).
		for _, piece := range []int{1, 4} {
			hole := int64(base + piece*g)
			next, err := unix.Seek(int(f.Fd()), hole, unix.SEEK_DATA)
			if err != nil {
				testtool.Unavailable(t, "SEEK_DATA on the temp dir", err)
			}
			if next < hole+g {
				t.Errorf("piece %d (at %d) holds data from %d on: the zero piece was written", piece, hole, next)
			}
		}
	}
}

// A Writer leaves zero batches as holes only with Options.Holes: an
// encrypting Writer (ciphertext is never zero) writes every batch without
// looking for zeros.
func TestWriterHolesOption(t *testing.T) {
	const size = 4 * sector.HoleGrain
	for _, holes := range []bool{true, false} {
		name := filepath.Join(t.TempDir(), "out")
		f, err := os.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		keep := func([]byte, uint64) {}
		w := sector.NewWriter(f, unit, keep, sector.Options{Workers: 2, BatchSize: sector.HoleGrain, Holes: holes})
		if _, err := w.Write(make([]byte, size)); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if fi, err := f.Stat(); err != nil || fi.Size() != size {
			t.Fatalf("holes=%v: file stat %v, %v; want %d bytes", holes, fi, err, size)
		}
		next, err := unix.Seek(int(f.Fd()), 0, unix.SEEK_DATA)
		hole := err == unix.ENXIO || (err == nil && next >= size)
		if err != nil && err != unix.ENXIO {
			testtool.Unavailable(t, "SEEK_DATA on the temp dir", err)
		}
		if hole != holes {
			t.Errorf("holes=%v: SEEK_DATA from 0 = %d, %v: zero batches left as holes = %v", holes, next, err, hole)
		}
	}
}
