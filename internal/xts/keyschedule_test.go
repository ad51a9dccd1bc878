package xts

import (
	"bytes"
	"crypto/aes"
	"math/rand/v2"
	"testing"
)

// A plain FIPS-197 block cipher over our schedules, to check expandKey
// against crypto/aes independently of any assembly.

func subShift(s *[16]byte, box func(byte) byte, inverse bool) {
	var t [16]byte
	for c := 0; c < 4; c++ {
		for r := 0; r < 4; r++ {
			if inverse {
				t[4*((c+r)%4)+r] = box(s[4*c+r])
			} else {
				t[4*c+r] = box(s[4*((c+r)%4)+r])
			}
		}
	}
	*s = t
}

func mixColumns(s *[16]byte) {
	for c := 0; c < 16; c += 4 {
		a0, a1, a2, a3 := s[c], s[c+1], s[c+2], s[c+3]
		s[c] = gmul(a0, 2) ^ gmul(a1, 3) ^ a2 ^ a3
		s[c+1] = a0 ^ gmul(a1, 2) ^ gmul(a2, 3) ^ a3
		s[c+2] = a0 ^ a1 ^ gmul(a2, 2) ^ gmul(a3, 3)
		s[c+3] = gmul(a0, 3) ^ a1 ^ a2 ^ gmul(a3, 2)
	}
}

func xorKey(s *[16]byte, k [16]byte) {
	for i := range s {
		s[i] ^= k[i]
	}
}

func refEncrypt(enc *[maxRounds + 1][16]byte, rounds int, s [16]byte) [16]byte {
	xorKey(&s, enc[0])
	for r := 1; r <= rounds; r++ {
		subShift(&s, sbox, false)
		if r != rounds {
			mixColumns(&s)
		}
		xorKey(&s, enc[r])
	}
	return s
}

// refDecrypt is the equivalent inverse cipher, the form AESDEC implements.
func refDecrypt(dec *[maxRounds + 1][16]byte, rounds int, s [16]byte) [16]byte {
	var inv [256]byte
	for i := range 256 {
		inv[sbox(byte(i))] = byte(i)
	}
	invBox := func(b byte) byte { return inv[b] }
	xorKey(&s, dec[0])
	for r := 1; r <= rounds; r++ {
		subShift(&s, invBox, true)
		if r != rounds {
			s = invMixColumns(s)
		}
		xorKey(&s, dec[r])
	}
	return s
}

func TestSbox(t *testing.T) {
	// Spot values from FIPS-197 figure 7.
	for in, want := range map[byte]byte{0x00: 0x63, 0x01: 0x7c, 0x53: 0xed, 0xff: 0x16, 0x10: 0xca} {
		if got := sbox(in); got != want {
			t.Errorf("sbox(%#x) = %#x, want %#x", in, got, want)
		}
	}
	seen := map[byte]bool{}
	for i := range 256 {
		seen[sbox(byte(i))] = true
	}
	if len(seen) != 256 {
		t.Fatalf("sbox is not a permutation: %d distinct outputs", len(seen))
	}
}

func TestExpandKeyAgainstCryptoAES(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{16, 32} {
		for range 20 {
			key := make([]byte, n)
			for i := range key {
				key[i] = byte(rng.Uint32())
			}
			var enc, dec [maxRounds + 1][16]byte
			rounds := expandKey(key, &enc, &dec)
			if rounds != n/4+6 {
				t.Fatalf("rounds = %d for a %d-byte key", rounds, n)
			}
			blk, _ := aes.NewCipher(key)
			var pt, want [16]byte
			for i := range pt {
				pt[i] = byte(rng.Uint32())
			}
			blk.Encrypt(want[:], pt[:])
			if got := refEncrypt(&enc, rounds, pt); got != want {
				t.Fatalf("%d-byte key: encrypt with our schedule = %x, crypto/aes = %x", n, got, want)
			}
			if got := refDecrypt(&dec, rounds, want); got != pt {
				t.Fatalf("%d-byte key: decrypt with our schedule = %x, want %x", n, got, pt)
			}
		}
	}
	// FIPS-197 appendix A.1: the last round key of the 128-bit example.
	var enc [maxRounds + 1][16]byte
	expandKey([]byte{0x2b, 0x7e, 0x15, 0x16, 0x28, 0xae, 0xd2, 0xa6, 0xab, 0xf7, 0x15, 0x88, 0x09, 0xcf, 0x4f, 0x3c}, &enc, nil)
	if want := []byte{0xd0, 0x14, 0xf9, 0xa8, 0xc9, 0xee, 0x25, 0x89, 0xe1, 0x3f, 0x0c, 0xc8, 0xb6, 0x63, 0x0c, 0xa6}; !bytes.Equal(enc[10][:], want) {
		t.Fatalf("round key 10 = %x, want %x", enc[10], want)
	}
}
