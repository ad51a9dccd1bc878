package luks

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/crypto/pbkdf2"
)

// LUKS2 on-disk constants (LUKS2 On-Disk Format Specification 1.1.x) and
// cryptsetup 2.6 defaults.
const (
	binHeader2Size      = 4096
	defaultHdrSize2     = 0x4000         // binary header + 12 KiB JSON
	minHdrSize2         = 0x4000         // 16 KiB
	maxHdrSize2         = 0x400000       // 4 MiB
	defaultKeyslotsSize = 16744448       // 16 MiB − 2×16 KiB
	dataOffset2         = 16 << 20       // default segment offset
	maxSlots2           = 32             // LUKS2_KEYSLOTS_MAX
	areaAlign2          = 4096           // keyslot areas are 4 KiB aligned
	maxKeyslotsSize     = 128 << 20      // LUKS2_MAX_KEYSLOTS_SIZE
	maxSegmentOffset    = int64(1) << 50 // sanity bound for hostile input
	csumOffset2         = 448
)

// binHeader2 is one copy of the 4096-byte LUKS2 binary header.
type binHeader2 struct {
	hdrSize   uint64
	seqID     uint64
	label     string
	csumAlg   string
	uuid      string
	subsystem string
	hdrOffset uint64
}

// json2 is the LUKS2 JSON metadata; field order is cryptsetup's.
type json2 struct {
	Keyslots map[string]*keyslot2       `json:"keyslots"`
	Tokens   map[string]json.RawMessage `json:"tokens"`
	Segments map[string]*segment2       `json:"segments"`
	Digests  map[string]*digest2        `json:"digests"`
	Config   config2                    `json:"config"`
}

type keyslot2 struct {
	Type     string `json:"type"`
	KeySize  int    `json:"key_size"`
	AF       af2    `json:"af"`
	Area     area2  `json:"area"`
	KDF      kdf2   `json:"kdf"`
	Priority *int   `json:"priority,omitempty"`
}

type af2 struct {
	Type    string `json:"type"`
	Stripes int    `json:"stripes"`
	Hash    string `json:"hash"`
}

type area2 struct {
	Type       string `json:"type"`
	Offset     uint64 `json:"offset,string"`
	Size       uint64 `json:"size,string"`
	Encryption string `json:"encryption"`
	KeySize    int    `json:"key_size"`
}

type kdf2 struct {
	Type       string `json:"type"`
	Hash       string `json:"hash,omitempty"`
	Iterations uint32 `json:"iterations,omitempty"`
	Time       uint32 `json:"time,omitempty"`
	Memory     uint32 `json:"memory,omitempty"`
	CPUs       uint32 `json:"cpus,omitempty"`
	Salt       []byte `json:"salt"`
}

type segment2 struct {
	Type       string          `json:"type"`
	Offset     uint64          `json:"offset,string"`
	Size       string          `json:"size"`
	IVTweak    uint64          `json:"iv_tweak,string"`
	Encryption string          `json:"encryption"`
	SectorSize int             `json:"sector_size"`
	Integrity  json.RawMessage `json:"integrity,omitempty"`
	Flags      []string        `json:"flags,omitempty"`
}

type digest2 struct {
	Type       string   `json:"type"`
	Keyslots   []string `json:"keyslots"`
	Segments   []string `json:"segments"`
	Hash       string   `json:"hash"`
	Iterations uint32   `json:"iterations"`
	Salt       []byte   `json:"salt"`
	Digest     []byte   `json:"digest"`
}

type config2 struct {
	JSONSize     uint64          `json:"json_size,string"`
	KeyslotsSize uint64          `json:"keyslots_size,string"`
	Flags        []string        `json:"flags,omitempty"`
	Requirements json.RawMessage `json:"requirements,omitempty"`
}

// header2 is a parsed LUKS2 header (the newer of the two valid copies).
type header2 struct {
	bin binHeader2
	js  json2
}

