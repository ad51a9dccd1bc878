package xts

import (
	"bytes"
	"crypto/aes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	xxts "golang.org/x/crypto/xts"
)

type vector struct {
	Name       string `json:"name"`
	Key        string `json:"key"`
	Sector     uint64 `json:"sector"`
	Plaintext  string `json:"plaintext"`
	Ciphertext string `json:"ciphertext"`
}

// loadVectors reads known answers: testdata/ieee1619.json holds the
// IEEE P1619 Annex B vectors (AES-128 1-5, AES-256 10), testdata/openssl.json
// answers computed by OpenSSL (testdata/gen_openssl.py).
func loadVectors(tb testing.TB, file string) []vector {
	tb.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		tb.Fatal(err)
	}
	var vs []vector
	if err := json.Unmarshal(b, &vs); err != nil {
		tb.Fatal(err)
	}
	if len(vs) == 0 {
		tb.Fatal("no vectors")
	}
	return vs
}

func unhex(tb testing.TB, s string) []byte {
	tb.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// forEachImpl runs f once per implementation path this build and CPU have.
func forEachImpl(t *testing.T, f func(t *testing.T, im impl)) {
	for _, im := range supportedImpls() {
		t.Run(im.String(), func(t *testing.T) { f(t, im) })
	}
}

func mustCipher(tb testing.TB, key []byte, im impl) *Cipher {
	tb.Helper()
	c, err := newCipher(key, im)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

func TestIEEE1619Vectors(t *testing.T) { testVectors(t, "testdata/ieee1619.json") }
func TestOpenSSLVectors(t *testing.T)  { testVectors(t, "testdata/openssl.json") }

func testVectors(t *testing.T, file string) {
	vs := loadVectors(t, file)
	forEachImpl(t, func(t *testing.T, im impl) {
		for _, v := range vs {
			c := mustCipher(t, unhex(t, v.Key), im)
			pt, want := unhex(t, v.Plaintext), unhex(t, v.Ciphertext)
			got := make([]byte, len(pt))
			c.Encrypt(got, pt, v.Sector)
			if !bytes.Equal(got, want) {
				t.Errorf("%s: Encrypt = %x, want %x", v.Name, got, want)
			}
			c.Decrypt(got, got, v.Sector) // in place
			if !bytes.Equal(got, pt) {
				t.Errorf("%s: Decrypt = %x, want %x", v.Name, got, pt)
			}
			// One unit through EncryptUnits: the step must not matter.
			c.EncryptUnits(got, pt, len(pt), v.Sector, 99)
			if !bytes.Equal(got, want) {
				t.Errorf("%s: EncryptUnits = %x, want %x", v.Name, got, want)
			}
		}
	})
}

// TestAgainstXCrypto compares every path with golang.org/x/crypto/xts on
// random keys, tweaks and every length from 16 to 8192, in place and not.
func TestAgainstXCrypto(t *testing.T) {
	forEachImpl(t, func(t *testing.T, im impl) {
		rng := rand.New(rand.NewPCG(1, uint64(im)))
		for _, keyLen := range []int{32, 64} {
			key := make([]byte, keyLen)
			for i := range key {
				key[i] = byte(rng.Uint32())
			}
			ref, err := xxts.NewCipher(aes.NewCipher, key)
			if err != nil {
				t.Fatal(err)
			}
			c := mustCipher(t, key, im)
			src := make([]byte, 8192)
			for i := range src {
				src[i] = byte(rng.Uint32())
			}
			want, got, inplace := make([]byte, 8192), make([]byte, 8192), make([]byte, 8192)
			for n := 16; n <= 8192; n += 16 {
				sector := rng.Uint64()
				if n%64 == 0 {
					sector = uint64(n) // small tweaks too
				}
				ref.Encrypt(want[:n], src[:n], sector)
				c.Encrypt(got[:n], src[:n], sector)
				if !bytes.Equal(got[:n], want[:n]) {
					t.Fatalf("key %d, len %d, sector %#x: Encrypt differs from x/crypto/xts", keyLen, n, sector)
				}
				copy(inplace, src[:n])
				c.Encrypt(inplace[:n], inplace[:n], sector)
				if !bytes.Equal(inplace[:n], want[:n]) {
					t.Fatalf("key %d, len %d: in-place Encrypt differs", keyLen, n)
				}
				c.Decrypt(got[:n], want[:n], sector)
				if !bytes.Equal(got[:n], src[:n]) {
					t.Fatalf("key %d, len %d: Decrypt differs", keyLen, n)
				}
				c.Decrypt(inplace[:n], inplace[:n], sector)
				if !bytes.Equal(inplace[:n], src[:n]) {
					t.Fatalf("key %d, len %d: in-place Decrypt differs", keyLen, n)
				}
			}
		}
	})
}

func TestUnits(t *testing.T) {
	forEachImpl(t, func(t *testing.T, im impl) {
		rng := rand.New(rand.NewPCG(2, uint64(im)))
		key := make([]byte, 64)
		for i := range key {
			key[i] = byte(rng.Uint32())
		}
		ref, _ := xxts.NewCipher(aes.NewCipher, key)
		c := mustCipher(t, key, im)
		cases := []struct {
			name        string
			unit, units int
			first, step uint64
		}{
			{"512x9", 512, 9, 0, 1},
			{"4096x5/step8", 4096, 5, 80, 8},
			{"16x33", 16, 33, 1 << 40, 3},
			{"4096x3/wrap", 4096, 3, ^uint64(0) - 8, 8},
			{"528x7", 528, 7, 12345, 1},
			{"empty", 512, 0, 7, 1},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				n := tc.unit * tc.units
				src := make([]byte, n)
				for i := range src {
					src[i] = byte(rng.Uint32())
				}
				want := make([]byte, n)
				for i := 0; i < tc.units; i++ {
					off := i * tc.unit
					ref.Encrypt(want[off:off+tc.unit], src[off:off+tc.unit], tc.first+uint64(i)*tc.step)
				}
				got := make([]byte, n)
				c.EncryptUnits(got, src, tc.unit, tc.first, tc.step)
				if !bytes.Equal(got, want) {
					t.Fatal("EncryptUnits differs from unit-by-unit x/crypto/xts")
				}
				c.DecryptUnits(got, got, tc.unit, tc.first, tc.step)
				if !bytes.Equal(got, src) {
					t.Fatal("in-place DecryptUnits did not invert EncryptUnits")
				}
			})
		}
	})
}

