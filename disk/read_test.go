package disk_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/e2eimage/e2e/disk"
)

// qemuInputs are the images users arrive with, as qemu-img makes them.
var qemuInputs = []struct {
	name   string
	args   []string
	format disk.Format
}{
	{"vhd-dynamic", []string{"-O", "vpc", "-o", "subformat=dynamic"}, disk.VHDDynamic},
	{"vhd-fixed", []string{"-O", "vpc", "-o", "subformat=fixed"}, disk.VHDFixed},
	{"qcow2", []string{"-O", "qcow2"}, disk.QCOW2},
	{"qcow2-v2", []string{"-O", "qcow2", "-o", "compat=0.10"}, disk.QCOW2},
	{"qcow2-compressed", []string{"-O", "qcow2", "-c"}, disk.QCOW2},
	{"qcow2-4k-clusters", []string{"-O", "qcow2", "-o", "cluster_size=4096"}, disk.QCOW2},
	{"raw", []string{"-O", "raw"}, disk.Raw},
}

func TestReadQemuImages(t *testing.T) {
	qi := qemuImg(t)
	dir := t.TempDir()
	// One size that is a multiple of neither 2 MiB nor 64 KiB; the exact
	// multiples are covered by the writers' round trips.
	for _, size := range []int64{3*miB + 64*kiB + 512} {
		for _, kind := range []string{"sparse", "dense", "text"} {
			src := pattern(size, kind, uint64(size)+1)
			rawPath := writeFile(t, dir, fmt.Sprintf("src-%d-%s.raw", size, kind), src)
			for _, in := range qemuInputs {
				t.Run(fmt.Sprintf("%s/%d/%s", in.name, size, kind), func(t *testing.T) {
					p := filepath.Join(dir, fmt.Sprintf("%s-%d-%s.img", in.name, size, kind))
					run(t, qi, append(append([]string{"convert", "-f", "raw"}, in.args...), rawPath, p)...)
					d, err := disk.OpenFile(p)
					if err != nil {
						t.Fatal(err)
					}
					defer d.Close()
					if d.Format() != in.format {
						t.Errorf("Format = %v, want %v", d.Format(), in.format)
					}
					got := readAll(t, d)
					sameDisk(t, got, src)
					checkExtents(t, d, got)
					checkChunkedReads(t, d, got)
				})
			}
		}
	}
}

