package xts

import (
	"errors"
	"fmt"
	"strconv"
	"unsafe"
)

// BlockSize is the AES block size; data units are multiples of it.
const BlockSize = 16

// ErrKeySize is returned by NewCipher for a key that is neither 32 nor 64 bytes.
var ErrKeySize = errors.New("xts: key must be 32 bytes (AES-128-XTS) or 64 bytes (AES-256-XTS)")

// KeySizeError reports the length of a rejected key (never its contents).
type KeySizeError int

func (k KeySizeError) Error() string {
	return ErrKeySize.Error() + ", got " + strconv.Itoa(int(k))
}

// Unwrap lets errors.Is(err, ErrKeySize) match.
func (k KeySizeError) Unwrap() error { return ErrKeySize }

// Cipher is AES-XTS with a key of 32 bytes (AES-128-XTS) or 64 bytes
// (AES-256-XTS), the two halves K1‖K2: K1 encrypts the data, K2 the tweak.
// It is safe for concurrent use: nothing changes after NewCipher except by
// Zero.
type Cipher struct {
	rounds int // 10 for AES-128, 14 for AES-256
	// Expanded schedules, laid out as AES-NI consumes them: round key i at
	// [16*i:16*i+16], bytes in FIPS-197 order. dec1 is the equivalent
	// inverse cipher's schedule (InvMixColumns applied) for AESDEC.
	enc1, dec1, enc2 [maxRounds + 1][16]byte
	impl             impl
	gen              *generic // only for the portable path; holds crypto/aes blocks
}

// NewCipher returns an AES-XTS cipher for key, which it copies. It returns a
// KeySizeError (matching ErrKeySize) unless len(key) is 32 or 64.
func NewCipher(key []byte) (*Cipher, error) {
	return newCipher(key, defaultImpl)
}

func newCipher(key []byte, im impl) (*Cipher, error) {
	if len(key) != 32 && len(key) != 64 {
		return nil, KeySizeError(len(key))
	}
	c := &Cipher{impl: im}
	half := len(key) / 2
	c.rounds = expandKey(key[:half], &c.enc1, &c.dec1)
	expandKey(key[half:], &c.enc2, nil)
	if im == implGeneric {
		c.gen = newGeneric(key)
	}
	return c, nil
}

// Encrypt encrypts one data unit src into dst with the tweak sectorNum
// (little-endian in the first 8 bytes of the IV). len(src) must be a
// non-zero multiple of 16 and dst at least as long; dst and src must be the
// same slice or not overlap. It panics otherwise, like crypto/cipher.
func (c *Cipher) Encrypt(dst, src []byte, sectorNum uint64) {
	checkUnit(dst, src, len(src))
	c.units(dst[:len(src)], src, len(src), sectorNum, 0, false)
}

// Decrypt decrypts one data unit; see Encrypt for the rules on its arguments.
func (c *Cipher) Decrypt(dst, src []byte, sectorNum uint64) {
	checkUnit(dst, src, len(src))
	c.units(dst[:len(src)], src, len(src), sectorNum, 0, true)
}

// EncryptUnits encrypts len(src)/unitSize consecutive data units; unit i uses
// the tweak first + i*step (mod 2^64). LUKS2 with 4096-byte sectors uses
// step 8, because its IVs count 512-byte sectors. unitSize must be a
// non-zero multiple of 16, len(src) a multiple of unitSize (zero is allowed
// and does nothing), dst at least as long as src, and dst and src the same
// slice or disjoint. It panics otherwise.
func (c *Cipher) EncryptUnits(dst, src []byte, unitSize int, first, step uint64) {
	checkUnit(dst, src, unitSize)
	if len(src) == 0 {
		return
	}
	c.units(dst[:len(src)], src, unitSize, first, step, false)
}

// DecryptUnits decrypts what EncryptUnits encrypted with the same unitSize,
// first and step; the argument rules are the same.
func (c *Cipher) DecryptUnits(dst, src []byte, unitSize int, first, step uint64) {
	checkUnit(dst, src, unitSize)
	if len(src) == 0 {
		return
	}
	c.units(dst[:len(src)], src, unitSize, first, step, true)
}

// Zero wipes the expanded key schedules. Call it when done with a secret
// key; the Cipher must not be used afterwards. On the portable path the
// schedules crypto/aes keeps internally cannot be reached and are only
// released to the garbage collector.
func (c *Cipher) Zero() {
	clear(c.enc1[:])
	clear(c.dec1[:])
	clear(c.enc2[:])
	c.rounds = 0
	c.gen = nil
}

// Format prints the key size and implementation path, never key material,
// whatever the verb (%v, %+v, %#v, %x...), for a Cipher or a *Cipher.
func (c Cipher) Format(f fmt.State, verb rune) {
	if c.rounds == 0 {
		fmt.Fprint(f, "xts.Cipher{zeroed}")
		return
	}
	bits := 128
	if c.rounds == 14 {
		bits = 256
	}
	fmt.Fprintf(f, "xts.Cipher{AES-%d-XTS, %v}", bits, c.impl)
}

// units processes len(src)/unitSize units after the arguments were checked.
func (c *Cipher) units(dst, src []byte, unitSize int, first, step uint64, decrypt bool) {
	if c.rounds == 0 {
		panic("xts: Cipher used after Zero or not made by NewCipher")
	}
	switch c.impl {
	case implGeneric:
		c.gen.units(dst, src, unitSize, first, step, decrypt)
	default:
		c.unitsAsm(dst, src, unitSize, first, step, decrypt)
	}
}

func checkUnit(dst, src []byte, unitSize int) {
	switch {
	case unitSize < BlockSize || unitSize%BlockSize != 0:
		panic("xts: data unit size is not a non-zero multiple of the block size")
	case len(src)%unitSize != 0:
		panic("xts: input is not a whole number of data units")
	case len(dst) < len(src):
		panic("xts: output smaller than input")
	case inexactOverlap(dst[:len(src)], src):
		panic("xts: invalid buffer overlap")
	}
}

// inexactOverlap reports whether x and y share memory at different offsets
// (in-place operation on the identical slice is allowed).
func inexactOverlap(x, y []byte) bool {
	if len(x) == 0 || len(y) == 0 || &x[0] == &y[0] {
		return false
	}
	px, py := uintptr(unsafe.Pointer(&x[0])), uintptr(unsafe.Pointer(&y[0]))
	return px <= py+uintptr(len(y)-1) && py <= px+uintptr(len(x)-1)
}