func parseBinHeader2(b []byte, wantMagic []byte) (binHeader2, error) {
	var h binHeader2
	if !bytes.Equal(b[:6], wantMagic) {
		return h, ErrNotLUKS
	}
	if v := binary.BigEndian.Uint16(b[6:]); v != 2 {
		return h, corrupt(fmt.Sprintf("LUKS2 header copy has version %d", v))
	}
	h.hdrSize = binary.BigEndian.Uint64(b[8:])
	h.seqID = binary.BigEndian.Uint64(b[16:])
	h.label = cstring(b[24:72])
	h.csumAlg = cstring(b[72:104])
	h.uuid = cstring(b[168:208])
	h.subsystem = cstring(b[208:256])
	h.hdrOffset = binary.BigEndian.Uint64(b[256:])
	if h.hdrSize < minHdrSize2 || h.hdrSize > maxHdrSize2 || h.hdrSize&(h.hdrSize-1) != 0 {
		return h, corrupt(fmt.Sprintf("LUKS2 header size %d", h.hdrSize))
	}
	return h, nil
}

// readCopy reads and checksums the header copy at off; it returns the
// binary header and the JSON area.
func readCopy(r io.ReaderAt, off int64, wantMagic []byte) (binHeader2, []byte, error) {
	b := make([]byte, binHeader2Size)
	if _, err := r.ReadAt(b, off); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return binHeader2{}, nil, corrupt(fmt.Sprintf("LUKS2 header at %d truncated", off))
		}
		return binHeader2{}, nil, err
	}
	h, err := parseBinHeader2(b, wantMagic)
	if err != nil {
		return h, nil, err
	}
	if h.hdrOffset != uint64(off) {
		return h, nil, corrupt(fmt.Sprintf("LUKS2 header at %d claims offset %d", off, h.hdrOffset))
	}
	hf, err := hashFunc(h.csumAlg)
	if err != nil {
		return h, nil, err
	}
	js := make([]byte, h.hdrSize-binHeader2Size)
	if _, err := r.ReadAt(js, off+binHeader2Size); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return h, nil, corrupt(fmt.Sprintf("LUKS2 JSON area at %d truncated", off))
		}
		return h, nil, err
	}
	d := hf()
	want := bytes.Clone(b[csumOffset2 : csumOffset2+d.Size()])
	clear(b[csumOffset2 : csumOffset2+64])
	d.Write(b)
	d.Write(js)
	if subtle.ConstantTimeCompare(d.Sum(nil), want) != 1 {
		return h, nil, corrupt(fmt.Sprintf("LUKS2 header at %d fails its checksum", off))
	}
	return h, js, nil
}

// readHeader2 picks the valid header copy with the highest sequence id,
// looking for the secondary where the primary says or, when the primary is
// damaged, at every allowed header size, as cryptsetup does.
func readHeader2(r io.ReaderAt) (*header2, error) {
	pb, pjs, perr := readCopy(r, 0, magic1)
	offsets := []int64{}
	if perr == nil {
		offsets = append(offsets, int64(pb.hdrSize))
	} else {
		for s := int64(minHdrSize2); s <= maxHdrSize2; s *= 2 {
			offsets = append(offsets, s)
		}
	}
	var (
		sb   binHeader2
		sjs  []byte
		serr = error(corrupt("no secondary LUKS2 header"))
	)
	for _, off := range offsets {
		if sb, sjs, serr = readCopy(r, off, magic2); serr == nil {
			break
		}
	}
	bin, js := pb, pjs
	switch {
	case perr == nil && serr == nil:
		if sb.seqID > pb.seqID {
			bin, js = sb, sjs
		}
	case perr == nil:
	case serr == nil:
		bin, js = sb, sjs
	default:
		if !errors.Is(perr, ErrCorrupt) && !errors.Is(perr, ErrNotLUKS) {
			return nil, perr
		}
		return nil, fmt.Errorf("%w (secondary: %v)", perr, serr)
	}
	h := &header2{bin: bin}
	if i := bytes.IndexByte(js, 0); i >= 0 {
		js = js[:i]
	}
	if err := json.Unmarshal(js, &h.js); err != nil {
		return nil, corrupt("LUKS2 JSON: " + err.Error())
	}
	if err := h.check(); err != nil {
		return nil, err
	}
	return h, nil
}

