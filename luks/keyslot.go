package luks

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
)

// materialSize is the key material of one slot, whole sectors.
func materialSize(keyBytes, stripes int) int64 {
	return (int64(keyBytes)*int64(stripes) + sectorSize - 1) / sectorSize * sectorSize
}

// unlockSlot derives the slot key, decrypts the slot's material and merges
// it into a candidate volume key of n bytes. The caller verifies it.
func unlockSlot(r io.ReaderAt, s slotInfo, pass []byte, n int) ([]byte, error) {
	afHash, err := hashFunc(s.afHash)
	if err != nil {
		return nil, err
	}
	size := materialSize(n, s.stripes)
	if size > s.size {
		return nil, corrupt(fmt.Sprintf("key slot %d: area of %d bytes holds no %d-byte material", s.index, s.size, size))
	}
	mat := make([]byte, size)
	defer clear(mat)
	if _, err := r.ReadAt(mat, s.offset); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, corrupt(fmt.Sprintf("key slot %d: material truncated", s.index))
		}
		return nil, err
	}
	if err := cryptMaterial(s, pass, mat, false); err != nil {
		return nil, err
	}
	return afMerge(mat, n, s.stripes, afHash), nil
}

// cryptMaterial en- or decrypts key material in place with the key derived
// from the passphrase: 512-byte sectors, IVs counting from 0 at the area.
func cryptMaterial(s slotInfo, pass, mat []byte, encrypt bool) error {
	sk, err := s.kdf.derive(pass, s.keyBytes)
	if err != nil {
		return err
	}
	defer clear(sk)
	c, err := newSectorCipher(s.cipher, s.mode, sk)
	if err != nil {
		return err
	}
	defer c.zero()
	if encrypt {
		c.encryptUnits(mat, mat, sectorSize, 0, 1)
	} else {
		c.decryptUnits(mat, mat, sectorSize, 0, 1)
	}
	return nil
}

// sealSlot splits the volume key and encrypts it under the passphrase:
// the inverse of unlockSlot. It returns the material, whole sectors.
func sealSlot(s slotInfo, pass, vk []byte) ([]byte, error) {
	afHash, err := hashFunc(s.afHash)
	if err != nil {
		return nil, err
	}
	split, err := afSplit(vk, s.stripes, afHash, rand.Reader)
	if err != nil {
		return nil, err
	}
	mat := make([]byte, materialSize(len(vk), s.stripes))
	copy(mat, split)
	clear(split)
	if err := cryptMaterial(s, pass, mat, true); err != nil {
		clear(mat)
		return nil, err
	}
	return mat, nil
}

// unlock tries every active slot and returns the volume key and the slot
// that opened. Slots whose KDF or cipher is unsupported are skipped; if
// nothing opens and some slot was skipped, that error is returned instead
// of ErrWrongPassphrase, so the caller learns why.
func unlock(ctx context.Context, r io.ReaderAt, m metadata, pass []byte) ([]byte, int, error) {
	n := m.volumeKeyBytes()
	var skipped error
	for _, s := range m.slotInfos() {
		if !s.active {
			continue
		}
		if err := ctx.Err(); err != nil {
			return nil, -1, err
		}
		vk, err := unlockSlot(r, s, pass, n)
		if err != nil {
			if errors.Is(err, ErrUnsupported) || errors.Is(err, ErrCorrupt) {
				skipped = err
				continue
			}
			return nil, -1, err
		}
		ok, err := m.verify(vk, s.index)
		if err != nil {
			clear(vk)
			skipped = err
			continue
		}
		if ok {
			return vk, s.index, nil
		}
		clear(vk)
	}
	if skipped != nil {
		// Both may be true; errors.Is matches either.
		return nil, -1, fmt.Errorf("%w (a key slot was skipped: %w)", ErrWrongPassphrase, skipped)
	}
	return nil, -1, ErrWrongPassphrase
}
