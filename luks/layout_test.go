package luks_test

import (
	"bytes"
	"encoding/binary"
	"os"
	"regexp"
	"testing"

	"github.com/e2eimage/e2e/luks"
)

var b64Value = regexp.MustCompile(`"(salt|digest)":"[A-Za-z0-9+/=]+"`)

// TestLUKS2MatchesCryptsetup compares our LUKS2 metadata with what
// cryptsetup 2.6 writes for the same parameters, byte for byte once the
// random salts and digests are masked.
func TestLUKS2MatchesCryptsetup(t *testing.T) {
	pass := []byte("same parameters")
	key := writeFile(t, "key", pass)
	for _, sector := range []string{"512", "4096"} {
		t.Run(sector, func(t *testing.T) {
			img := writeFile(t, "img", nil)
			if err := os.Truncate(img, 17<<20); err != nil {
				t.Fatal(err)
			}
			run(t, "cryptsetup", "luksFormat", "-q", "--type", "luks2", "--key-file", key, "--pbkdf", "pbkdf2",
				"--pbkdf-force-iterations", "1000", "--sector-size", sector, "--label", "same", img)
			theirs, err := os.ReadFile(img)
			if err != nil {
				t.Fatal(err)
			}
			ss := 512
			if sector == "4096" {
				ss = 4096
			}
			ours := encrypt(t, pass, nil, opts(luks.WithVersion(2), luks.WithPBKDF("pbkdf2"), luks.WithSectorSize(ss), luks.WithLabel("same"))...)
			if len(ours) != 16<<20 {
				t.Fatalf("our empty LUKS2 image is %d bytes, want the 16 MiB data offset", len(ours))
			}
			// Like cryptsetup, the keyslots area beyond slot 0 is random.
			if allZero(ours[4<<20:4<<20+4096]) || allZero(theirs[4<<20:4<<20+4096]) {
				t.Error("unused keyslots area is zero")
			}
			if !allZero(ours[16384+4096+2048 : 32768]) {
				t.Error("JSON area padding is not zero")
			}
			for _, off := range []int{0, 16384} {
				a, b := theirs[off:off+16384], ours[off:off+16384]
				// Binary header: everything but seqid, salt, uuid and csum.
				for _, r := range [][2]int{{0, 16}, {24, 104}, {208, 264}} {
					if !bytes.Equal(a[r[0]:r[1]], b[r[0]:r[1]]) {
						t.Errorf("copy at %d: binary header bytes [%d,%d) differ:\n theirs %q\n ours   %q", off, r[0], r[1], a[r[0]:r[1]], b[r[0]:r[1]])
					}
				}
				if binary.BigEndian.Uint64(b[16:]) == 0 {
					t.Error("seqid 0")
				}
				ja, jb := a[4096:], b[4096:]
				if na, nb := bytes.IndexByte(ja, 0), bytes.IndexByte(jb, 0); na < 0 || nb < 0 || !allZero(ja[na:]) || !allZero(jb[nb:]) {
					t.Error("JSON area not NUL padded")
				}
				ma := b64Value.ReplaceAllString(string(ja[:bytes.IndexByte(ja, 0)]), `"$1":"…"`)
				mb := b64Value.ReplaceAllString(string(jb[:bytes.IndexByte(jb, 0)]), `"$1":"…"`)
				if ma != mb {
					t.Errorf("JSON differs:\n theirs %s\n ours   %s", ma, mb)
				}
			}
		})
	}
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// TestLUKS1Layouts checks slot offsets and payload offsets against the
// values cryptsetup and QEMU use.
func TestLUKS1Layouts(t *testing.T) {
	for _, c := range []struct {
		bits    int
		layout  luks.Layout
		stride  int64
		payload int64
	}{
		{512, luks.LayoutCryptsetup, 504, 4096},
		{512, luks.LayoutQEMU, 504, 4040},
		{256, luks.LayoutCryptsetup, 256, 4096},
		{256, luks.LayoutQEMU, 256, 2056},
	} {
		hdr, vk, err := luks.FormatHeader([]byte("p"), opts(luks.WithKeySize(c.bits), luks.WithLayout(c.layout))...)
		if err != nil {
			t.Fatal(err)
		}
		if len(vk) != c.bits/8 || int64(len(hdr)) != c.payload*512 {
			t.Fatalf("%d-bit %v: key %d bytes, header %d bytes", c.bits, c.layout, len(vk), len(hdr))
		}
		h, err := luks.ReadHeader(bytes.NewReader(hdr))
		if err != nil {
			t.Fatal(err)
		}
		for i, k := range h.KeySlots {
			if k.Offset != (8+int64(i)*c.stride)*512 {
				t.Errorf("%d-bit %v: slot %d at %d", c.bits, c.layout, i, k.Offset)
			}
		}
		got, _, err := luks.UnlockHeader(bytes.NewReader(hdr), []byte("p"))
		if err != nil || !bytes.Equal(got, vk) {
			t.Fatalf("UnlockHeader: %v", err)
		}
	}
	vk := bytes.Repeat([]byte{7}, 64)
	_, got, err := luks.FormatHeader([]byte("p"), opts(luks.WithVolumeKey(vk))...)
	if err != nil || !bytes.Equal(got, vk) {
		t.Fatalf("WithVolumeKey not used: %v", err)
	}
}
