package xts

import "encoding/binary"

const maxRounds = 14

// expandKey writes the FIPS-197 encryption schedule of a 16- or 32-byte AES
// key into enc and, if dec is not nil, the equivalent inverse cipher's
// schedule (FIPS-197 5.3.5) that AESDEC expects. It returns the number of
// rounds. crypto/aes keeps its schedule private, and the assembly needs one.
// The S-box is computed arithmetically rather than looked up, so expansion
// does not leak the key through cache timing.
func expandKey(key []byte, enc, dec *[maxRounds + 1][16]byte) int {
	nk := len(key) / 4
	rounds := nk + 6
	var w [4 * (maxRounds + 1)]uint32
	for i := 0; i < nk; i++ {
		w[i] = binary.BigEndian.Uint32(key[4*i:])
	}
	rcon := byte(1)
	for i := nk; i < 4*(rounds+1); i++ {
		t := w[i-1]
		switch {
		case i%nk == 0:
			t = subWord(t<<8|t>>24) ^ uint32(rcon)<<24
			rcon = gmul(rcon, 2)
		case nk > 6 && i%nk == 4:
			t = subWord(t)
		}
		w[i] = w[i-nk] ^ t
	}
	for i := 0; i < 4*(rounds+1); i++ {
		binary.BigEndian.PutUint32(enc[i/4][4*(i%4):], w[i])
	}
	clear(w[:])
	if dec != nil {
		dec[0] = enc[rounds]
		for i := 1; i < rounds; i++ {
			dec[i] = invMixColumns(enc[rounds-i])
		}
		dec[rounds] = enc[0]
	}
	return rounds
}

// gmul multiplies in GF(2^8) modulo x^8+x^4+x^3+x+1 without branches on data.
func gmul(a, b byte) byte {
	var p byte
	for range 8 {
		p ^= a & -(b & 1)
		a = a<<1 ^ 0x1b&-(a>>7)
		b >>= 1
	}
	return p
}

// sbox is the AES S-box computed as an inverse (a^254) and the affine map.
func sbox(a byte) byte {
	a2 := gmul(a, a)
	a3 := gmul(a2, a)
	a6 := gmul(a3, a3)
	a7 := gmul(a6, a)
	a14 := gmul(a7, a7)
	a15 := gmul(a14, a)
	a30 := gmul(a15, a15)
	a60 := gmul(a30, a30)
	a120 := gmul(a60, a60)
	a127 := gmul(a120, a7)
	inv := gmul(a127, a127) // a^254, and 0 for 0
	rotl := func(x byte, n uint) byte { return x<<n | x>>(8-n) }
	return inv ^ rotl(inv, 1) ^ rotl(inv, 2) ^ rotl(inv, 3) ^ rotl(inv, 4) ^ 0x63
}

func subWord(w uint32) uint32 {
	return uint32(sbox(byte(w>>24)))<<24 | uint32(sbox(byte(w>>16)))<<16 |
		uint32(sbox(byte(w>>8)))<<8 | uint32(sbox(byte(w)))
}

func invMixColumns(k [16]byte) [16]byte {
	var r [16]byte
	for c := 0; c < 16; c += 4 {
		a0, a1, a2, a3 := k[c], k[c+1], k[c+2], k[c+3]
		r[c] = gmul(a0, 14) ^ gmul(a1, 11) ^ gmul(a2, 13) ^ gmul(a3, 9)
		r[c+1] = gmul(a0, 9) ^ gmul(a1, 14) ^ gmul(a2, 11) ^ gmul(a3, 13)
		r[c+2] = gmul(a0, 13) ^ gmul(a1, 9) ^ gmul(a2, 14) ^ gmul(a3, 11)
		r[c+3] = gmul(a0, 11) ^ gmul(a1, 13) ^ gmul(a2, 9) ^ gmul(a3, 14)
	}
	return r
}
