package disk_test

import (
	"bytes"
	"context"
	"crypto/aes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/xts"

	"github.com/e2eimage/e2e/disk"
	"github.com/e2eimage/e2e/luks"
)

// onePassCase is a source the file (one-pass) and stream (two-pass)
// writers both get.
type onePassCase struct {
	name string
	src  func(t *testing.T) (disk.Disk, []byte) // content nil: islands only
}

func bytesCase(name string, b []byte) onePassCase {
	return onePassCase{name, func(t *testing.T) (disk.Disk, []byte) { return openBytes(t, b), b }}
}

func onePassCases() []onePassCase {
	mixed := make([]byte, 5*miB+3*512) // unaligned to clusters, data and zero clusters interleaved
	for i := int64(0); i < int64(len(mixed)); i += 192 * kiB {
		copy(mixed[i:min(i+64*kiB, int64(len(mixed)))], pattern(64*kiB, "dense", uint64(i)))
	}
	mixed[len(mixed)-1] = 9
	return []onePassCase{
		bytesCase("one-sector", pattern(512, "dense", 1)),
		bytesCase("one-cluster", pattern(64*kiB, "dense", 2)),
		bytesCase("all-zero", make([]byte, 3*miB)),
		bytesCase("all-data", pattern(4*miB+512, "dense", 3)),
		bytesCase("sparse-unaligned", pattern(7*miB+1000, "sparse", 4)),
		bytesCase("mixed", mixed),
		// 600 MiB needs two L2 tables (one maps 512 MiB); its extents
		// show only the islands, so nothing else is read.
		{"two-l2-extents", func(t *testing.T) (disk.Disk, []byte) {
			const size = 600 << 20
			return islandExtents{islandDisk{size: size, islands: map[int64][]byte{
				0: []byte("boot"), 512<<20 - 3: []byte("across L2 tables"), size - 5: []byte("last!"),
			}}}, nil
		}},
	}
}

// islandExtents reports each island of an islandDisk as a data extent.
type islandExtents struct{ islandDisk }

func (d islandExtents) Extents(context.Context) ([]disk.Extent, error) {
	offs := make([]int64, 0, len(d.islands))
	for o := range d.islands {
		offs = append(offs, o)
	}
	for i := range offs { // a few islands: insertion sort
		for j := i; j > 0 && offs[j] < offs[j-1]; j-- {
			offs[j], offs[j-1] = offs[j-1], offs[j]
		}
	}
	var out []disk.Extent
	pos := int64(0)
	for _, o := range offs {
		if o > pos {
			out = append(out, disk.Extent{Offset: pos, Length: o - pos, Zero: true})
		}
		out = append(out, disk.Extent{Offset: o, Length: int64(len(d.islands[o]))})
		pos = o + int64(len(d.islands[o]))
	}
	if pos < d.size {
		out = append(out, disk.Extent{Offset: pos, Length: d.size - pos, Zero: true})
	}
	return out, nil
}

// check reads back each island and the 64 KiB before and after it (zeros
// at the cluster boundaries) instead of the whole disk, which is slow to
// decrypt and compare under -race.
func (d islandExtents) check(t *testing.T, back disk.Disk) {
	t.Helper()
	if back.Size() != d.size {
		t.Fatalf("size %d, want %d", back.Size(), d.size)
	}
	for o, b := range d.islands {
		lo, hi := max(0, o-64*kiB), min(d.size, o+int64(len(b))+64*kiB)
		want := make([]byte, hi-lo)
		copy(want[o-lo:], b)
		got := make([]byte, hi-lo)
		if _, err := back.ReadAt(got, lo); err != nil && err != io.EOF {
			t.Fatal(err)
		}
		if i := firstDiff(got, want); i >= 0 {
			t.Fatalf("island at %d: differs at byte %d", o, lo+int64(i))
		}
	}
}

// onePassWriter is a writer with a one-pass (file) and a two-pass
// (stream) path, the way back, and how qemu-img opens its output.
type onePassWriter struct {
	name  string
	write func(ctx context.Context, dst io.Writer, src disk.Disk, opts ...disk.WriteOption) (int64, error)
	open  func(r io.ReaderAt, size int64) (disk.Disk, error)
	qemu  func(path, passFile string) (obj, opts []string, plain bool) // plain: qemu reads the guest's bytes
}