func splitSpec(s string) (cipher, mode string) {
	cipher, mode, _ = strings.Cut(s, "-")
	return cipher, mode
}

func slotID(id string, limit int) (int, error) {
	n, err := strconv.Atoi(id)
	if err != nil || n < 0 || n >= limit || strconv.Itoa(n) != id {
		return 0, corrupt(fmt.Sprintf("LUKS2 object id %q", id))
	}
	return n, nil
}

// check validates the JSON metadata as far as reading and key management
// rely on it; unknown features are reported as unsupported.
func (h *header2) check() error {
	js := &h.js
	c := js.Config
	if c.JSONSize != h.bin.hdrSize-binHeader2Size {
		return corrupt(fmt.Sprintf("LUKS2 json_size %d for a header of %d", c.JSONSize, h.bin.hdrSize))
	}
	if c.KeyslotsSize > maxKeyslotsSize || c.KeyslotsSize%areaAlign2 != 0 {
		return corrupt(fmt.Sprintf("LUKS2 keyslots_size %d", c.KeyslotsSize))
	}
	if len(c.Requirements) > 0 && !bytes.Equal(c.Requirements, []byte("{}")) {
		return unsupported("LUKS2 requirements " + string(c.Requirements))
	}
	areaStart, areaEnd := 2*h.bin.hdrSize, 2*h.bin.hdrSize+c.KeyslotsSize
	if len(js.Segments) != 1 || js.Segments["0"] == nil {
		return unsupported(fmt.Sprintf("LUKS2 with %d data segments (interrupted reencryption?)", len(js.Segments)))
	}
	seg := js.Segments["0"]
	switch {
	case seg.Type != "crypt":
		return unsupported("LUKS2 segment type " + seg.Type)
	case len(seg.Integrity) > 0:
		return unsupported("LUKS2 integrity protection")
	case seg.SectorSize != 512 && seg.SectorSize != 1024 && seg.SectorSize != 2048 && seg.SectorSize != 4096:
		return corrupt(fmt.Sprintf("LUKS2 sector_size %d", seg.SectorSize))
	case seg.Offset%uint64(seg.SectorSize) != 0 || seg.Offset > uint64(maxSegmentOffset):
		return corrupt(fmt.Sprintf("LUKS2 segment offset %d", seg.Offset))
	case seg.Offset != 0 && seg.Offset < areaEnd:
		return corrupt(fmt.Sprintf("LUKS2 segment offset %d inside the metadata (ends at %d)", seg.Offset, areaEnd))
	case seg.Encryption == "":
		return corrupt("LUKS2 segment without encryption")
	}
	if seg.Size != "dynamic" {
		n, err := strconv.ParseUint(seg.Size, 10, 63)
		if err != nil || n%uint64(seg.SectorSize) != 0 {
			return corrupt(fmt.Sprintf("LUKS2 segment size %q", seg.Size))
		}
	}
	type span struct{ a, b uint64 }
	var areas []span
	for id, ks := range js.Keyslots {
		if ks == nil {
			return corrupt("LUKS2 keyslot " + id + " is null")
		}
		if _, err := slotID(id, maxSlots2); err != nil {
			return err
		}
		switch {
		case ks.Type != "luks2":
			return unsupported("LUKS2 keyslot type " + ks.Type)
		case ks.KeySize <= 0 || ks.KeySize > maxVolumeKey:
			return corrupt(fmt.Sprintf("LUKS2 keyslot %s key_size %d", id, ks.KeySize))
		case ks.AF.Type != "luks1" || ks.AF.Stripes <= 0 || ks.AF.Stripes > 1<<20:
			return corrupt(fmt.Sprintf("LUKS2 keyslot %s anti-forensic splitter %s/%d", id, ks.AF.Type, ks.AF.Stripes))
		case ks.Area.Type != "raw":
			return unsupported("LUKS2 keyslot area type " + ks.Area.Type)
		case ks.Area.KeySize <= 0 || ks.Area.KeySize > maxVolumeKey:
			return corrupt(fmt.Sprintf("LUKS2 keyslot %s area key_size %d", id, ks.Area.KeySize))
		case ks.Area.Offset < areaStart || ks.Area.Size > areaEnd || ks.Area.Offset > areaEnd-ks.Area.Size:
			return corrupt(fmt.Sprintf("LUKS2 keyslot %s area [%d, +%d) outside the keyslots area", id, ks.Area.Offset, ks.Area.Size))
		case uint64(materialSize(ks.KeySize, ks.AF.Stripes)) > ks.Area.Size:
			return corrupt(fmt.Sprintf("LUKS2 keyslot %s area too small", id))
		}
		for _, o := range areas {
			if ks.Area.Offset < o.b && o.a < ks.Area.Offset+ks.Area.Size {
				return corrupt("LUKS2 keyslot " + id + " area overlaps another")
			}
		}
		areas = append(areas, span{ks.Area.Offset, ks.Area.Offset + ks.Area.Size})
		k := ks.kdf()
		if err := k.validate(); err != nil {
			return fmt.Errorf("keyslot %s: %w", id, err)
		}
	}
	for id, d := range js.Digests {
		if d == nil {
			return corrupt("LUKS2 digest " + id + " is null")
		}
		if d.Type != "pbkdf2" {
			return unsupported("LUKS2 digest type " + d.Type)
		}
		if _, err := hashFunc(d.Hash); err != nil {
			return err
		}
		if d.Iterations == 0 || d.Iterations > maxKDFIterations || len(d.Digest) == 0 || len(d.Digest) > 64 {
			return corrupt("LUKS2 digest " + id)
		}
		for _, k := range d.Keyslots {
			if js.Keyslots[k] == nil {
				return corrupt("LUKS2 digest " + id + " names missing keyslot " + k)
			}
		}
	}
	return nil
}

