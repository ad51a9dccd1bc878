package disk

import (
	"encoding/binary"
	"io"
	"time"
	"unicode/utf16"
)

// VHD constants (Microsoft VHD specification, blktap conventions).
const (
	vhdCookie       = "conectix"
	vhdDynCookie    = "cxsparse"
	vhdBatmapCookie = "tdbatmap"
	vhdFooterSize   = 512
	vhdHeaderSize   = 1024
	vhdTypeFixed    = 2
	vhdTypeDynamic  = 3
	vhdTypeDiff     = 4
	vhdUnused       = 0xFFFFFFFF
	// VHDBlockSize is the block size of the dynamic VHDs this package writes
	// (and the only one blktap uses).
	VHDBlockSize = 2 << 20

	vhdVersion       = 0x00010000
	vhdTapVersion    = 0x00010003 // creator version of blktap with batmap and keyhash
	vhdBatmapVersion = 0x00010002
	// maxVirtualSize bounds sizes read from headers so hostile images cannot
	// ask for absurd tables (64 TiB; VHD itself stops at 2 TiB).
	maxVirtualSize = 64 << 40
	maxVHDBlock    = 256 << 20
)

// vhdEpoch is the VHD timestamp origin.
var vhdEpoch = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

type vhdFooter struct {
	features   uint32
	version    uint32
	dataOffset uint64
	timestamp  uint32
	creatorApp [4]byte
	creatorVer uint32
	creatorOS  uint32
	origSize   uint64
	curSize    uint64
	cyl        uint16
	heads      uint8
	spt        uint8
	diskType   uint32
	uuid       [16]byte
}

// vhdChecksum is the one's complement of the byte sum, skipping the 4-byte
// checksum field at skip (-1 for none).
func vhdChecksum(b []byte, skip int) uint32 {
	var s uint32
	for i, c := range b {
		if skip >= 0 && i >= skip && i < skip+4 {
			continue
		}
		s += uint32(c)
	}
	return ^s
}

func parseVHDFooter(b []byte, off int64) (vhdFooter, error) {
	var f vhdFooter
	if string(b[:8]) != vhdCookie {
		return f, corrupt(VHDFixed, "footer", off, "missing %q cookie", vhdCookie)
	}
	if got, want := binary.BigEndian.Uint32(b[64:]), vhdChecksum(b[:vhdFooterSize], 64); got != want {
		return f, corrupt(VHDFixed, "footer checksum", off, "stored %#08x, computed %#08x", got, want)
	}
	f.features = binary.BigEndian.Uint32(b[8:])
	f.version = binary.BigEndian.Uint32(b[12:])
	f.dataOffset = binary.BigEndian.Uint64(b[16:])
	f.timestamp = binary.BigEndian.Uint32(b[24:])
	copy(f.creatorApp[:], b[28:32])
	f.creatorVer = binary.BigEndian.Uint32(b[32:])
	f.creatorOS = binary.BigEndian.Uint32(b[36:])
	f.origSize = binary.BigEndian.Uint64(b[40:])
	f.curSize = binary.BigEndian.Uint64(b[48:])
	f.cyl = binary.BigEndian.Uint16(b[56:])
	f.heads = b[58]
	f.spt = b[59]
	f.diskType = binary.BigEndian.Uint32(b[60:])
	copy(f.uuid[:], b[68:84])
	return f, nil
}

func (f *vhdFooter) marshal() []byte {
	b := make([]byte, vhdFooterSize)
	copy(b, vhdCookie)
	binary.BigEndian.PutUint32(b[8:], f.features)
	binary.BigEndian.PutUint32(b[12:], f.version)
	binary.BigEndian.PutUint64(b[16:], f.dataOffset)
	binary.BigEndian.PutUint32(b[24:], f.timestamp)
	copy(b[28:32], f.creatorApp[:])
	binary.BigEndian.PutUint32(b[32:], f.creatorVer)
	binary.BigEndian.PutUint32(b[36:], f.creatorOS)
	binary.BigEndian.PutUint64(b[40:], f.origSize)
	binary.BigEndian.PutUint64(b[48:], f.curSize)
	binary.BigEndian.PutUint16(b[56:], f.cyl)
	b[58] = f.heads
	b[59] = f.spt
	binary.BigEndian.PutUint32(b[60:], f.diskType)
	copy(b[68:84], f.uuid[:])
	binary.BigEndian.PutUint32(b[64:], vhdChecksum(b, 64))
	return b
}

// newVHDFooter fills a blktap-style footer for a disk of size bytes.
func newVHDFooter(size int64, diskType uint32, uuid [16]byte, now time.Time) vhdFooter {
	f := vhdFooter{
		features:   2,
		version:    vhdVersion,
		dataOffset: vhdFooterSize,
		creatorApp: [4]byte{'t', 'a', 'p', 0},
		creatorVer: vhdTapVersion,
		creatorOS:  0x556e6978, // "Unix"
		origSize:   uint64(size),
		curSize:    uint64(size),
		diskType:   diskType,
		uuid:       uuid,
	}
	if diskType == vhdTypeFixed {
		f.dataOffset = ^uint64(0)
	}
	if now.After(vhdEpoch) {
		f.timestamp = uint32(now.Sub(vhdEpoch) / time.Second)
	}
	f.cyl, f.heads, f.spt = chsGeometry(size)
	return f
}

