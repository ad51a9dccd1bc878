package luks

import (
	"bytes"
	"crypto/subtle"
	"encoding/binary"
	"fmt"
	"strconv"

	"golang.org/x/crypto/pbkdf2"
)

// LUKS1 on-disk constants (LUKS On-Disk Format Specification 1.2.3).
const (
	header1Size     = 592
	numSlots1       = 8
	slotActive1     = 0x00AC71F3
	slotDisabled1   = 0x0000DEAD
	stripes         = 4000
	digestSize1     = 20
	saltSize        = 32
	sectorSize      = 512
	slotAlignment1  = 8    // sectors: key material starts on 4 KiB boundaries
	payloadAlign1   = 2048 // sectors: cryptsetup aligns the payload to 1 MiB
	maxVolumeKey    = 512  // bytes; generous, cryptsetup tops out at 512 too
	maxPayloadSects = 1 << 31
)

var (
	magic1 = []byte{'L', 'U', 'K', 'S', 0xba, 0xbe}
	magic2 = []byte{'S', 'K', 'U', 'L', 0xba, 0xbe}
)

type slot1 struct {
	active     uint32
	iterations uint32
	salt       [saltSize]byte
	offset     uint32 // sectors
	stripes    uint32
}

// header1 is the LUKS1 phdr.
type header1 struct {
	cipherName    string
	cipherMode    string
	hashSpec      string
	payloadOffset uint32 // sectors
	keyBytes      uint32
	mkDigest      [digestSize1]byte
	mkSalt        [saltSize]byte
	mkIter        uint32
	uuid          string
	slots         [numSlots1]slot1
}

func cstring(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}

// parseHeader1 decodes and checks a LUKS1 header: every slot, active or
// not, must be well formed, as cryptsetup requires.
func parseHeader1(b []byte) (*header1, error) {
	if len(b) < header1Size {
		return nil, corrupt("LUKS1 header truncated")
	}
	if !bytes.Equal(b[:6], magic1) {
		return nil, ErrNotLUKS
	}
	if v := binary.BigEndian.Uint16(b[6:]); v != 1 {
		return nil, unsupported("LUKS version " + strconv.Itoa(int(v)))
	}
	h := &header1{
		cipherName:    cstring(b[8:40]),
		cipherMode:    cstring(b[40:72]),
		hashSpec:      cstring(b[72:104]),
		payloadOffset: binary.BigEndian.Uint32(b[104:]),
		keyBytes:      binary.BigEndian.Uint32(b[108:]),
		mkIter:        binary.BigEndian.Uint32(b[164:]),
		uuid:          cstring(b[168:208]),
	}
	copy(h.mkDigest[:], b[112:132])
	copy(h.mkSalt[:], b[132:164])
	for i := range h.slots {
		o := 208 + 48*i
		s := &h.slots[i]
		s.active = binary.BigEndian.Uint32(b[o:])
		s.iterations = binary.BigEndian.Uint32(b[o+4:])
		copy(s.salt[:], b[o+8:o+40])
		s.offset = binary.BigEndian.Uint32(b[o+40:])
		s.stripes = binary.BigEndian.Uint32(b[o+44:])
	}
	return h, h.check()
}

func (h *header1) check() error {
	switch {
	case h.cipherName == "" || h.cipherMode == "":
		return corrupt("empty cipher name or mode")
	case h.hashSpec == "":
		return corrupt("empty hash spec")
	case h.keyBytes == 0 || h.keyBytes > maxVolumeKey:
		return corrupt(fmt.Sprintf("key size %d bytes", h.keyBytes))
	case h.mkIter == 0:
		return corrupt("volume key digest iterations 0")
	case h.payloadOffset > maxPayloadSects:
		return corrupt(fmt.Sprintf("payload offset %d sectors", h.payloadOffset))
	}
	area := h.slotSectors()
	for i := range h.slots {
		s := &h.slots[i]
		switch s.active {
		case slotActive1:
			if s.iterations == 0 {
				return corrupt(fmt.Sprintf("key slot %d: 0 iterations", i))
			}
		case slotDisabled1:
		default:
			return corrupt(fmt.Sprintf("key slot %d: state 0x%08x", i, s.active))
		}
		if s.stripes != stripes {
			return corrupt(fmt.Sprintf("key slot %d: %d stripes", i, s.stripes))
		}
		if uint64(s.offset)*sectorSize < header1Size {
			return corrupt(fmt.Sprintf("key slot %d: material offset %d overlaps the header", i, s.offset))
		}
		end := uint64(s.offset) + area
		if h.payloadOffset != 0 && end > uint64(h.payloadOffset) {
			return corrupt(fmt.Sprintf("key slot %d: material ends at sector %d, past the payload at %d", i, end, h.payloadOffset))
		}
		for j := range i {
			o := &h.slots[j]
			if uint64(s.offset) < uint64(o.offset)+area && uint64(o.offset) < end {
				return corrupt(fmt.Sprintf("key slots %d and %d overlap", j, i))
			}
		}
	}
	return nil
}