var vhdKey = bytes.Repeat([]byte{0x3c}, 64)

var onePassWriters = []onePassWriter{
	{"qcow2", func(ctx context.Context, dst io.Writer, src disk.Disk, opts ...disk.WriteOption) (int64, error) {
		return disk.Convert(ctx, dst, src, disk.QCOW2, opts...)
	}, func(r io.ReaderAt, size int64) (disk.Disk, error) { return disk.Open(r, size) },
		func(path, _ string) ([]string, []string, bool) {
			return nil, []string{"--image-opts", "driver=qcow2,file.filename=" + path}, true
		}},
	{"qcow2-luks", func(ctx context.Context, dst io.Writer, src disk.Disk, opts ...disk.WriteOption) (int64, error) {
		return disk.WriteQCOW2LUKS(ctx, dst, src, testPassphrase, append([]disk.WriteOption{fastLUKS}, opts...)...)
	}, func(r io.ReaderAt, size int64) (disk.Disk, error) { return disk.OpenQCOW2LUKS(r, size, testPassphrase) },
		func(path, passFile string) ([]string, []string, bool) {
			return []string{"--object", "secret,id=s0,file=" + passFile},
				[]string{"--image-opts", "driver=qcow2,encrypt.key-secret=s0,file.filename=" + path}, true
		}},
	{"vhd", func(ctx context.Context, dst io.Writer, src disk.Disk, opts ...disk.WriteOption) (int64, error) {
		return disk.Convert(ctx, dst, src, disk.VHDDynamic, opts...)
	}, func(r io.ReaderAt, size int64) (disk.Disk, error) { return disk.Open(r, size) },
		func(path, _ string) ([]string, []string, bool) { return nil, []string{"-f", "vpc", path}, true }},
	{"encrypted-vhd", func(ctx context.Context, dst io.Writer, src disk.Disk, opts ...disk.WriteOption) (int64, error) {
		return disk.WriteEncryptedVHD(ctx, dst, src, vhdKey, opts...)
	}, func(r io.ReaderAt, size int64) (disk.Disk, error) { return disk.OpenEncryptedVHD(r, size, vhdKey) },
		func(path, _ string) ([]string, []string, bool) { return nil, []string{"-f", "vpc", path}, false }},
}

// The one-pass writer (regular file) and the two-pass writer (stream) make
// images of the same size that read back as the source, through our reader
// and through qemu-img (qcow2 check clean; convert gives the input back).
func TestOnePassMatchesStream(t *testing.T) {
	dir := t.TempDir()
	passFile := writeFile(t, dir, "pass", testPassphrase)
	for _, c := range onePassCases() {
		for _, w := range onePassWriters {
			t.Run(c.name+"/"+w.name, func(t *testing.T) {
				src, want := c.src(t)
				check := func(d disk.Disk) { sameDisk(t, readAll(t, d), want) }
				if want == nil {
					check = func(d disk.Disk) { src.(islandExtents).check(t, d) }
				}
				open := func(img []byte) disk.Disk {
					t.Helper()
					d, err := w.open(bytes.NewReader(img), int64(len(img)))
					if err != nil {
						t.Fatal(err)
					}
					t.Cleanup(func() { d.Close() })
					return d
				}
				ctx := context.Background()
				var seq bytes.Buffer
				ns, err := w.write(ctx, &seq, src, disk.WithWorkers(3))
				if err != nil {
					t.Fatal(err)
				}
				p := filepath.Join(t.TempDir(), "out")
				f, err := os.Create(p)
				if err != nil {
					t.Fatal(err)
				}
				nf, err := w.write(ctx, f, src, disk.WithWorkers(3))
				if err != nil {
					t.Fatal(err)
				}
				if off, _ := f.Seek(0, io.SeekCurrent); off != nf {
					t.Errorf("file offset %d after writing %d bytes", off, nf)
				}
				f.Close()
				img := readFile(t, p)
				if nf != ns || int64(len(img)) != nf {
					t.Fatalf("file: %d bytes (returned %d), stream: %d", len(img), nf, ns)
				}
				check(open(seq.Bytes()))
				check(open(img))
				if w.name != "qcow2" && w.name != "vhd" && len(want) >= 4096 && !isZeroBytes(want[:4096]) && bytes.Contains(img, want[:4096]) {
					t.Error("plaintext in the encrypted image")
				}
				t.Run("qemu-img", func(t *testing.T) {
					qi := qemuImg(t)
					obj, opts, plain := w.qemu(p, passFile)
					if strings.HasPrefix(w.name, "qcow2") {
						run(t, qi, append(append([]string{"check"}, obj...), opts...)...)
					} else {
						run(t, qi, append([]string{"info"}, opts...)...) // qemu-img 7.2 cannot check vpc
					}
					if want == nil || !plain {
						return // converting 600 MiB back is slow; check covers the tables
					}
					raw := filepath.Join(t.TempDir(), "back.raw")
					run(t, qi, append(append(append([]string{"convert"}, obj...), opts...), "-O", "raw", raw)...)
					sameDisk(t, readFile(t, raw), want)
				})
			})
		}
	}
}

