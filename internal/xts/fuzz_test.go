package xts

import (
	"bytes"
	"crypto/aes"
	"testing"

	xxts "golang.org/x/crypto/xts"
)

// FuzzAgainstXCrypto feeds arbitrary keys, data, unit sizes, tweaks and
// buffer offsets to every path and compares with golang.org/x/crypto/xts.
func FuzzAgainstXCrypto(f *testing.F) {
	for _, v := range append(loadVectors(f, "testdata/ieee1619.json"), loadVectors(f, "testdata/openssl.json")...) {
		key, pt := unhex(f, v.Key), unhex(f, v.Plaintext)
		f.Add(key, pt, uint16(len(pt)), v.Sector, uint64(1), uint8(0))
	}
	f.Add(make([]byte, 64), make([]byte, 8192), uint16(4096), uint64(0), uint64(8), uint8(3))
	f.Add(make([]byte, 32), make([]byte, 48), uint16(48), ^uint64(0), uint64(1), uint8(1))
	f.Fuzz(func(t *testing.T, key, data []byte, unit uint16, first, step uint64, shift uint8) {
		if len(key) != 32 && len(key) != 64 {
			if _, err := NewCipher(key); err == nil {
				t.Fatalf("NewCipher accepted a %d-byte key", len(key))
			}
			return
		}
		u := int(unit) &^ 15
		if u == 0 || len(data) < u {
			return
		}
		data = data[:len(data)/u*u]
		ref, err := xxts.NewCipher(aes.NewCipher, key)
		if err != nil {
			t.Fatal(err)
		}
		want := make([]byte, len(data))
		for i := 0; i < len(data); i += u {
			ref.Encrypt(want[i:i+u], data[i:i+u], first+uint64(i/u)*step)
		}
		off := int(shift % 16) // unaligned buffers must work too
		for _, im := range supportedImpls() {
			c := mustCipher(t, key, im)
			buf := make([]byte, off+len(data))[off:]
			c.EncryptUnits(buf, data, u, first, step)
			if !bytes.Equal(buf, want) {
				t.Fatalf("%v: EncryptUnits(unit %d, first %#x, step %d) differs from x/crypto/xts", im, u, first, step)
			}
			c.DecryptUnits(buf, buf, u, first, step)
			if !bytes.Equal(buf, data) {
				t.Fatalf("%v: DecryptUnits did not invert EncryptUnits", im)
			}
		}
	})
}
