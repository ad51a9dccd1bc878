package xts

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
)

// generic is the portable implementation: one crypto/aes call per block,
// with the tweak kept as two uint64 halves between blocks.
type generic struct {
	k1, k2 cipher.Block
}

func newGeneric(key []byte) *generic {
	half := len(key) / 2
	k1, err := aes.NewCipher(key[:half])
	if err != nil {
		panic("xts: " + err.Error()) // unreachable: NewCipher checked the size
	}
	k2, _ := aes.NewCipher(key[half:])
	return &generic{k1: k1, k2: k2}
}

func (g *generic) units(dst, src []byte, unitSize int, first, step uint64, decrypt bool) {
	var t [BlockSize]byte
	for off := 0; off < len(src); off += unitSize {
		binary.LittleEndian.PutUint64(t[:8], first)
		clear(t[8:])
		g.k2.Encrypt(t[:], t[:])
		lo, hi := binary.LittleEndian.Uint64(t[:8]), binary.LittleEndian.Uint64(t[8:])
		for i := off; i < off+unitSize; i += BlockSize {
			d, s := dst[i:i+BlockSize], src[i:i+BlockSize]
			binary.LittleEndian.PutUint64(d[:8], binary.LittleEndian.Uint64(s[:8])^lo)
			binary.LittleEndian.PutUint64(d[8:], binary.LittleEndian.Uint64(s[8:])^hi)
			if decrypt {
				g.k1.Decrypt(d, d)
			} else {
				g.k1.Encrypt(d, d)
			}
			binary.LittleEndian.PutUint64(d[:8], binary.LittleEndian.Uint64(d[:8])^lo)
			binary.LittleEndian.PutUint64(d[8:], binary.LittleEndian.Uint64(d[8:])^hi)
			lo, hi = mulAlpha(lo, hi)
		}
		first += step
	}
	clear(t[:])
}

// mulAlpha multiplies the tweak by x in GF(2^128) with IEEE 1619's
// little-endian bit order and the polynomial x^128+x^7+x^2+x+1.
func mulAlpha(lo, hi uint64) (uint64, uint64) {
	carry := hi >> 63
	return lo<<1 ^ 0x87&-carry, hi<<1 | lo>>63
}
