package disk_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/e2eimage/e2e/disk"
	"github.com/e2eimage/e2e/luks"
)

func TestInspect(t *testing.T) {
	src := pattern(5*miB+512, "sparse", 6)
	key := ibmKey(t)
	type want struct {
		format    disk.Format
		virt      int64
		block     int64
		allocated int64
	}
	cases := map[string]struct {
		img []byte
		w   want
	}{
		"encrypted vhd": {encryptVHD(t, src, key), want{disk.EncryptedVHD, 6 * miB, 2 * miB, 6 * miB}},
		"qcow2 luks":    {encryptQCOW2(t, src), want{disk.QCOW2LUKS, 5*miB + 512, 64 * kiB, 5*64*kiB + 512}},
		"qcow2":         {convert(t, src, disk.QCOW2), want{disk.QCOW2, 5*miB + 512, 64 * kiB, 5*64*kiB + 512}},
		"vhd fixed":     {convert(t, src, disk.VHDFixed), want{disk.VHDFixed, 5*miB + 512, 0, 5*miB + 512}},
		"raw":           {src, want{disk.Raw, 5*miB + 512, 0, 5*miB + 512}},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			info, err := disk.Inspect(bytes.NewReader(c.img), int64(len(c.img)))
			if err != nil {
				t.Fatal(err)
			}
			got := want{info.Format, info.VirtualSize, info.BlockSize, info.Allocated}
			// the sparse pattern touches 3 blocks and 6 clusters, the last
			// one 512 bytes long (allocation counts virtual bytes)
			if got != c.w {
				t.Errorf("Inspect = %+v, want %+v", got, c.w)
			}
			if info.FileSize != int64(len(c.img)) {
				t.Errorf("FileSize = %d", info.FileSize)
			}
			switch info.Format {
			case disk.EncryptedVHD:
				if info.KeyHash != disk.KeyHash(key) {
					t.Error("KeyHash differs from disk.KeyHash(key)")
				}
			case disk.QCOW2LUKS:
				if info.LUKS == nil || info.LUKS.CipherSpec() != "aes-xts-plain64" || info.LUKS.Version != 1 || info.LUKSOffset%(64*kiB) != 0 {
					t.Errorf("LUKS header %+v at %d", info.LUKS, info.LUKSOffset)
				}
			}
		})
	}
}

func TestOpenWithSecrets(t *testing.T) {
	src := pattern(3*miB, "dense", 8)
	key := ibmKey(t)
	vhd := encryptVHD(t, src, key)
	q := encryptQCOW2(t, src)
	d, err := disk.Open(bytes.NewReader(vhd), int64(len(vhd)), disk.WithKey(key))
	if err != nil || d.Format() != disk.EncryptedVHD {
		t.Fatalf("Open(WithKey): %v", err)
	}
	sameDisk(t, readAll(t, d), src)
	d.Close()
	dir := t.TempDir()
	p := writeFile(t, dir, "q.qcow2", q)
	d, err = disk.OpenFile(p, disk.WithPassphrase(testPassphrase))
	if err != nil || d.Format() != disk.QCOW2LUKS {
		t.Fatalf("OpenFile(WithPassphrase): %v", err)
	}
	sameDisk(t, readAll(t, d), src)
	d.Close()
	if _, err := d.ReadAt(make([]byte, 1), 0); !errors.Is(err, disk.ErrClosed) {
		t.Errorf("read after Close: %v", err)
	}
	if _, err := disk.OpenFile(p, disk.WithPassphrase([]byte("nope"))); !errors.Is(err, luks.ErrWrongPassphrase) {
		t.Errorf("wrong passphrase: %v", err)
	}
	if _, err := disk.Open(bytes.NewReader(vhd), int64(len(vhd)), disk.WithKey(make([]byte, 64))); !errors.Is(err, disk.ErrWrongKey) {
		t.Errorf("wrong key: %v", err)
	}
}

// TestSparseRawFile: OpenFile learns a raw file's holes from the file
// system, and the writers skip them without reading.
func TestSparseRawFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "sparse.raw")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	data := pattern(64*kiB, "dense", 1)
	f.WriteAt(data, 3*miB)
	f.Truncate(16 * miB)
	f.Close()
	d, err := disk.OpenFile(p)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	content := readAll(t, d)
	checkExtents(t, d, content)
	exts, _ := d.Extents(context.Background())
	var zero int64
	for _, e := range exts {
		if e.Zero {
			zero += e.Length
		}
	}
	if zero == 0 {
		t.Logf("file system reports no holes (extents %v)", exts)
	} else if zero < 8*miB {
		t.Errorf("only %d zero bytes reported in a 16 MiB file with 64 KiB of data", zero)
	}
	var out bytes.Buffer
	if _, err := disk.Convert(context.Background(), &out, d, disk.QCOW2); err != nil {
		t.Fatal(err)
	}
	back := openBytes(t, out.Bytes())
	sameDisk(t, readAll(t, back), content)
}