// checkExtents: extents tile [0, Size) and Zero ranges really read as zeros.
func checkExtents(t *testing.T, d disk.Disk, content []byte) {
	t.Helper()
	exts, err := d.Extents(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var pos int64
	for _, e := range exts {
		if e.Offset != pos || e.Length <= 0 {
			t.Fatalf("extents do not tile the disk: %+v at %d", e, pos)
		}
		if e.Zero && !isZeroBytes(content[e.Offset:e.Offset+e.Length]) {
			t.Fatalf("extent %+v is marked zero but holds data", e)
		}
		pos += e.Length
	}
	if pos != d.Size() {
		t.Fatalf("extents cover %d of %d bytes", pos, d.Size())
	}
}

// checkChunkedReads reads with odd sizes from many goroutines at once.
func checkChunkedReads(t *testing.T, d disk.Disk, want []byte) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for w, chunk := range []int{511, 4096, 65536 + 512, 1 << 20} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, chunk)
			end := d.Size()
			if chunk < 4096 {
				end = min(end, 256*kiB) // tiny reads cost a cluster inflate each
			}
			for off := int64(w * 13); off < end; off += int64(chunk) {
				n, err := d.ReadAt(buf, off)
				if err != nil && err != io.EOF {
					errs <- err
					return
				}
				if !bytes.Equal(buf[:n], want[off:off+int64(n)]) {
					errs <- fmt.Errorf("chunk %d at %d differs", chunk, off)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	// Past the end: io.EOF and nothing read.
	if n, err := d.ReadAt(make([]byte, 10), d.Size()); n != 0 || err != io.EOF {
		t.Errorf("ReadAt(Size) = %d, %v; want 0, EOF", n, err)
	}
	if n, err := d.ReadAt(make([]byte, 10), d.Size()-4); n != 4 || err != io.EOF {
		t.Errorf("ReadAt(Size-4) = %d, %v; want 4, EOF", n, err)
	}
}

// TestConvertQemuReads: qemu-img reads our plain outputs back to the input
// and finds no error in our qcow2.
func TestConvertQemuReads(t *testing.T) {
	qi := qemuImg(t)
	dir := t.TempDir()
	cases := []struct {
		to    disk.Format
		qemuF string
	}{{disk.QCOW2, "qcow2"}, {disk.VHDDynamic, "vpc"}, {disk.VHDFixed, "vpc"}, {disk.Raw, "raw"}}
	for _, size := range []int64{3*miB + 64*kiB + 512, 512} {
		for _, kind := range []string{"sparse", "dense", "zero"} {
			src := pattern(size, kind, 9)
			for _, c := range cases {
				t.Run(fmt.Sprintf("%s/%d/%s", c.to, size, kind), func(t *testing.T) {
					img := convert(t, src, c.to, disk.WithWorkers(2))
					p := writeFile(t, dir, fmt.Sprintf("out-%s-%d-%s", c.to, size, kind), img)
					if c.to == disk.QCOW2 {
						out := run(t, qi, "check", "-f", "qcow2", p)
						if !strings.Contains(out, "No errors were found") {
							t.Errorf("qemu-img check: %s", out)
						}
					}
					back := filepath.Join(dir, "back.raw")
					run(t, qi, "convert", "-f", c.qemuF, "-O", "raw", p, back)
					sameDisk(t, readFile(t, back), src)
					// and we read our own output back
					d := openBytes(t, img)
					if d.Format() != c.to {
						t.Errorf("reopened as %v", d.Format())
					}
					sameDisk(t, readAll(t, d), src)
				})
			}
		}
	}
}

func TestConvertErrors(t *testing.T) {
	ctx := context.Background()
	empty := openBytes(t, nil)
	for _, f := range []disk.Format{disk.QCOW2, disk.VHDDynamic, disk.VHDFixed} {
		if _, err := disk.Convert(ctx, io.Discard, empty, f); !errors.Is(err, disk.ErrEmpty) {
			t.Errorf("%s of an empty disk: %v, want ErrEmpty", f, err)
		}
	}
	src := openBytes(t, pattern(3*miB, "dense", 1))
	if _, err := disk.Convert(ctx, io.Discard, src, disk.QCOW2LUKS); err == nil {
		t.Error("Convert to QCOW2LUKS without a secret succeeded")
	}
	if _, err := disk.Convert(ctx, io.Discard, src, disk.QCOW2, disk.WithWorkers(0)); err == nil {
		t.Error("WithWorkers(0) accepted")
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := disk.Convert(cctx, io.Discard, src, disk.QCOW2); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled ctx: %v", err)
	}
	if _, err := disk.WriteEncryptedVHD(cctx, io.Discard, src, make([]byte, 32)); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled ctx: %v", err)
	}
	// A failing destination stops the write with its error.
	boom := errors.New("upload failed")
	if _, err := disk.Convert(ctx, &failAfter{n: 100 << 10, err: boom}, src, disk.VHDDynamic); !errors.Is(err, boom) {
		t.Errorf("failing writer: %v", err)
	}
	if _, err := disk.WriteEncryptedVHD(ctx, &failAfter{n: 3 << 20, err: boom}, src, make([]byte, 64)); !errors.Is(err, boom) {
		t.Errorf("failing writer: %v", err)
	}
}

type failAfter struct {
	n   int
	err error
}

func (w *failAfter) Write(p []byte) (int, error) {
	if len(p) > w.n {
		n := w.n
		w.n = 0
		return n, w.err
	}
	w.n -= len(p)
	return len(p), nil
}

func TestProgress(t *testing.T) {
	src := openBytes(t, pattern(5*miB, "dense", 2))
	var scans, writes int
	var last disk.Progress
	n, err := disk.WriteEncryptedVHD(context.Background(), io.Discard, src, make([]byte, 32), disk.WithProgress(func(p disk.Progress) {
		if p.Stage == disk.StageScan {
			scans++
		} else {
			writes++
		}
		if p.Done > p.Total {
			t.Errorf("progress %+v: done past total", p)
		}
		last = p
	}))
	if err != nil {
		t.Fatal(err)
	}
	if scans == 0 || writes == 0 || last.Stage != disk.StageWrite || last.Done != n || last.Total != n {
		t.Errorf("scans %d writes %d last %+v (wrote %d)", scans, writes, last, n)
	}
}

