package disk

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
	"unicode/utf16"
)

// makeChild builds a differencing VHD by hand (qemu-img cannot): block 0
// holds its own sectors 0..9 (bitmap bits set), the rest of block 0 and all
// of block 1 come from the parent named parentName with uuid parentUUID.
func makeChild(t *testing.T, size int64, own []byte, parentName string, parentUUID, uuid [16]byte) []byte {
	t.Helper()
	f := newVHDFooter(size, vhdTypeDiff, uuid, time.Now())
	h := vhdHeader{tableOffset: 1536, maxEntries: uint32((size + VHDBlockSize - 1) / VHDBlockSize), blockSize: VHDBlockSize}
	hb := h.marshal()
	copy(hb[40:56], parentUUID[:])
	for i, c := range utf16.Encode([]rune(parentName)) {
		binary.BigEndian.PutUint16(hb[64+2*i:], c)
	}
	loc := utf16.Encode([]rune(`.\` + parentName))
	e := hb[576:]
	binary.BigEndian.PutUint32(e, plW2ru)
	binary.BigEndian.PutUint32(e[4:], SectorSize)
	binary.BigEndian.PutUint32(e[8:], uint32(2*len(loc)))
	binary.BigEndian.PutUint64(e[16:], 2048)
	binary.BigEndian.PutUint32(hb[36:], 0)
	binary.BigEndian.PutUint32(hb[36:], vhdChecksum(hb, 36))

	img := make([]byte, 3072+VHDBlockSize+vhdFooterSize)
	fb := f.marshal()
	copy(img, fb)
	copy(img[512:], hb)
	for i := range h.maxEntries {
		binary.BigEndian.PutUint32(img[1536+4*i:], vhdUnused)
	}
	binary.BigEndian.PutUint32(img[1536:], 2560/SectorSize)
	for i, c := range loc {
		binary.LittleEndian.PutUint16(img[2048+2*i:], c)
	}
	img[2560] = 0xff // sectors 0..7
	img[2561] = 0xc0 // sectors 8, 9
	copy(img[3072:3072+10*SectorSize], own)
	copy(img[len(img)-vhdFooterSize:], fb)
	return img
}

func TestDifferencingVHD(t *testing.T) {
	const size = 4 << 20
	parentData := bytes.Repeat([]byte("parent!!"), size/8)
	var pv bytes.Buffer
	pd := &image{impl: rawImpl{r: bytes.NewReader(parentData), size: size}, size: size, format: Raw}
	if _, err := Convert(context.Background(), &pv, pd, VHDDynamic); err != nil {
		t.Fatal(err)
	}
	parent := pv.Bytes()
	pinfo, err := parseVHD(bytes.NewReader(parent), int64(len(parent)))
	if err != nil {
		t.Fatal(err)
	}
	own := bytes.Repeat([]byte("child..."), 10*SectorSize/8)
	child := makeChild(t, size, own, "parent.vhd", pinfo.footer.uuid, [16]byte{1})

	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "parent.vhd"), parent, 0o600)
	cp := filepath.Join(dir, "child.vhd")
	os.WriteFile(cp, child, 0o600)

	d, err := OpenFile(cp)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if d.Format() != VHDDifferencing {
		t.Errorf("Format = %v", d.Format())
	}
	want := bytes.Clone(parentData)
	copy(want, own)
	got := make([]byte, size)
	if _, err := d.ReadAt(got, 0); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("differencing disk content differs from child-over-parent")
	}
	exts, err := d.Extents(context.Background())
	if err != nil || len(exts) != 1 || exts[0].Zero {
		t.Errorf("Extents = %+v, %v", exts, err)
	}

	// Without a parent opener: ErrNoParent.
	if _, err := Open(bytes.NewReader(child), int64(len(child))); !errors.Is(err, ErrNoParent) {
		t.Errorf("Open without opener: %v", err)
	}
	// A parent with another uuid is refused.
	wrong := makeChild(t, size, own, "parent.vhd", [16]byte{9}, [16]byte{1})
	os.WriteFile(cp, wrong, 0o600)
	if _, err := OpenFile(cp); !errors.Is(err, ErrNoParent) {
		t.Errorf("wrong parent uuid: %v", err)
	}
	// An image that is its own parent ends at the chain limit.
	self := makeChild(t, size, own, "self.vhd", [16]byte{7}, [16]byte{7})
	sp := filepath.Join(dir, "self.vhd")
	os.WriteFile(sp, self, 0o600)
	if _, err := OpenFile(sp); !errors.Is(err, ErrNoParent) {
		t.Errorf("self-parent: %v", err)
	}
}