// The one-pass output decrypts with x/crypto/xts, walking the qcow2 tables
// by hand: data cluster at host offset h is aes-xts-plain64 with tweak h/512.
func TestOnePassIndependentXTS(t *testing.T) {
	src := pattern(3*miB+512, "sparse", 11)
	copy(src[miB:], pattern(miB, "dense", 12))
	p := filepath.Join(t.TempDir(), "x.qcow2")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := disk.WriteQCOW2LUKS(context.Background(), f, openBytes(t, src), testPassphrase, fastLUKS, disk.WithWorkers(2)); err != nil {
		t.Fatal(err)
	}
	f.Close()
	img := readFile(t, p)
	be := binary.BigEndian
	if string(img[:4]) != "QFI\xfb" || be.Uint32(img[32:]) != 2 {
		t.Fatal("not a LUKS qcow2")
	}
	ext := img[104:]
	if be.Uint32(ext) != 0x0537be77 {
		t.Fatalf("first extension %#x, want the encryption one", be.Uint32(ext))
	}
	luksOff, luksLen := be.Uint64(ext[8:]), be.Uint64(ext[16:])
	vk, _, err := luks.UnlockHeader(bytes.NewReader(img[luksOff:luksOff+luksLen]), testPassphrase)
	if err != nil {
		t.Fatal(err)
	}
	c, err := xts.NewCipher(aes.NewCipher, vk)
	if err != nil {
		t.Fatal(err)
	}
	l1Off, vsize := be.Uint64(img[40:]), int64(be.Uint64(img[24:]))
	got := make([]byte, (vsize+64*kiB-1)/(64*kiB)*(64*kiB)) // whole clusters
	for g := int64(0); g*64*kiB < vsize; g++ {
		l2 := be.Uint64(img[l1Off+uint64(g/8192)*8:]) & 0x00fffffffffffe00
		if l2 == 0 {
			continue
		}
		h := int64(be.Uint64(img[l2+uint64(g%8192)*8:]) & 0x00fffffffffffe00)
		if h == 0 {
			continue
		}
		if h < int64(luksOff+luksLen) {
			t.Fatalf("cluster %d at %d, inside the headers", g, h)
		}
		for s := int64(0); s < 128; s++ {
			o := g*64*kiB + s*512
			c.Decrypt(got[o:o+512], img[h+s*512:h+s*512+512], uint64((h+s*512)/512))
		}
	}
	sameDisk(t, got, src)
}

// failingDisk fails every read at or past off.
type failingDisk struct {
	disk.Disk
	off int64
	err error
}

func (d failingDisk) ReadAt(p []byte, off int64) (int, error) {
	if off+int64(len(p)) > d.off {
		return 0, d.err
	}
	return d.Disk.ReadAt(p, off)
}

