package luks

import (
	"bytes"
	"errors"
	"testing"
)

// The 32-bit "plain" IVs wrap at 2^32 sectors, which no test image is big
// enough to reach; check the wrap against plain64 directly.
func TestIVGenerators(t *testing.T) {
	key := bytes.Repeat([]byte{1, 2, 3, 4}, 16)
	src := bytes.Repeat([]byte("sixteen byte blk"), 64) // two sectors
	enc := func(mode string, k []byte, first uint64) []byte {
		t.Helper()
		c, err := newSectorCipher("aes", mode, k)
		if err != nil {
			t.Fatal(err)
		}
		dst := make([]byte, len(src))
		c.encryptUnits(dst, src, 512, first, 1)
		back := make([]byte, len(src))
		c.decryptUnits(back, dst, 512, first, 1)
		if !bytes.Equal(back, src) {
			t.Fatalf("%s does not round-trip", mode)
		}
		return dst
	}
	for _, m := range [][2]string{{"xts-plain", "xts-plain64"}, {"cbc-plain", "cbc-plain64"}} {
		k := key
		if m[0] == "cbc-plain" {
			k = key[:32]
		}
		if !bytes.Equal(enc(m[0], k, 1<<32+5), enc(m[1], k, 5)) {
			t.Errorf("%s at 2^32+5 differs from %s at 5", m[0], m[1])
		}
		if bytes.Equal(enc(m[1], k, 1<<32+5), enc(m[1], k, 5)) {
			t.Errorf("%s wraps at 2^32", m[1])
		}
	}
	if bytes.Equal(enc("cbc-plain64be", key[:32], 1), enc("cbc-plain64", key[:32], 1)) {
		t.Error("plain64be equals plain64")
	}
	if bytes.Equal(enc("cbc-essiv:sha256", key[:32], 3), enc("cbc-plain64", key[:32], 3)) {
		t.Error("essiv equals plain64")
	}
	for _, bad := range [][2]string{{"serpent", "xts-plain64"}, {"aes", "xts-essiv:sha256"}, {"aes", "cbc-benbi"}, {"aes", "ecb"}, {"aes", "xts-plain64be"}, {"aes", "cbc-essiv:md5"}, {"aes", "xts-plain64"}} {
		k := key
		if bad[1] == "xts-plain64" {
			k = key[:48] // no 384-bit XTS
		}
		if _, err := newSectorCipher(bad[0], bad[1], k); !errors.Is(err, ErrUnsupported) {
			t.Errorf("%s-%s: %v, want ErrUnsupported", bad[0], bad[1], err)
		}
	}
}
