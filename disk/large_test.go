package disk_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/e2eimage/e2e/disk"
)

// islandDisk is a large virtual disk of zeros with a few small islands of
// data, which its Extents reports exactly, so writers never read the rest.
type islandDisk struct {
	size    int64
	islands map[int64][]byte // offset -> data
}

func (d islandDisk) ReadAt(p []byte, off int64) (int, error) {
	clear(p)
	for o, b := range d.islands {
		if o < off+int64(len(p)) && o+int64(len(b)) > off {
			s := max(o, off)
			copy(p[s-off:], b[s-o:])
		}
	}
	return len(p), nil
}
func (d islandDisk) Size() int64         { return d.size }
func (d islandDisk) Format() disk.Format { return disk.Raw }
func (d islandDisk) Close() error        { return nil }
func (d islandDisk) Extents(context.Context) ([]disk.Extent, error) {
	return []disk.Extent{{Offset: 0, Length: d.size}}, nil
}

// TestLargeSparseQemu: a 5 GiB sparse disk gives several L1 entries and L2
// tables; qemu-img finds no error and the islands come back.
func TestLargeSparseQemu(t *testing.T) {
	qi := qemuImg(t)
	const size = 5<<30 + 512
	src := islandDisk{size: size, islands: map[int64][]byte{
		0:          []byte("boot sector"),
		1<<30 + 77: []byte("one GiB in"),
		size - 10:  []byte("last bytes"),
	}}
	// Its extents show only the islands, so the scan reads a few bytes.
	src2 := sparseIslands{src}
	dir := t.TempDir()
	pass := writeFile(t, dir, "pass", testPassphrase)
	for _, c := range []struct {
		name  string
		write func(f *os.File) error
		open  string
	}{
		{"qcow2", func(f *os.File) error { _, err := disk.Convert(context.Background(), f, src2, disk.QCOW2); return err }, "driver=qcow2,file.filename="},
		{"qcow2-luks", func(f *os.File) error {
			_, err := disk.WriteQCOW2LUKS(context.Background(), f, src2, testPassphrase, fastLUKS)
			return err
		}, "driver=qcow2,encrypt.key-secret=s0,file.filename="},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := filepath.Join(dir, c.name)
			f, err := os.Create(p)
			if err != nil {
				t.Fatal(err)
			}
			if err := c.write(f); err != nil {
				t.Fatal(err)
			}
			f.Close()
			out := run(t, qi, "check", "--object", "secret,id=s0,file="+pass, "--image-opts", c.open+p)
			if !strings.Contains(out, "No errors were found") {
				t.Errorf("qemu-img check: %s", out)
			}
			d, err := disk.OpenFile(p, disk.WithPassphrase(testPassphrase))
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			for off, want := range src.islands {
				got := make([]byte, len(want))
				if _, err := d.ReadAt(got, off); err != nil || string(got) != string(want) {
					t.Errorf("island at %d: %q, %v", off, got, err)
				}
			}
			exts, _ := d.Extents(context.Background())
			var data int64
			for _, e := range exts {
				if !e.Zero {
					data += e.Length
				}
			}
			if data != 2*64<<10+512 { // two clusters and the 512-byte last one
				t.Errorf("%d bytes allocated, want 2 clusters + 512", data)
			}
			if st, _ := os.Stat(p); st.Size() > 4<<20 {
				t.Errorf("file is %d bytes", st.Size())
			}
		})
	}
	t.Run("vhd", func(t *testing.T) {
		p := filepath.Join(dir, "enc.vhd")
		f, _ := os.Create(p)
		if _, err := disk.WriteEncryptedVHD(context.Background(), f, src2, make([]byte, 64)); err != nil {
			t.Fatal(err)
		}
		f.Close()
		info := run(t, qi, "info", "-f", "vpc", "--output=json", p)
		if !strings.Contains(info, fmt.Sprintf(`"virtual-size": %d`, int64(5<<30+2<<20))) {
			t.Errorf("qemu-img info: %s", info)
		}
	})
}

// sparseIslands reports only the islands as data, like a qcow2 source would.
type sparseIslands struct{ islandDisk }

func (d sparseIslands) Extents(context.Context) ([]disk.Extent, error) {
	var out []disk.Extent
	pos := int64(0)
	for _, o := range []int64{0, 1<<30 + 77, d.size - 10} {
		b := d.islands[o]
		if o > pos {
			out = append(out, disk.Extent{Offset: pos, Length: o - pos, Zero: true})
		}
		out = append(out, disk.Extent{Offset: o, Length: int64(len(b))})
		pos = o + int64(len(b))
	}
	return out, nil
}
