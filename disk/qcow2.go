package disk

import (
	"encoding/binary"
	"io"
	"strconv"
)

// qcow2 constants (QEMU docs/interop/qcow2.txt).
const (
	qcowMagic       = "QFI\xfb"
	qcowCryptNone   = 0
	qcowCryptAES    = 1
	qcowCryptLUKS   = 2
	qcowExtEnd      = 0
	qcowExtFDE      = 0x0537be77
	qcowExtBacking  = 0xe2792aca
	qcowV2HeaderLen = 72
	qcowV3HeaderLen = 104

	qcowOflagCopied     = 1 << 63
	qcowOflagCompressed = 1 << 62
	qcowOflagZero       = 1
	qcowOffsetMask      = 0x00fffffffffffe00

	// Incompatible feature bits.
	qcowIncDirty        = 1 << 0
	qcowIncCorrupt      = 1 << 1
	qcowIncDataFile     = 1 << 2
	qcowIncCompression  = 1 << 3
	qcowIncExtendedL2   = 1 << 4
	qcowIncKnown        = qcowIncDirty | qcowIncCorrupt | qcowIncDataFile | qcowIncCompression | qcowIncExtendedL2
	qcowMaxL1Bytes      = 32 << 20 // QEMU's QCOW_MAX_L1_SIZE
	qcowMaxHeaderExtLen = 1 << 20

	// QCOW2ClusterSize is the cluster size of the qcow2 images this package
	// writes (QEMU's default).
	QCOW2ClusterSize = 64 << 10
)

// qcowInfo is a parsed qcow2 header.
type qcowInfo struct {
	fileSize     int64
	version      uint32
	clusterBits  uint32
	clusterSize  int64
	size         int64
	cryptMethod  uint32
	l1Size       uint32
	l1Offset     uint64
	rtOffset     uint64
	rtClusters   uint32
	incompatible uint64
	refcountOrd  uint32
	headerLen    uint32
	compression  uint8
	fdeOffset    uint64
	fdeLength    uint64
	backing      string // backing file name, "" for none
	l1           []uint64
}

