package luks_test

import (
	"bytes"
	"encoding/binary"
	"io"
	"testing"

	"github.com/e2eimage/e2e/luks"
)

// fuzzImages are small real images: LUKS1 (QEMU layout, 256-bit key) and
// LUKS2 (256-bit key), with a little payload.
func fuzzImages(f *testing.F) (v1, v2 []byte) {
	pass := []byte("fuzz")
	v1 = encrypt(f, pass, bytes.Repeat([]byte("data"), 256), opts(luks.WithKeySize(256), luks.WithLayout(luks.LayoutQEMU))...)
	v2 = encrypt(f, pass, bytes.Repeat([]byte("data"), 256), append(fastArgon, luks.WithKeySize(256), luks.WithSectorSize(4096))...)
	return v1, v2
}

// FuzzReadHeader feeds mutated header areas (both LUKS2 copies included)
// to ReadHeader; it must never panic, and whatever it accepts must
// describe itself.
func FuzzReadHeader(f *testing.F) {
	v1, v2 := fuzzImages(f)
	f.Add(v1[:4096])
	f.Add(v2[:32768])
	f.Add(v2[16384:32768]) // a lone secondary copy
	for _, name := range []string{"cryptsetup-luks1.hdr", "cryptsetup-luks2-argon2id.head", "qemu-luks1-aes128.head"} {
		b := readTestdata(f, name)
		f.Add(b[:min(len(b), 32768)])
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := luks.ReadHeader(bytes.NewReader(b))
		if err != nil {
			return
		}
		if h.Version != 1 && h.Version != 2 {
			t.Fatalf("accepted version %d", h.Version)
		}
		_ = h.String()
	})
}

// FuzzOpen mutates the start of real images and opens them. LUKS2 inputs
// get their primary checksum repaired, so the fuzzer reaches the JSON
// checks instead of stopping at the checksum.
func FuzzOpen(f *testing.F) {
	v1, v2 := fuzzImages(f)
	f.Add(v1[:1024])
	f.Add(v2[:16384])
	f.Fuzz(func(t *testing.T, prefix []byte) {
		var img []byte
		switch {
		case len(prefix) >= 16384 && bytes.HasPrefix(prefix, []byte("LUKS\xba\xbe\x00\x02")):
			img = bytes.Clone(v2)
			copy(img, prefix[:16384])
			binary.BigEndian.PutUint64(img[8:], 16384) // keep the size sane
			binary.BigEndian.PutUint64(img[256:], 0)
			resum(img, 0)
			img[16384] = 0 // drop the secondary so the fuzzed copy is used
		default:
			img = bytes.Clone(v1)
			copy(img, prefix[:min(len(prefix), 4096)])
		}
		h, err := luks.ReadHeader(bytes.NewReader(img))
		if err != nil {
			return
		}
		for _, k := range h.KeySlots {
			if k.Iterations > 20000 || k.MemoryKiB > 1<<16 {
				return // slow by design, not a bug
			}
		}
		if h.DigestIterations > 20000 {
			return
		}
		v, err := luks.Open(bytes.NewReader(img), []byte("fuzz"))
		if err != nil {
			return
		}
		defer v.Close()
		if v.Size() < 0 || v.Size()%int64(h.SectorSize) != 0 {
			t.Fatalf("size %d", v.Size())
		}
		if _, err := io.Copy(io.Discard, io.NewSectionReader(v, 0, v.Size())); err != nil {
			t.Fatal(err)
		}
	})
}
