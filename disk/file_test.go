package disk_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/e2eimage/e2e/disk"
)

// fileWriters are every writer, each with the way back to its content.
var fileWriters = []struct {
	name  string
	write func(dst io.Writer, src disk.Disk) (int64, error)
	open  func(r io.ReaderAt, size int64) (disk.Disk, error)
}{
	{"raw", func(dst io.Writer, src disk.Disk) (int64, error) {
		return disk.Convert(context.Background(), dst, src, disk.Raw, disk.WithWorkers(3))
	}, func(r io.ReaderAt, size int64) (disk.Disk, error) { return disk.Open(r, size) }},
	{"vhd-fixed", func(dst io.Writer, src disk.Disk) (int64, error) {
		return disk.Convert(context.Background(), dst, src, disk.VHDFixed, disk.WithWorkers(3))
	}, func(r io.ReaderAt, size int64) (disk.Disk, error) { return disk.Open(r, size) }},
	{"vhd-dynamic", func(dst io.Writer, src disk.Disk) (int64, error) {
		return disk.Convert(context.Background(), dst, src, disk.VHDDynamic, disk.WithWorkers(3))
	}, func(r io.ReaderAt, size int64) (disk.Disk, error) { return disk.Open(r, size) }},
	{"qcow2", func(dst io.Writer, src disk.Disk) (int64, error) {
		return disk.Convert(context.Background(), dst, src, disk.QCOW2, disk.WithWorkers(3))
	}, func(r io.ReaderAt, size int64) (disk.Disk, error) { return disk.Open(r, size) }},
	{"encrypted-vhd", func(dst io.Writer, src disk.Disk) (int64, error) {
		return disk.WriteEncryptedVHD(context.Background(), dst, src, bytes.Repeat([]byte{9}, 64), disk.WithWorkers(3))
	}, func(r io.ReaderAt, size int64) (disk.Disk, error) {
		return disk.OpenEncryptedVHD(r, size, bytes.Repeat([]byte{9}, 64))
	}},
	{"qcow2-luks", func(dst io.Writer, src disk.Disk) (int64, error) {
		return disk.WriteQCOW2LUKS(context.Background(), dst, src, testPassphrase, fastLUKS, disk.WithWorkers(3))
	}, func(r io.ReaderAt, size int64) (disk.Disk, error) { return disk.OpenQCOW2LUKS(r, size, testPassphrase) }},
}

// A regular file is written by the workers at the blocks' offsets: the
// image must read back as the source, be as long as the returned count
// and as the sequential output to a buffer, start where the file stood
// (after a prefix) and leave the offset at its end (before a trailer).
func TestWriteToFile(t *testing.T) {
	src := pattern(9*miB+512, "sparse", 3)
	copy(src[3*miB:5*miB], pattern(2*miB, "dense", 4)) // whole blocks and clusters of data too
	prefix, trailer := []byte("bytes before the image"), []byte("bytes after")
	for _, w := range fileWriters {
		t.Run(w.name, func(t *testing.T) {
			var seq bytes.Buffer
			if _, err := w.write(&seq, openBytes(t, src)); err != nil {
				t.Fatal(err)
			}
			f, err := os.Create(filepath.Join(t.TempDir(), "out"))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if _, err := f.Write(prefix); err != nil {
				t.Fatal(err)
			}
			n, err := w.write(f, openBytes(t, src))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.Write(trailer); err != nil {
				t.Fatal(err)
			}
			got := readFile(t, f.Name())
			if n != int64(seq.Len()) || int64(len(got)) != int64(len(prefix))+n+int64(len(trailer)) {
				t.Fatalf("wrote %d bytes to the file (%d in all), %d to a buffer", n, len(got), seq.Len())
			}
			if !bytes.HasPrefix(got, prefix) || !bytes.HasSuffix(got, trailer) {
				t.Fatal("prefix or trailer overwritten")
			}
			img := got[len(prefix) : int64(len(prefix))+n]
			d, err := w.open(bytes.NewReader(img), n)
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			sameDisk(t, readAll(t, d), src)
		})
	}
}

// A file that refuses writes fails the writer with the file's error.
func TestWriteToReadOnlyFile(t *testing.T) {
	src := pattern(3*miB, "dense", 5)
	name := filepath.Join(t.TempDir(), "ro")
	if err := os.WriteFile(name, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, w := range fileWriters {
		t.Run(w.name, func(t *testing.T) {
			f, err := os.Open(name)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			var pe *os.PathError
			if _, err := w.write(f, openBytes(t, src)); !errors.As(err, &pe) {
				t.Fatalf("writing to a read-only file: %v, want its *os.PathError", err)
			}
		})
	}
}

// A raw image in a local file is scanned by probing the first page of each
// block and reading the rest only when that page is zero: data anywhere
// past the probe (the last byte of a cluster, the middle of a VHD block)
// must still be found, and a source file that ends mid-block too.
func TestScanLocalFileProbe(t *testing.T) {
	const size = 6*miB + 1000 // not a whole block or cluster
	src := make([]byte, size)
	src[0] = 1                    // first byte of the first block
	src[64*kiB-1] = 2             // last byte of cluster 0 (data in the probe too)
	src[3*64*kiB-1] = 3           // last byte of cluster 2, whose probe page is zero
	src[2*miB+1*miB+12345] = 4    // middle of VHD block 1, past its probe
	src[4*miB+4*kiB] = 5          // first byte after the probe of VHD block 2
	copy(src[size-7:], "the end") // inside the partial last cluster
	p := writeFile(t, t.TempDir(), "src.raw", src)
	for _, w := range fileWriters[2:] { // the formats that scan for zeros
		t.Run(w.name, func(t *testing.T) {
			f, err := os.Open(p)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			d, err := disk.Open(f, size)
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			var out bytes.Buffer
			n, err := w.write(&out, d)
			if err != nil {
				t.Fatal(err)
			}
			back, err := w.open(bytes.NewReader(out.Bytes()), n)
			if err != nil {
				t.Fatal(err)
			}
			defer back.Close()
			sameDisk(t, readAll(t, back), src)
		})
	}
}

// Converting to raw skips writing all-zero chunks into a fresh file, but
// the file still has the disk's full length (the zero tail is a hole) and
// reads back as the disk; into a file with old bytes the zeros are written.
func TestConvertRawZeroChunks(t *testing.T) {
	src := make([]byte, 5*miB+512)
	copy(src[miB:], pattern(miB, "dense", 8)) // chunks 0, 2, 3, 4 and the tail are zeros
	for _, old := range []int{0, len(src) + 10} {
		t.Run(fmt.Sprint("old=", old), func(t *testing.T) {
			name := filepath.Join(t.TempDir(), "out.raw")
			if err := os.WriteFile(name, bytes.Repeat([]byte{0xee}, old), 0o600); err != nil {
				t.Fatal(err)
			}
			f, err := os.OpenFile(name, os.O_RDWR, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			n, err := disk.Convert(context.Background(), f, openBytes(t, src), disk.Raw, disk.WithWorkers(3))
			if err != nil || n != int64(len(src)) {
				t.Fatalf("Convert: %d bytes, %v", n, err)
			}
			got := readFile(t, name)
			want := append(append([]byte(nil), src...), bytes.Repeat([]byte{0xee}, max(0, old-len(src)))...)
			if !bytes.Equal(got, want) {
				t.Fatalf("raw file holds %d bytes, want %d equal to the disk (and old bytes after it)", len(got), len(want))
			}
		})
	}
}