func parseQCOW2(r io.ReaderAt, size int64) (*qcowInfo, error) {
	const f = QCOW2
	if size < qcowV2HeaderLen {
		return nil, corrupt(f, "header", 0, "file of %d bytes is too small", size)
	}
	b := make([]byte, qcowV3HeaderLen+8)
	n, err := r.ReadAt(b, 0)
	if n < qcowV2HeaderLen {
		if err == nil || err == io.EOF {
			return nil, corrupt(f, "header", 0, "truncated")
		}
		return nil, err
	}
	q := &qcowInfo{fileSize: size}
	be := binary.BigEndian
	q.version = be.Uint32(b[4:])
	if q.version != 2 && q.version != 3 {
		return nil, &UnsupportedError{Format: f, Feature: "qcow2 version " + strconv.FormatUint(uint64(q.version), 10)}
	}
	if bo, bs := be.Uint64(b[8:]), be.Uint32(b[16:]); bo != 0 {
		// QEMU caps the name at 1023 bytes and keeps it in the first cluster.
		if bs == 0 || bs > 1023 || bo > uint64(size) || uint64(bs) > uint64(size)-bo {
			return nil, corrupt(f, "header", 8, "backing file name at %d (%d bytes) invalid or past the end of the file", bo, bs)
		}
		name := make([]byte, bs)
		if err := readFull(r, name, int64(bo), f, "backing file name"); err != nil {
			return nil, err
		}
		q.backing = string(name)
	}
	q.clusterBits = be.Uint32(b[20:])
	if q.clusterBits < 9 || q.clusterBits > 21 {
		return nil, corrupt(f, "header", 20, "cluster_bits %d out of range 9..21", q.clusterBits)
	}
	q.clusterSize = 1 << q.clusterBits
	vs := be.Uint64(b[24:])
	if vs > maxVirtualSize {
		return nil, corrupt(f, "header", 24, "virtual size %d is absurd", vs)
	}
	q.size = int64(vs)
	q.cryptMethod = be.Uint32(b[32:])
	switch q.cryptMethod {
	case qcowCryptNone, qcowCryptLUKS:
	case qcowCryptAES:
		return nil, &UnsupportedError{Format: f, Feature: "legacy qcow AES encryption (insecure)"}
	default:
		return nil, corrupt(f, "header", 32, "unknown crypt_method %d", q.cryptMethod)
	}
	q.l1Size = be.Uint32(b[36:])
	q.l1Offset = be.Uint64(b[40:])
	q.rtOffset = be.Uint64(b[48:])
	q.rtClusters = be.Uint32(b[56:])
	q.refcountOrd = 4
	q.headerLen = qcowV2HeaderLen
	if q.version == 3 {
		if n < qcowV3HeaderLen {
			return nil, corrupt(f, "header", 0, "truncated v3 header")
		}
		q.incompatible = be.Uint64(b[72:])
		q.refcountOrd = be.Uint32(b[96:])
		q.headerLen = be.Uint32(b[100:])
		if q.headerLen < qcowV3HeaderLen || q.headerLen%8 != 0 || int64(q.headerLen) > q.clusterSize {
			return nil, corrupt(f, "header", 100, "header_length %d invalid", q.headerLen)
		}
		if q.headerLen > qcowV3HeaderLen && n > qcowV3HeaderLen {
			q.compression = b[104]
		}
		if q.refcountOrd > 6 {
			return nil, corrupt(f, "header", 96, "refcount_order %d > 6", q.refcountOrd)
		}
	}
	switch inc := q.incompatible; {
	case inc&^qcowIncKnown != 0:
		return nil, &UnsupportedError{Format: f, Feature: "unknown incompatible features 0x" + strconv.FormatUint(inc&^qcowIncKnown, 16)}
	case inc&qcowIncCorrupt != 0:
		return nil, corrupt(f, "header", 72, "image is marked corrupt by QEMU")
	case inc&qcowIncDataFile != 0:
		return nil, &UnsupportedError{Format: f, Feature: "external data file"}
	case inc&qcowIncExtendedL2 != 0:
		return nil, &UnsupportedError{Format: f, Feature: "extended L2 entries (subclusters)"}
	case inc&qcowIncCompression != 0 && q.compression != 0:
		return nil, &UnsupportedError{Format: f, Feature: "zstd compression"}
	}
	// L1 table: bounded by QEMU's own limit and by the file.
	need := (q.size + q.clusterSize*(q.clusterSize/8) - 1) / (q.clusterSize * (q.clusterSize / 8))
	if int64(q.l1Size) < need {
		return nil, corrupt(f, "header", 36, "l1_size %d cannot map %d bytes", q.l1Size, q.size)
	}
	l1Bytes := int64(q.l1Size) * 8
	if l1Bytes > qcowMaxL1Bytes {
		return nil, corrupt(f, "header", 36, "l1_size %d exceeds QEMU's limit", q.l1Size)
	}
	if q.l1Offset%uint64(q.clusterSize) != 0 && need > 0 {
		return nil, corrupt(f, "header", 40, "L1 table offset %d not cluster aligned", q.l1Offset)
	}
	if q.l1Offset > uint64(size) || uint64(need*8) > uint64(size)-q.l1Offset {
		return nil, corrupt(f, "L1 table", int64(q.l1Offset), "runs past the end of the file")
	}
	if err := q.parseExtensions(r); err != nil {
		return nil, err
	}
	raw := make([]byte, need*8)
	if err := readFull(r, raw, int64(q.l1Offset), f, "L1 table"); err != nil {
		return nil, err
	}
	q.l1 = make([]uint64, need)
	for i := range q.l1 {
		e := be.Uint64(raw[8*i:])
		q.l1[i] = e
		if off := e & qcowOffsetMask; off != 0 {
			if off%uint64(q.clusterSize) != 0 || off > uint64(size-q.clusterSize) {
				return nil, corrupt(f, "L1 entry", int64(q.l1Offset)+8*int64(i), "L2 table offset %d unaligned or past the end of the file", off)
			}
		}
	}
	return q, nil
}

// parseExtensions walks the header extensions, keeping the encryption one.
func (q *qcowInfo) parseExtensions(r io.ReaderAt) error {
	const f = QCOW2
	off := int64(q.headerLen)
	end := min(q.clusterSize, q.fileSize)
	var h [8]byte
	for off+8 <= end {
		if err := readFull(r, h[:], off, f, "header extension"); err != nil {
			return err
		}
		typ := binary.BigEndian.Uint32(h[:])
		n := int64(binary.BigEndian.Uint32(h[4:]))
		if typ == qcowExtEnd {
			break
		}
		if n > qcowMaxHeaderExtLen || off+8+n > end {
			return corrupt(f, "header extension", off, "length %d runs past the header cluster", n)
		}
		if typ == qcowExtFDE {
			if n != 16 {
				return corrupt(f, "encryption header extension", off, "length %d, want 16", n)
			}
			var d [16]byte
			if err := readFull(r, d[:], off+8, f, "encryption header extension"); err != nil {
				return err
			}
			q.fdeOffset = binary.BigEndian.Uint64(d[:])
			q.fdeLength = binary.BigEndian.Uint64(d[8:])
		}
		off += 8 + roundUp(n, 8)
	}
	if q.cryptMethod == qcowCryptLUKS {
		if q.fdeLength == 0 || q.fdeOffset%uint64(q.clusterSize) != 0 || q.fdeOffset > uint64(q.fileSize) || q.fdeLength > uint64(q.fileSize)-q.fdeOffset {
			return corrupt(f, "encryption header extension", -1, "LUKS header at %d (+%d) missing, unaligned or past the end of the file", q.fdeOffset, q.fdeLength)
		}
	}
	return nil
}