// chsGeometry is the CHS algorithm of the VHD specification (appendix).
func chsGeometry(size int64) (cyl uint16, heads, spt uint8) {
	total := size / SectorSize
	if total > 65535*16*255 {
		total = 65535 * 16 * 255
	}
	var s, h, cth int64
	if total >= 65535*16*63 {
		s, h = 255, 16
		cth = total / s
	} else {
		s = 17
		cth = total / s
		h = (cth + 1023) / 1024
		if h < 4 {
			h = 4
		}
		if cth >= h*1024 || h > 16 {
			s, h = 31, 16
			cth = total / s
		}
		if cth >= h*1024 {
			s, h = 63, 16
			cth = total / s
		}
	}
	return uint16(cth / h), uint8(h), uint8(s)
}

type vhdLocator struct {
	code   uint32
	space  uint32
	length uint32
	offset uint64
}

type vhdHeader struct {
	tableOffset uint64
	maxEntries  uint32
	blockSize   uint32
	parentUUID  [16]byte
	parentName  string
	locators    [8]vhdLocator
}

func parseVHDHeader(b []byte, off int64) (vhdHeader, error) {
	var h vhdHeader
	if string(b[:8]) != vhdDynCookie {
		return h, corrupt(VHDDynamic, "dynamic header", off, "missing %q cookie", vhdDynCookie)
	}
	if got, want := binary.BigEndian.Uint32(b[36:]), vhdChecksum(b[:vhdHeaderSize], 36); got != want {
		return h, corrupt(VHDDynamic, "dynamic header checksum", off, "stored %#08x, computed %#08x", got, want)
	}
	h.tableOffset = binary.BigEndian.Uint64(b[16:])
	h.maxEntries = binary.BigEndian.Uint32(b[28:])
	h.blockSize = binary.BigEndian.Uint32(b[32:])
	copy(h.parentUUID[:], b[40:56])
	h.parentName = utf16String(b[64:576], true)
	for i := range h.locators {
		e := b[576+24*i:]
		h.locators[i] = vhdLocator{
			code:   binary.BigEndian.Uint32(e),
			space:  binary.BigEndian.Uint32(e[4:]),
			length: binary.BigEndian.Uint32(e[8:]),
			offset: binary.BigEndian.Uint64(e[16:]),
		}
	}
	return h, nil
}

func (h *vhdHeader) marshal() []byte {
	b := make([]byte, vhdHeaderSize)
	copy(b, vhdDynCookie)
	binary.BigEndian.PutUint64(b[8:], ^uint64(0))
	binary.BigEndian.PutUint64(b[16:], h.tableOffset)
	binary.BigEndian.PutUint32(b[24:], vhdVersion)
	binary.BigEndian.PutUint32(b[28:], h.maxEntries)
	binary.BigEndian.PutUint32(b[32:], h.blockSize)
	binary.BigEndian.PutUint32(b[36:], vhdChecksum(b, 36))
	return b
}

// utf16String decodes NUL-terminated UTF-16 (big- or little-endian).
func utf16String(b []byte, bigEndian bool) string {
	u := make([]uint16, 0, len(b)/2)
	for i := 0; i+1 < len(b); i += 2 {
		var c uint16
		if bigEndian {
			c = binary.BigEndian.Uint16(b[i:])
		} else {
			c = binary.LittleEndian.Uint16(b[i:])
		}
		if c == 0 {
			break
		}
		u = append(u, c)
	}
	return string(utf16.Decode(u))
}

// Parent locator platform codes.
const (
	plW2ku = 0x57326B75 // absolute Windows path, UTF-16LE
	plW2ru = 0x57327275 // relative Windows path, UTF-16LE
	plMacX = 0x4D616358 // file:// URL, UTF-8
)

// readLocators decodes the parent locators we understand, relative first.
func (h *vhdHeader) readLocators(r io.ReaderAt, size int64) []string {
	var rel, abs []string
	for _, l := range h.locators {
		if l.length == 0 || l.length > 64<<10 || l.offset > uint64(size) || uint64(size)-l.offset < uint64(l.length) {
			continue
		}
		b := make([]byte, l.length)
		if _, err := r.ReadAt(b, int64(l.offset)); err != nil && err != io.EOF {
			continue
		}
		var p string
		switch l.code {
		case plW2ru, plW2ku:
			p = utf16String(b, false)
		case plMacX:
			p = string(b)
			if len(p) > 7 && p[:7] == "file://" {
				p = p[7:]
			}
		default:
			continue
		}
		p = toSlash(p)
		if l.code == plW2ru {
			rel = append(rel, p)
		} else {
			abs = append(abs, p)
		}
	}
	return append(rel, abs...)
}

// toSlash turns the Windows separators of locators into slashes and drops
// a "./" prefix.
func toSlash(p string) string {
	b := []byte(p)
	for i := range b {
		if b[i] == '\\' {
			b[i] = '/'
		}
	}
	s := string(b)
	for len(s) > 2 && s[:2] == "./" {
		s = s[2:]
	}
	return s
}
