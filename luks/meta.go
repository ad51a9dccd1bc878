package luks

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
)

// metadata is what Open, Decrypt and key management need from a header,
// whatever its version.
type metadata interface {
	header() *Header
	slotInfos() []slotInfo
	volumeKeyBytes() int
	// verify reports whether vk is the volume key, as unlocked from slot.
	verify(vk []byte, slot int) (bool, error)
	segment() segment
}

// slotInfo is one key slot in version-independent form.
type slotInfo struct {
	index    int
	active   bool
	kdf      kdf
	stripes  int
	afHash   string
	offset   int64 // bytes from the start of the image
	size     int64 // bytes reserved for the material
	cipher   string
	mode     string
	keyBytes int // size of the key that encrypts the material
}

// segment is the encrypted payload.
type segment struct {
	offset     int64 // bytes
	size       int64 // bytes; 0 means up to the end of the image
	sectorSize int
	ivTweak    uint64
	cipher     string
	mode       string
}

// readMeta reads and checks the header at the start of r.
func readMeta(r io.ReaderAt) (metadata, error) {
	b := make([]byte, binHeader2Size)
	n, err := r.ReadAt(b, 0)
	if n < 8 {
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, err
		}
		return nil, ErrNotLUKS
	}
	if !bytes.Equal(b[:6], magic1) {
		return nil, ErrNotLUKS
	}
	switch binary.BigEndian.Uint16(b[6:]) {
	case 1:
		if n < header1Size {
			return nil, corrupt("LUKS1 header truncated")
		}
		return parseHeader1(b[:n])
	case 2:
		return readHeader2(r)
	default:
		return nil, unsupported("LUKS version " + itoa(int(binary.BigEndian.Uint16(b[6:]))))
	}
}