// hugeDisk claims an enormous size and reads as zeros, for limit tests.
type hugeDisk struct{ size int64 }

func (h hugeDisk) ReadAt(p []byte, off int64) (int, error) { clear(p); return len(p), nil }
func (h hugeDisk) Size() int64                             { return h.size }
func (h hugeDisk) Format() disk.Format                     { return disk.Raw }
func (h hugeDisk) Close() error                            { return nil }
func (h hugeDisk) Extents(context.Context) ([]disk.Extent, error) {
	return []disk.Extent{{Offset: 0, Length: h.size, Zero: true}}, nil
}

func TestTooLarge(t *testing.T) {
	ctx := context.Background()
	if _, err := disk.WriteEncryptedVHD(ctx, io.Discard, hugeDisk{2041 << 30}, make([]byte, 32)); !errors.Is(err, disk.ErrTooLarge) {
		t.Errorf("VHD of 2041 GiB: %v", err)
	}
	if _, err := disk.Convert(ctx, io.Discard, hugeDisk{1 << 50}, disk.QCOW2); !errors.Is(err, disk.ErrTooLarge) {
		t.Errorf("qcow2 of 1 PiB: %v", err)
	}
	// A large, all-zero disk is cheap: the scan trusts the zero extents.
	n, err := disk.WriteEncryptedVHD(ctx, io.Discard, hugeDisk{100 << 30}, make([]byte, 32))
	if err != nil || n > 1<<20 {
		t.Errorf("100 GiB of zeros: %d bytes, %v", n, err)
	}
}

// TestQCOW2BackingFile: an overlay made by `qemu-img convert -B` holds only
// what differs from its backing file; reading it gives the whole disk.
func TestQCOW2BackingFile(t *testing.T) {
	qi := qemuImg(t)
	dir := t.TempDir()
	base := pattern(3*miB+64*kiB, "dense", 11)
	top := bytes.Clone(base)
	copy(top[100*kiB:], pattern(200*kiB, "dense", 12)) // changed
	clear(top[2*miB : 2*miB+128*kiB])                  // zeroed over data
	writeFile(t, dir, "base.raw", base)
	topPath := writeFile(t, dir, "top.raw", top)
	for _, backingFmt := range []string{"raw", "qcow2"} {
		t.Run(backingFmt, func(t *testing.T) {
			backing := "base.raw"
			if backingFmt == "qcow2" {
				backing = "base.qcow2"
				run(t, qi, "convert", "-f", "raw", "-O", "qcow2", filepath.Join(dir, "base.raw"), filepath.Join(dir, backing))
			}
			ov := filepath.Join(dir, "overlay-"+backingFmt+".qcow2")
			// a relative backing name, resolved next to the overlay
			run(t, qi, "convert", "-f", "raw", "-O", "qcow2", "-B", backing, "-F", backingFmt, topPath, ov)
			d, err := disk.OpenFile(ov)
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			got := readAll(t, d)
			sameDisk(t, got, top)
			checkExtents(t, d, got)
			info, err := disk.Inspect(bytes.NewReader(readFile(t, ov)), int64(len(readFile(t, ov))))
			if err != nil || info.Parent != backing || info.Allocated >= int64(len(top)) {
				t.Errorf("Inspect: %+v, %v", info, err)
			}
			// Without the backing file: ErrNoParent.
			img := readFile(t, ov)
			if _, err := disk.Open(bytes.NewReader(img), int64(len(img))); !errors.Is(err, disk.ErrNoParent) {
				t.Errorf("Open without opener: %v", err)
			}
		})
	}
}

// TestQCOW2BackingLoop: an image that is its own backing file stops at the
// chain limit instead of recursing forever.
func TestQCOW2BackingLoop(t *testing.T) {
	img := convert(t, pattern(miB, "sparse", 1), disk.QCOW2)
	name := "self.qcow2"
	copy(img[4096:], name) // free space in the header cluster
	binary.BigEndian.PutUint64(img[8:], 4096)
	binary.BigEndian.PutUint32(img[16:], uint32(len(name)))
	p := writeFile(t, t.TempDir(), name, img)
	if _, err := disk.OpenFile(p); !errors.Is(err, disk.ErrNoParent) || !strings.Contains(err.Error(), "chain deeper") {
		t.Fatalf("self-backed image: %v", err)
	}
}