// slotSectors is the key material size of one slot, in sectors.
func (h *header1) slotSectors() uint64 {
	return (uint64(h.keyBytes)*stripes + sectorSize - 1) / sectorSize
}

func (h *header1) marshal() []byte {
	b := make([]byte, header1Size)
	copy(b, magic1)
	binary.BigEndian.PutUint16(b[6:], 1)
	copy(b[8:40], h.cipherName)
	copy(b[40:72], h.cipherMode)
	copy(b[72:104], h.hashSpec)
	binary.BigEndian.PutUint32(b[104:], h.payloadOffset)
	binary.BigEndian.PutUint32(b[108:], h.keyBytes)
	copy(b[112:132], h.mkDigest[:])
	copy(b[132:164], h.mkSalt[:])
	binary.BigEndian.PutUint32(b[164:], h.mkIter)
	copy(b[168:208], h.uuid)
	for i := range h.slots {
		o := 208 + 48*i
		s := &h.slots[i]
		binary.BigEndian.PutUint32(b[o:], s.active)
		binary.BigEndian.PutUint32(b[o+4:], s.iterations)
		copy(b[o+8:o+40], s.salt[:])
		binary.BigEndian.PutUint32(b[o+40:], s.offset)
		binary.BigEndian.PutUint32(b[o+44:], s.stripes)
	}
	return b
}

func (h *header1) header() *Header {
	out := &Header{
		Version:          1,
		Cipher:           h.cipherName,
		Mode:             h.cipherMode,
		Hash:             h.hashSpec,
		KeyBytes:         int(h.keyBytes),
		PayloadOffset:    int64(h.payloadOffset) * sectorSize,
		SectorSize:       sectorSize,
		UUID:             h.uuid,
		DigestIterations: h.mkIter,
	}
	for _, s := range h.slotInfos() {
		k := KeySlot{Index: s.index, Active: s.active, Stripes: s.stripes, Offset: s.offset, Size: s.size}
		if s.active {
			k.KDF, k.Hash, k.AFHash, k.Iterations = "pbkdf2", s.kdf.Hash, s.afHash, s.kdf.Iterations
		}
		out.KeySlots = append(out.KeySlots, k)
	}
	return out
}

func (h *header1) slotInfos() []slotInfo {
	out := make([]slotInfo, 0, numSlots1)
	for i := range h.slots {
		s := &h.slots[i]
		out = append(out, slotInfo{
			index:    i,
			active:   s.active == slotActive1,
			kdf:      kdf{Type: "pbkdf2", Hash: h.hashSpec, Iterations: s.iterations, Salt: s.salt[:]},
			stripes:  int(s.stripes),
			afHash:   h.hashSpec,
			offset:   int64(s.offset) * sectorSize,
			size:     int64(h.slotSectors()) * sectorSize,
			cipher:   h.cipherName,
			mode:     h.cipherMode,
			keyBytes: int(h.keyBytes),
		})
	}
	return out
}

func (h *header1) volumeKeyBytes() int { return int(h.keyBytes) }

// verify checks a candidate volume key against the header digest.
func (h *header1) verify(vk []byte, _ int) (bool, error) {
	hf, err := hashFunc(h.hashSpec)
	if err != nil {
		return false, err
	}
	d := pbkdf2.Key(vk, h.mkSalt[:], int(h.mkIter), digestSize1, hf)
	return subtle.ConstantTimeCompare(d, h.mkDigest[:]) == 1, nil
}

func (h *header1) segment() segment {
	return segment{
		offset:     int64(h.payloadOffset) * sectorSize,
		sectorSize: sectorSize,
		cipher:     h.cipherName,
		mode:       h.cipherMode,
	}
}