func TestNewCipherKeySize(t *testing.T) {
	for _, n := range []int{0, 16, 24, 31, 33, 48, 63, 65, 128} {
		c, err := NewCipher(make([]byte, n))
		if c != nil || !errors.Is(err, ErrKeySize) {
			t.Errorf("NewCipher(%d bytes) = %v, %v; want nil, ErrKeySize", n, c, err)
		}
		var kse KeySizeError
		if !errors.As(err, &kse) || int(kse) != n {
			t.Errorf("NewCipher(%d bytes): error %v does not carry the length", n, err)
		}
	}
}

func TestNewCipherCopiesKey(t *testing.T) {
	key := make([]byte, 64)
	c, err := NewCipher(key)
	if err != nil {
		t.Fatal(err)
	}
	want := make([]byte, 512)
	c.Encrypt(want, make([]byte, 512), 3)
	key[0] ^= 1
	got := make([]byte, 512)
	c.Encrypt(got, make([]byte, 512), 3)
	if !bytes.Equal(got, want) {
		t.Fatal("changing the caller's key changed the cipher")
	}
}

func TestBadArgumentsPanic(t *testing.T) {
	c, err := NewCipher(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 8192)
	cases := map[string]func(){
		"empty":           func() { c.Encrypt(buf[:0], buf[:0], 0) },
		"short block":     func() { c.Encrypt(buf[:8], buf[100:108], 0) },
		"unaligned":       func() { c.Decrypt(buf[:40], buf[100:140], 0) },
		"dst too short":   func() { c.Encrypt(buf[:16], buf[100:132], 0) },
		"overlap":         func() { c.Encrypt(buf[16:48], buf[:32], 0) },
		"unit zero":       func() { c.EncryptUnits(buf[:512], buf[1024:1536], 0, 0, 1) },
		"unit unaligned":  func() { c.EncryptUnits(buf[:520], buf[1024:1544], 520/2, 0, 1) },
		"partial unit":    func() { c.DecryptUnits(buf[:1000], buf[1024:2024], 500, 0, 1) },
		"units overlap":   func() { c.DecryptUnits(buf[512:1536], buf[:1024], 512, 0, 1) },
		"units dst short": func() { c.EncryptUnits(buf[:512], buf[1024:2048], 512, 0, 1) },
	}
	for name, f := range cases {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Fatal("no panic")
				}
			}()
			f()
		})
	}
}