func (ks *keyslot2) kdf() kdf {
	k := kdf{Type: ks.KDF.Type, Hash: ks.KDF.Hash, Salt: ks.KDF.Salt}
	if ks.KDF.Type == "pbkdf2" {
		k.Iterations = ks.KDF.Iterations
	} else {
		k.Iterations, k.MemoryKiB, k.Threads = ks.KDF.Time, ks.KDF.Memory, ks.KDF.CPUs
	}
	return k
}

// segmentDigest returns the digest that guards segment 0.
func (h *header2) segmentDigest() (string, *digest2) {
	for _, id := range sortedIDs(h.js.Digests) {
		d := h.js.Digests[id]
		for _, s := range d.Segments {
			if s == "0" {
				return id, d
			}
		}
	}
	return "", nil
}

func sortedIDs[V any](m map[string]V) []string {
	ids := make([]string, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool {
		a, _ := strconv.Atoi(ids[i])
		b, _ := strconv.Atoi(ids[j])
		return a < b
	})
	return ids
}

func (h *header2) volumeKeyBytes() int {
	_, d := h.segmentDigest()
	if d != nil {
		for _, k := range d.Keyslots {
			return h.js.Keyslots[k].KeySize
		}
	}
	return 0
}

func (h *header2) slotInfos() []slotInfo {
	_, d := h.segmentDigest()
	linked := map[string]bool{}
	if d != nil {
		for _, k := range d.Keyslots {
			linked[k] = true
		}
	}
	n := h.volumeKeyBytes()
	var out []slotInfo
	for _, id := range sortedIDs(h.js.Keyslots) {
		ks := h.js.Keyslots[id]
		i, _ := strconv.Atoi(id)
		c, m := splitSpec(ks.Area.Encryption)
		out = append(out, slotInfo{
			index:    i,
			active:   linked[id] && ks.KeySize == n,
			kdf:      ks.kdf(),
			stripes:  ks.AF.Stripes,
			afHash:   ks.AF.Hash,
			offset:   int64(ks.Area.Offset),
			size:     int64(ks.Area.Size),
			cipher:   c,
			mode:     m,
			keyBytes: ks.Area.KeySize,
		})
	}
	return out
}

