package disk_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/e2eimage/e2e/disk"
)

// Seeds in testdata/ are qemu-img 7.2 outputs of src.raw (192 KiB, three
// islands of data), gzipped: vpc dynamic and fixed; qcow2 v3 and v2 with
// 512-byte clusters; qcow2 compressed with 4 KiB clusters.
var seedFiles = map[string]disk.Format{
	"dynamic.vhd":      disk.VHDDynamic,
	"fixed.vhd":        disk.VHDFixed,
	"v3.qcow2":         disk.QCOW2,
	"v2.qcow2":         disk.QCOW2,
	"compressed.qcow2": disk.QCOW2,
}

func testdata(t testing.TB, name string) []byte {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name+".gz"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestTestdataImages reads the committed qemu-img images without qemu-img.
func TestTestdataImages(t *testing.T) {
	src := testdata(t, "src.raw")
	for name, f := range seedFiles {
		t.Run(name, func(t *testing.T) {
			d := openBytes(t, testdata(t, name))
			if d.Format() != f {
				t.Errorf("Format = %v, want %v", d.Format(), f)
			}
			got := readAll(t, d)
			sameDisk(t, got, src)
			checkExtents(t, d, got)
		})
	}
}

func addSeeds(f *testing.F, names ...string) {
	for _, n := range names {
		f.Add(testdata(f, n))
	}
}

// exercise reads a little of whatever opened; it must never panic.
func exercise(d disk.Disk) {
	defer d.Close()
	if _, err := d.Extents(context.Background()); err != nil {
		return
	}
	buf := make([]byte, 64<<10)
	for _, off := range []int64{0, d.Size() / 2, d.Size() - 4096, d.Size() - 1} {
		if off >= 0 {
			d.ReadAt(buf, off)
		}
	}
}

func checkOpenError(t *testing.T, err error) {
	if err == nil {
		return
	}
	if !errors.Is(err, disk.ErrCorrupt) && !errors.Is(err, disk.ErrUnsupported) && !errors.Is(err, disk.ErrEncrypted) && !errors.Is(err, disk.ErrNoParent) {
		t.Fatalf("unclassified error: %v", err)
	}
}

func FuzzOpenVHD(f *testing.F) {
	addSeeds(f, "dynamic.vhd", "fixed.vhd")
	var enc bytes.Buffer
	disk.WriteEncryptedVHD(context.Background(), &enc, openRawBytes(make([]byte, 4096)), make([]byte, 32))
	f.Add(enc.Bytes())
	key := make([]byte, 32)
	f.Fuzz(func(t *testing.T, img []byte) {
		d, err := disk.Open(bytes.NewReader(img), int64(len(img)))
		checkOpenError(t, err)
		if err == nil {
			exercise(d)
		}
		if d, err := disk.OpenEncryptedVHD(bytes.NewReader(img), int64(len(img)), key); err == nil {
			exercise(d)
		}
	})
}

func FuzzOpenQCOW2(f *testing.F) {
	addSeeds(f, "v3.qcow2", "v2.qcow2", "compressed.qcow2")
	f.Fuzz(func(t *testing.T, img []byte) {
		d, err := disk.Open(bytes.NewReader(img), int64(len(img)))
		checkOpenError(t, err)
		if err == nil {
			exercise(d)
		}
	})
}

func openRawBytes(b []byte) disk.Disk {
	d, err := disk.Open(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		panic(err)
	}
	return d
}

// vhdFix recomputes the checksum of the 512-byte footer (or 1024-byte
// header, field at 36) in place.
func vhdFix(b []byte, at int) {
	binary.BigEndian.PutUint32(b[at:], 0)
	var s uint32
	for _, c := range b {
		s += uint32(c)
	}
	binary.BigEndian.PutUint32(b[at:], ^s)
}

// TestHostileHeaders: each damage gives a classified error, at Open or at
// the first read, never a panic or a silent wrong answer.
func TestHostileHeaders(t *testing.T) {
	be := binary.BigEndian
	type tc struct {
		name string
		seed string
		edit func(b []byte) []byte
		want error
	}
	foot := func(b []byte) []byte { return b[len(b)-512:] }
	cases := []tc{
		{"vhd footer checksum", "fixed.vhd", func(b []byte) []byte { foot(b)[100] ^= 1; return b }, disk.ErrCorrupt},
		{"vhd absurd size", "fixed.vhd", func(b []byte) []byte { be.PutUint64(foot(b)[48:], 1<<62); vhdFix(foot(b), 64); return b }, disk.ErrCorrupt},
		{"vhd fixed size past file", "fixed.vhd", func(b []byte) []byte { be.PutUint64(foot(b)[48:], 1<<30); vhdFix(foot(b), 64); return b }, disk.ErrCorrupt},
		{"vhd unknown type", "fixed.vhd", func(b []byte) []byte { be.PutUint32(foot(b)[60:], 9); vhdFix(foot(b), 64); return b }, disk.ErrCorrupt},
		{"vhd header checksum", "dynamic.vhd", func(b []byte) []byte { b[512+40] ^= 1; return b }, disk.ErrCorrupt},
		{"vhd header offset past EOF", "dynamic.vhd", func(b []byte) []byte {
			for _, f := range [][]byte{b[:512], foot(b)} {
				be.PutUint64(f[16:], 1<<40)
				vhdFix(f, 64)
			}
			return b
		}, disk.ErrCorrupt},
		{"vhd block size 0", "dynamic.vhd", func(b []byte) []byte { be.PutUint32(b[512+32:], 0); vhdFix(b[512:1536], 36); return b }, disk.ErrCorrupt},
		{"vhd BAT too small", "dynamic.vhd", func(b []byte) []byte { be.PutUint32(b[512+28:], 0); vhdFix(b[512:1536], 36); return b }, disk.ErrCorrupt},
		{"vhd BAT entry past EOF", "dynamic.vhd", func(b []byte) []byte {
			off := be.Uint64(b[512+16:])
			be.PutUint32(b[off:], 0x7fffffff)
			return b
		}, disk.ErrCorrupt},
		{"vhd truncated data", "dynamic.vhd", func(b []byte) []byte { return b[:len(b)/2] }, disk.ErrCorrupt},
		{"qcow2 cluster bits", "v3.qcow2", func(b []byte) []byte { be.PutUint32(b[20:], 40); return b }, disk.ErrCorrupt},
		{"qcow2 absurd size", "v3.qcow2", func(b []byte) []byte { be.PutUint64(b[24:], 1<<62); return b }, disk.ErrCorrupt},
		{"qcow2 huge l1", "v3.qcow2", func(b []byte) []byte { be.PutUint64(b[24:], 1<<45); be.PutUint32(b[36:], 1<<30); return b }, disk.ErrCorrupt},
		{"qcow2 l1 past EOF", "v3.qcow2", func(b []byte) []byte { be.PutUint64(b[40:], 1<<40); return b }, disk.ErrCorrupt},
		{"qcow2 L2 past EOF", "v3.qcow2", func(b []byte) []byte {
			l1 := be.Uint64(b[40:])
			be.PutUint64(b[l1:], 1<<63|1<<40)
			return b
		}, disk.ErrCorrupt},
		{"qcow2 data cluster past EOF", "v3.qcow2", func(b []byte) []byte {
			l2 := be.Uint64(b[be.Uint64(b[40:]):]) & 0x00fffffffffffe00
			be.PutUint64(b[l2:], 1<<63|1<<40)
			return b
		}, disk.ErrCorrupt},
		{"qcow2 garbage compressed cluster", "compressed.qcow2", func(b []byte) []byte {
			l2 := be.Uint64(b[be.Uint64(b[40:]):]) & 0x00fffffffffffe00
			e := be.Uint64(b[l2:])
			host := e & (1<<(62-(12-8)) - 1)
			for i := host; i < host+64 && i < uint64(len(b)); i++ {
				b[i] = 0xff
			}
			return b
		}, disk.ErrCorrupt},
		{"qcow2 marked corrupt", "v3.qcow2", func(b []byte) []byte { b[79] |= 2; return b }, disk.ErrCorrupt},
		{"qcow2 unknown incompatible feature", "v3.qcow2", func(b []byte) []byte { b[72] |= 0x80; return b }, disk.ErrUnsupported},
		{"qcow2 legacy AES", "v3.qcow2", func(b []byte) []byte { be.PutUint32(b[32:], 1); return b }, disk.ErrUnsupported},
		{"qcow2 backing file without opener", "v3.qcow2", func(b []byte) []byte { be.PutUint64(b[8:], 512); be.PutUint32(b[16:], 4); return b }, disk.ErrNoParent},
		{"qcow2 backing name too long", "v3.qcow2", func(b []byte) []byte { be.PutUint64(b[8:], 512); be.PutUint32(b[16:], 5000); return b }, disk.ErrCorrupt},
		{"qcow2 backing name past EOF", "v3.qcow2", func(b []byte) []byte { be.PutUint64(b[8:], 1<<40); be.PutUint32(b[16:], 4); return b }, disk.ErrCorrupt},
		{"qcow2 version 4", "v3.qcow2", func(b []byte) []byte { be.PutUint32(b[4:], 4); return b }, disk.ErrUnsupported},
		{"qcow2 extension loop length", "v3.qcow2", func(b []byte) []byte {
			hl := be.Uint32(b[100:])
			be.PutUint32(b[hl:], 0x12345678)
			be.PutUint32(b[hl+4:], 0xfffffff0)
			return b
		}, disk.ErrCorrupt},
		{"qcow2 truncated header", "v3.qcow2", func(b []byte) []byte { return b[:80] }, disk.ErrCorrupt},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			img := c.edit(bytes.Clone(testdata(t, c.seed)))
			d, err := disk.Open(bytes.NewReader(img), int64(len(img)))
			if err == nil {
				_, err = d.ReadAt(make([]byte, d.Size()), 0)
				d.Close()
			}
			if !errors.Is(err, c.want) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
		})
	}
}

// TestTruncations: every prefix of a real image opens with a clean error
// or reads without panicking.
func TestTruncations(t *testing.T) {
	for name := range seedFiles {
		img := testdata(t, name)
		for n := 0; n < len(img); n += max(1, len(img)/97) {
			d, err := disk.Open(bytes.NewReader(img[:n]), int64(n))
			checkOpenError(t, err)
			if err == nil {
				exercise(d)
			}
		}
	}
}