func TestZero(t *testing.T) {
	forEachImpl(t, func(t *testing.T, im impl) {
		c := mustCipher(t, bytes.Repeat([]byte{0xa5}, 64), im)
		c.Zero()
		var zero [maxRounds + 1][16]byte
		if c.enc1 != zero || c.dec1 != zero || c.enc2 != zero || c.gen != nil {
			t.Fatal("Zero left key material behind")
		}
		defer func() {
			if recover() == nil {
				t.Fatal("use after Zero did not panic")
			}
		}()
		c.Encrypt(make([]byte, 16), make([]byte, 16), 0)
	})
}

// TestLongerDst checks that only len(src) bytes of dst are written.
func TestLongerDst(t *testing.T) {
	forEachImpl(t, func(t *testing.T, im impl) {
		c := mustCipher(t, make([]byte, 64), im)
		dst := bytes.Repeat([]byte{0xee}, 1024)
		c.EncryptUnits(dst, make([]byte, 512), 256, 0, 1)
		if !bytes.Equal(dst[512:], bytes.Repeat([]byte{0xee}, 512)) {
			t.Fatal("wrote past len(src)")
		}
	})
}

// TestDefaultImpl checks that NewCipher takes the fastest path available
// (supportedImpls lists them slowest first) and names it for
// scripts/bench-xts.sh.
func TestDefaultImpl(t *testing.T) {
	s := supportedImpls()
	if defaultImpl != s[len(s)-1] {
		t.Fatalf("default implementation %v, but %v is available", defaultImpl, s[len(s)-1])
	}
	c, err := NewCipher(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	if c.impl != defaultImpl {
		t.Fatalf("NewCipher chose %v, want %v", c.impl, defaultImpl)
	}
	t.Logf("default implementation: %v (available: %v)", defaultImpl, s)
}

// TestUnalignedBuffers runs every path on buffers at every byte offset.
func TestUnalignedBuffers(t *testing.T) {
	forEachImpl(t, func(t *testing.T, im impl) {
		key := bytes.Repeat([]byte{7}, 64)
		ref, _ := xxts.NewCipher(aes.NewCipher, key)
		c := mustCipher(t, key, im)
		const n = 4096 + 48
		for off := 1; off < 16; off++ {
			src := make([]byte, n+16)[off:][:n]
			for i := range src {
				src[i] = byte(i * off)
			}
			want := make([]byte, n)
			ref.Encrypt(want, src, uint64(off))
			dst := make([]byte, n+16)[16-off:][:n]
			c.Encrypt(dst, src, uint64(off))
			if !bytes.Equal(dst, want) {
				t.Fatalf("offset %d: Encrypt differs from x/crypto/xts", off)
			}
			c.Decrypt(dst, dst, uint64(off))
			if !bytes.Equal(dst, src) {
				t.Fatalf("offset %d: Decrypt did not invert Encrypt", off)
			}
		}
	})
}

// TestFormatHidesKey checks that no fmt verb prints the key or a schedule.
func TestFormatHidesKey(t *testing.T) {
	key := bytes.Repeat([]byte{0xab}, 64)
	c, err := NewCipher(key)
	if err != nil {
		t.Fatal(err)
	}
	secrets := []string{"ab", "171", hex.EncodeToString(c.enc1[1][:4]), hex.EncodeToString(c.dec1[1][:4]), hex.EncodeToString(c.enc2[1][:4])}
	for _, format := range []string{"%v", "%+v", "%#v", "%s", "%x", "%X", "%d", "%q"} {
		for _, arg := range []any{c, *c} {
			out := fmt.Sprintf(format, arg)
			if !strings.Contains(out, "AES-256-XTS") {
				t.Errorf("%s printed %q, want the key size", format, out)
			}
			for _, s := range secrets {
				if strings.Contains(strings.ToLower(out), s) {
					t.Errorf("%s printed %q, which contains %q", format, out, s)
				}
			}
		}
	}
	c.Zero()
	if out := fmt.Sprint(c); out != "xts.Cipher{zeroed}" {
		t.Errorf("zeroed cipher printed %q", out)
	}
}
