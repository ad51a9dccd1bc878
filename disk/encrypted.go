package disk

import (
	"fmt"
	"io"
)

// OpenEncryptedVHD opens a blktap encrypted VHD (see WriteEncryptedVHD)
// with its raw 32- or 64-byte key. A key whose hash differs from the one in
// the batmap header is refused with ErrWrongKey before any data is read; an
// image without a key hash is ErrNotEncrypted.
func OpenEncryptedVHD(r io.ReaderAt, size int64, key []byte) (Disk, error) {
	kind, err := sniff(r, size)
	if err != nil {
		return nil, err
	}
	if kind != sniffVHD {
		return nil, fmt.Errorf("%w: not a VHD", ErrNotEncrypted)
	}
	v, err := parseVHD(r, size)
	if err != nil {
		return nil, err
	}
	if !v.encrypted {
		return nil, fmt.Errorf("%w: %s has no key hash", ErrNotEncrypted, v.format)
	}
	return openEncryptedVHD(v, r, key)
}

func openEncryptedVHD(v *vhdInfo, r io.ReaderAt, key []byte) (Disk, error) {
	if len(key) != 32 && len(key) != 64 {
		return nil, ErrKeySize
	}
	if v.format != VHDDynamic {
		return nil, &UnsupportedError{Format: EncryptedVHD, Feature: "encrypted " + v.format.String()}
	}
	if !keyHashMatches(&v.nonce, &v.keyHash, key) {
		return nil, ErrWrongKey
	}
	c, err := newSectorCipher(key)
	if err != nil {
		return nil, err
	}
	return v.open(r, c, nil)
}
