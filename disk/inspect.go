package disk

import (
	"context"
	"io"

	"github.com/e2eimage/e2e/luks"
)

// Info describes an image file without opening its data; no secret is
// needed, even for the encrypted formats.
type Info struct {
	Format      Format
	VirtualSize int64
	FileSize    int64
	// BlockSize is the VHD block or qcow2 cluster size (0 for raw and
	// fixed VHD).
	BlockSize int64
	// Allocated counts the bytes of blocks or clusters the tables map to
	// the file (with a parent or backing file: the image's own only).
	Allocated int64
	// QCOW2Version is 2 or 3 for qcow2.
	QCOW2Version int
	// KeyHash is the SHA-256 key hash of an encrypted VHD (see KeyHash),
	// with the nonce it was computed with.
	KeyHash, KeyHashNonce [32]byte
	// Parent names the parent of a differencing VHD or the backing file of
	// a qcow2 image.
	Parent string
	// LUKS is the embedded LUKS header of a qcow2+LUKS image, at
	// LUKSOffset (LUKSLength bytes).
	LUKS                   *luks.Header
	LUKSOffset, LUKSLength int64
}

// Inspect detects the format of the image r of the given size and reports
// its geometry. It validates the same structures Open does.
func Inspect(r io.ReaderAt, size int64) (*Info, error) {
	kind, err := sniff(r, size)
	if err != nil {
		return nil, err
	}
	info := &Info{FileSize: size}
	switch kind {
	case sniffVHD:
		v, err := parseVHD(r, size)
		if err != nil {
			return nil, err
		}
		info.Format, info.VirtualSize = v.format, v.size
		if v.format == VHDFixed {
			info.Allocated = v.size
			return info, nil
		}
		info.BlockSize = int64(v.header.blockSize)
		for _, e := range v.bat {
			if e != vhdUnused {
				info.Allocated += info.BlockSize
			}
		}
		if v.encrypted {
			info.Format = EncryptedVHD
			info.KeyHash, info.KeyHashNonce = v.keyHash, v.nonce
		}
		if v.format == VHDDifferencing {
			info.Parent = toSlash(v.header.parentName)
		}
		return info, nil
	case sniffQCOW2:
		q, err := parseQCOW2(r, size)
		if err != nil {
			return nil, err
		}
		info.Format, info.VirtualSize, info.BlockSize, info.QCOW2Version = QCOW2, q.size, q.clusterSize, int(q.version)
		info.Parent = q.backing
		if q.cryptMethod == qcowCryptLUKS {
			info.Format = QCOW2LUKS
			info.LUKSOffset, info.LUKSLength = int64(q.fdeOffset), int64(q.fdeLength)
			h, err := luks.ReadHeader(io.NewSectionReader(r, info.LUKSOffset, info.LUKSLength))
			if err != nil {
				return nil, err
			}
			info.LUKS = h
		}
		qi := newQCOWImpl(r, q, nil, info.Format)
		exts, err := qi.extents(context.Background())
		if err != nil {
			return nil, err
		}
		for _, e := range exts {
			if !e.Zero {
				info.Allocated += e.Length
			}
		}
		return info, nil
	}
	info.Format, info.VirtualSize, info.Allocated = Raw, size, size
	return info, nil
}
