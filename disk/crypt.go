package disk

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"

	"github.com/e2eimage/e2e/internal/xts"
)

// sectorCipher is the slice of internal/xts the formats use: 512-byte
// data units with per-format tweaks.
type sectorCipher interface {
	EncryptUnits(dst, src []byte, unitSize int, first, step uint64)
	DecryptUnits(dst, src []byte, unitSize int, first, step uint64)
	Zero()
}

// newSectorCipher keys AES-XTS: 32 bytes select AES-128-XTS, 64 bytes
// AES-256-XTS (two halves, as dm-crypt and blktap split them).
func newSectorCipher(key []byte) (sectorCipher, error) {
	c, err := xts.NewCipher(key)
	if errors.Is(err, xts.ErrKeySize) {
		return nil, ErrKeySize
	}
	return c, err
}

// KeyHash is the hash blktap stores in an encrypted VHD's batmap header so
// a wrong key is refused: SHA-256 over 32 zero bytes (the nonce vhd-util
// writes) followed by the key. The hash reveals nothing usable about a
// random 32- or 64-byte key.
func KeyHash(key []byte) [32]byte {
	var zero [32]byte
	return keyHashNonce(&zero, key)
}

func keyHashNonce(nonce *[32]byte, key []byte) [32]byte {
	h := sha256.New()
	h.Write(nonce[:])
	h.Write(key)
	var out [32]byte
	h.Sum(out[:0])
	return out
}

func keyHashMatches(nonce, want *[32]byte, key []byte) bool {
	got := keyHashNonce(nonce, key)
	return subtle.ConstantTimeCompare(got[:], want[:]) == 1
}