func (h *header2) verify(vk []byte, slot int) (bool, error) {
	id := strconv.Itoa(slot)
	for _, did := range sortedIDs(h.js.Digests) {
		d := h.js.Digests[did]
		for _, k := range d.Keyslots {
			if k != id {
				continue
			}
			hf, err := hashFunc(d.Hash)
			if err != nil {
				return false, err
			}
			got := pbkdf2.Key(vk, d.Salt, int(d.Iterations), len(d.Digest), hf)
			return subtle.ConstantTimeCompare(got, d.Digest) == 1, nil
		}
	}
	return false, nil
}

func (h *header2) segment() segment {
	s := h.js.Segments["0"]
	c, m := splitSpec(s.Encryption)
	size, _ := strconv.ParseInt(s.Size, 10, 64) // "dynamic" gives 0
	return segment{offset: int64(s.Offset), size: size, sectorSize: s.SectorSize, ivTweak: s.IVTweak, cipher: c, mode: m}
}

func (h *header2) header() *Header {
	seg := h.segment()
	out := &Header{
		Version:       2,
		Cipher:        seg.cipher,
		Mode:          seg.mode,
		KeyBytes:      h.volumeKeyBytes(),
		PayloadOffset: seg.offset,
		PayloadSize:   seg.size,
		SectorSize:    seg.sectorSize,
		IVTweak:       seg.ivTweak,
		UUID:          h.bin.uuid,
		Label:         h.bin.label,
		Subsystem:     h.bin.subsystem,
		MetadataSize:  int64(h.bin.hdrSize),
		KeyslotsSize:  int64(h.js.Config.KeyslotsSize),
		Epoch:         h.bin.seqID,
	}
	if _, d := h.segmentDigest(); d != nil {
		out.Hash, out.DigestIterations = d.Hash, d.Iterations
	}
	for _, s := range h.slotInfos() {
		ks := h.js.Keyslots[strconv.Itoa(s.index)]
		out.KeySlots = append(out.KeySlots, KeySlot{
			Index: s.index, Active: s.active, KDF: s.kdf.Type, Hash: s.kdf.Hash, AFHash: s.afHash,
			Iterations: s.kdf.Iterations, MemoryKiB: s.kdf.MemoryKiB, Threads: s.kdf.Threads,
			Stripes: s.stripes, Offset: s.offset, Size: s.size, Encryption: ks.Area.Encryption,
		})
	}
	return out
}

// marshal returns both header copies (2×hdr_size bytes), each with a fresh
// salt and its own checksum, as cryptsetup writes them.
func (h *header2) marshal() ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // json-c does not escape <, > or &
	if err := enc.Encode(&h.js); err != nil {
		return nil, err
	}
	js := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	size := h.bin.hdrSize
	if uint64(len(js)) >= size-binHeader2Size {
		return nil, fmt.Errorf("luks: LUKS2 metadata of %d bytes does not fit the %d-byte JSON area", len(js), size-binHeader2Size)
	}
	if len(h.bin.label) >= 48 || len(h.bin.subsystem) >= 48 {
		return nil, errors.New("luks: LUKS2 label or subsystem longer than 47 bytes")
	}
	out := make([]byte, 2*size)
	for i, m := range [][]byte{magic1, magic2} {
		c := out[uint64(i)*size : uint64(i+1)*size]
		copy(c, m)
		binary.BigEndian.PutUint16(c[6:], 2)
		binary.BigEndian.PutUint64(c[8:], size)
		binary.BigEndian.PutUint64(c[16:], h.bin.seqID)
		copy(c[24:72], h.bin.label)
		copy(c[72:104], "sha256")
		if _, err := rand.Read(c[104:168]); err != nil {
			return nil, err
		}
		copy(c[168:208], h.bin.uuid)
		copy(c[208:256], h.bin.subsystem)
		binary.BigEndian.PutUint64(c[256:], uint64(i)*size)
		copy(c[binHeader2Size:], js)
		sum := sha256.Sum256(c)
		copy(c[csumOffset2:], sum[:])
	}
	h.bin.csumAlg = "sha256"
	return out, nil
}
