package luks

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
	"strings"

	"golang.org/x/crypto/xts"
)

// Only AES is offered: cryptsetup's other ciphers (serpent, twofish) need
// the kernel and were never defaults, so they are reported as unsupported.

// sectorCipher encrypts whole data units. Unit i of a call uses the IV
// sector number first+i*step: LUKS2 with 4096-byte sectors still counts IVs
// in 512-byte units, so step is sectorSize/512.
type sectorCipher interface {
	encryptUnits(dst, src []byte, unit int, first, step uint64)
	decryptUnits(dst, src []byte, unit int, first, step uint64)
	zero()
}

// newSectorCipher builds the dm-crypt cipher for a LUKS cipher name
// ("aes") and mode ("xts-plain64", "cbc-essiv:sha256", ...) with the full
// volume (or slot) key.
func newSectorCipher(name, mode string, key []byte) (sectorCipher, error) {
	spec := name + "-" + mode
	var newBlock func([]byte) (cipher.Block, error)
	switch name {
	case "aes":
		newBlock = aes.NewCipher
	default:
		return nil, unsupported("cipher " + spec)
	}
	chain, ivgen, _ := strings.Cut(mode, "-")
	switch chain {
	case "xts":
		var order func(uint64) uint64
		switch ivgen {
		case "plain64":
			if name == "aes" {
				return newFastXTS(key)
			}
			order = func(n uint64) uint64 { return n }
		case "plain":
			order = func(n uint64) uint64 { return n & 0xffffffff }
		default:
			return nil, unsupported("cipher " + spec)
		}
		if len(key)%2 != 0 {
			return nil, unsupported("cipher " + spec + " with an odd key size")
		}
		c, err := xts.NewCipher(newBlock, key)
		if err != nil {
			return nil, unsupported("cipher " + spec + ": " + err.Error())
		}
		return &genericXTS{c: c, key: key, order: order}, nil
	case "cbc":
		b, err := newBlock(key)
		if err != nil {
			return nil, unsupported("cipher " + spec + ": " + err.Error())
		}
		c := &cbcCipher{b: b}
		switch {
		case ivgen == "plain":
			c.iv = func(iv []byte, n uint64) { binary.LittleEndian.PutUint32(iv, uint32(n)) }
		case ivgen == "plain64":
			c.iv = func(iv []byte, n uint64) { binary.LittleEndian.PutUint64(iv, n) }
		case ivgen == "plain64be":
			c.iv = func(iv []byte, n uint64) { binary.BigEndian.PutUint64(iv[len(iv)-8:], n) }
		case strings.HasPrefix(ivgen, "essiv:"):
			// ESSIV: IV = E_{H(key)}(sector), with the same cipher keyed by
			// the hash of the volume key.
			hf, err := hashFunc(strings.TrimPrefix(ivgen, "essiv:"))
			if err != nil {
				return nil, unsupported("cipher " + spec)
			}
			h := hf()
			h.Write(key)
			salt := h.Sum(nil)
			eb, err := newBlock(salt)
			clear(salt)
			if err != nil {
				return nil, unsupported("cipher " + spec + ": " + err.Error())
			}
			c.iv = func(iv []byte, n uint64) {
				binary.LittleEndian.PutUint64(iv, n)
				eb.Encrypt(iv, iv)
			}
		default:
			return nil, unsupported("cipher " + spec)
		}
		return c, nil
	}
	return nil, unsupported("cipher " + spec)
}

// genericXTS serves aes-xts-plain (32-bit IVs) through x/crypto/xts, whose
// tweak is a little-endian uint64 in the first half of the IV; IVs that
// need the second half (plain64be, essiv) cannot be expressed and are
// reported as unsupported.
type genericXTS struct {
	c     *xts.Cipher
	key   []byte
	order func(uint64) uint64
}

func (g *genericXTS) encryptUnits(dst, src []byte, unit int, first, step uint64) {
	for i := 0; i+unit <= len(src); i += unit {
		g.c.Encrypt(dst[i:i+unit], src[i:i+unit], g.order(first))
		first += step
	}
}

func (g *genericXTS) decryptUnits(dst, src []byte, unit int, first, step uint64) {
	for i := 0; i+unit <= len(src); i += unit {
		g.c.Decrypt(dst[i:i+unit], src[i:i+unit], g.order(first))
		first += step
	}
}

// x/crypto/xts keeps its expanded keys unexported; dropping the reference
// is all we can do for it.
func (g *genericXTS) zero() { g.c = nil }

type cbcCipher struct {
	b  cipher.Block
	iv func(iv []byte, n uint64)
}

func (c *cbcCipher) encryptUnits(dst, src []byte, unit int, first, step uint64) {
	c.units(dst, src, unit, first, step, cipher.NewCBCEncrypter)
}

func (c *cbcCipher) decryptUnits(dst, src []byte, unit int, first, step uint64) {
	c.units(dst, src, unit, first, step, cipher.NewCBCDecrypter)
}

// units chains each sector separately, with its own IV, as dm-crypt does.
func (c *cbcCipher) units(dst, src []byte, unit int, first, step uint64, mode func(cipher.Block, []byte) cipher.BlockMode) {
	iv := make([]byte, c.b.BlockSize())
	for i := 0; i+unit <= len(src); i += unit {
		clear(iv)
		c.iv(iv, first)
		mode(c.b, iv).CryptBlocks(dst[i:i+unit], src[i:i+unit])
		first += step
	}
}

func (c *cbcCipher) zero() { c.b = nil }