// settle waits for goroutines started by a test to be gone.
func settle(t *testing.T, before int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines left, %d before:\n%s", runtime.NumGoroutine(), before, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// A read error or a cancel midway stops the one-pass writer with that
// error, leaves no goroutine (the KDF's included) and no valid header.
func TestOnePassFailures(t *testing.T) {
	src := pattern(16*miB, "dense", 21)
	errDisk := errors.New("source went away")
	for _, w := range onePassWriters {
		for _, how := range []string{"read-error", "cancel", "read-error-over-old-image"} {
			t.Run(w.name+"/"+how, func(t *testing.T) {
				before := runtime.NumGoroutine()
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				var d disk.Disk = openBytes(t, src)
				opts := []disk.WriteOption{disk.WithWorkers(3)}
				if how != "cancel" {
					d = failingDisk{d, 9 * miB, errDisk}
				} else {
					opts = append(opts, disk.WithProgress(func(p disk.Progress) {
						if p.Done >= 4*miB {
							cancel()
						}
					}))
				}
				if w.name == "qcow2-luks" {
					// A slow slot KDF is still running when the data pass fails.
					opts = append(opts, disk.WithLUKSOptions(luks.WithIterTime(300*time.Millisecond)))
				}
				p := filepath.Join(t.TempDir(), "out")
				f, err := os.Create(p)
				if err != nil {
					t.Fatal(err)
				}
				defer f.Close()
				if how == "read-error-over-old-image" {
					// A complete image of the same kind, which the caller
					// does not truncate before writing again.
					if _, err := w.write(context.Background(), f, openBytes(t, src)); err != nil {
						t.Fatal(err)
					}
					if _, err := f.Seek(0, io.SeekStart); err != nil {
						t.Fatal(err)
					}
				}
				_, err = w.write(ctx, f, d, opts...)
				want := errDisk
				if how == "cancel" {
					want = context.Canceled
				}
				if !errors.Is(err, want) {
					t.Fatalf("got %v, want %v", err, want)
				}
				settle(t, before)
				img := readFile(t, p)
				if len(img) >= 8 && (string(img[:4]) == "QFI\xfb" || string(img[:8]) == "conectix") {
					t.Error("a failed write left a header")
				}
			})
		}
	}
}

// The one-pass writer reports StageWrite only, in order, up to the
// virtual size.
func TestOnePassProgress(t *testing.T) {
	src := pattern(5*miB+512, "sparse", 31)
	f, err := os.Create(filepath.Join(t.TempDir(), "out"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var last disk.Progress
	_, err = disk.WriteQCOW2LUKS(context.Background(), f, openBytes(t, src), testPassphrase, fastLUKS,
		disk.WithProgress(func(p disk.Progress) {
			if p.Stage != disk.StageWrite || p.Done < last.Done || p.Total != int64(len(src)) {
				t.Errorf("progress %+v after %+v", p, last)
			}
			last = p
		}))
	if err != nil {
		t.Fatal(err)
	}
	if last.Done != last.Total {
		t.Errorf("last progress %+v", last)
	}
}

// An image whose LUKS slot was made with a real iteration time (calibrated
// before the data pass, derived during it) opens, and the caller may wipe
// the passphrase as soon as the writer returns.
func TestOnePassCalibratedSlot(t *testing.T) {
	src := pattern(2*miB, "dense", 41)
	pass := []byte("wiped after the call")
	p := filepath.Join(t.TempDir(), "out")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	n, err := disk.WriteQCOW2LUKS(context.Background(), f, openBytes(t, src), pass,
		disk.WithLUKSOptions(luks.WithIterTime(20*time.Millisecond)))
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	clear(pass)
	img := readFile(t, p)
	if int64(len(img)) != n {
		t.Fatalf("%d bytes, returned %d", len(img), n)
	}
	d, err := disk.OpenQCOW2LUKS(bytes.NewReader(img), n, []byte("wiped after the call"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	sameDisk(t, readAll(t, d), src)
	// The slot was calibrated (20 ms buys far more than the minimum of
	// 1000 iterations on any machine that runs this test).
	luksOff, luksLen := binary.BigEndian.Uint64(img[104+8:]), binary.BigEndian.Uint64(img[104+16:])
	h, err := luks.ReadHeader(bytes.NewReader(img[luksOff : luksOff+luksLen]))
	if err != nil {
		t.Fatal(err)
	}
	if it := h.KeySlots[0].Iterations; it <= 1000 {
		t.Errorf("key slot has %d PBKDF2 iterations: not calibrated", it)
	}
}

// Into a file holding old bytes, every byte of the image is written (the
// LUKS header's padding and the VHD gaps too): it reads back as the source
// and the old bytes past it stay.
func TestOnePassOverOldBytes(t *testing.T) {
	src := pattern(5*miB+512, "sparse", 51)
	copy(src[2*miB:], pattern(2*miB, "dense", 52))
	old := bytes.Repeat([]byte{0xee}, 16*miB)
	for _, w := range onePassWriters {
		t.Run(w.name, func(t *testing.T) {
			name := filepath.Join(t.TempDir(), "old")
			if err := os.WriteFile(name, old, 0o600); err != nil {
				t.Fatal(err)
			}
			f, err := os.OpenFile(name, os.O_RDWR, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			n, err := w.write(context.Background(), f, openBytes(t, src))
			if err != nil {
				t.Fatal(err)
			}
			img := readFile(t, name)
			if len(img) != len(old) || !bytes.Equal(img[n:], old[n:]) {
				t.Fatalf("file of %d bytes after a %d-byte image; old tail changed", len(img), n)
			}
			if bytes.Contains(img[:n], old[:512]) {
				t.Error("old bytes left inside the image")
			}
			d, err := w.open(bytes.NewReader(img[:n]), n)
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			sameDisk(t, readAll(t, d), src)
		})
	}
}

// The one-pass encrypted VHD decrypts with x/crypto/xts and the "plain"
// tweak (guest sector), walking BAT and batmap by hand.
func TestOnePassVHDIndependentXTS(t *testing.T) {
	src := pattern(7*miB+512, "sparse", 61)
	copy(src[2*miB:], pattern(2*miB, "dense", 62))
	p := filepath.Join(t.TempDir(), "x.vhd")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := disk.WriteEncryptedVHD(context.Background(), f, openBytes(t, src), vhdKey, disk.WithWorkers(3)); err != nil {
		t.Fatal(err)
	}
	f.Close()
	img := readFile(t, p)
	v := parseOurVHD(t, img)
	if h := disk.KeyHash(vhdKey); v.keyCookie != 1 || !bytes.Equal(v.keyHash, h[:]) {
		t.Fatal("key hash missing")
	}
	c, err := xts.NewCipher(aes.NewCipher, vhdKey)
	if err != nil {
		t.Fatal(err)
	}
	got := make([]byte, v.size)
	prev := int64(-1)
	for b, e := range v.bat {
		set := v.batmap[b/8]&(0x80>>(b%8)) != 0
		if e == 0xFFFFFFFF {
			if set {
				t.Errorf("block %d absent but batmap bit set", b)
			}
			continue
		}
		bm := int64(e) * 512
		if !set || !isAllOnes(img[bm:bm+512]) || (bm+512)%4096 != 0 || bm <= prev {
			t.Fatalf("block %d at sector %d: batmap %v, bitmap, alignment or guest order wrong", b, e, set)
		}
		prev = bm
		for s := int64(0); s < 4096; s++ {
			lba := int64(b)*4096 + s
			c.Decrypt(got[lba*512:lba*512+512], img[bm+512+s*512:bm+1024+s*512], uint64(uint32(lba)))
		}
	}
	sameDisk(t, got, src)
}

// A cancel after the data pass, while the key slot's KDF still runs,
// returns context.Canceled once the KDF is done, and writes no header.
func TestOnePassCancelDuringKDF(t *testing.T) {
	src := pattern(2*miB, "dense", 71)
	before := runtime.NumGoroutine()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	p := filepath.Join(t.TempDir(), "out")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	_, err = disk.WriteQCOW2LUKS(ctx, f, openBytes(t, src), testPassphrase,
		disk.WithLUKSOptions(luks.WithIterTime(300*time.Millisecond)),
		disk.WithProgress(func(p disk.Progress) {
			if p.Done == p.Total {
				// The data pass is over; the tables follow at once, and
				// the KDF takes ~300 ms more.
				time.AfterFunc(100*time.Millisecond, cancel)
			}
		}))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
	settle(t, before)
	if img := readFile(t, p); len(img) >= 4 && string(img[:4]) == "QFI\xfb" {
		t.Error("a cancelled write left a qcow2 header")
	}
}
