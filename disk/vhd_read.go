package disk

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"strings"
)

// vhdInfo is a parsed VHD: footer, and for sparse disks header, BAT and
// batmap header.
type vhdInfo struct {
	fileSize   int64
	footer     vhdFooter
	header     vhdHeader
	format     Format
	size       int64    // virtual size
	bat        []uint32 // one entry per block of the virtual size
	bitmapSize int64    // bytes before each block's data

	hasBatmap bool
	encrypted bool
	nonce     [32]byte
	keyHash   [32]byte
}

func parseVHD(r io.ReaderAt, size int64) (*vhdInfo, error) {
	if size < vhdFooterSize {
		return nil, corrupt(VHDFixed, "footer", 0, "file of %d bytes is too small", size)
	}
	buf := make([]byte, vhdHeaderSize)
	v := &vhdInfo{fileSize: size}
	// The footer at the end is authoritative; a sparse disk also keeps a
	// copy at 0, which QEMU falls back to when the tail is damaged.
	if err := readFull(r, buf[:vhdFooterSize], size-vhdFooterSize, VHDFixed, "footer"); err != nil {
		return nil, err
	}
	f, err := parseVHDFooter(buf, size-vhdFooterSize)
	if err != nil {
		if err2 := readFull(r, buf[:vhdFooterSize], 0, VHDDynamic, "footer copy"); err2 != nil {
			return nil, err
		}
		f2, err2 := parseVHDFooter(buf, 0)
		if err2 != nil || f2.diskType == vhdTypeFixed {
			return nil, err
		}
		f = f2
	}
	v.footer = f
	if f.curSize > maxVirtualSize {
		return nil, corrupt(VHDFixed, "footer", size-vhdFooterSize, "virtual size %d is absurd", f.curSize)
	}
	v.size = int64(f.curSize)
	switch f.diskType {
	case vhdTypeFixed:
		v.format = VHDFixed
		if v.size > size-vhdFooterSize {
			return nil, corrupt(VHDFixed, "footer", size-vhdFooterSize, "virtual size %d exceeds the %d data bytes of the file", v.size, size-vhdFooterSize)
		}
		return v, nil
	case vhdTypeDynamic:
		v.format = VHDDynamic
	case vhdTypeDiff:
		v.format = VHDDifferencing
	default:
		return nil, corrupt(VHDFixed, "footer", size-vhdFooterSize, "unknown disk type %d", f.diskType)
	}
	if f.dataOffset > uint64(size-vhdHeaderSize) || size < vhdHeaderSize {
		return nil, corrupt(v.format, "footer", size-vhdFooterSize, "dynamic header offset %d past the end of the file", f.dataOffset)
	}
	if err := readFull(r, buf, int64(f.dataOffset), v.format, "dynamic header"); err != nil {
		return nil, err
	}
	h, err := parseVHDHeader(buf, int64(f.dataOffset))
	if err != nil {
		return nil, err
	}
	v.header = h
	bs := int64(h.blockSize)
	if bs < SectorSize || bs%SectorSize != 0 || bs > maxVHDBlock {
		return nil, corrupt(v.format, "dynamic header", int64(f.dataOffset), "bad block size %d", bs)
	}
	blocks := (v.size + bs - 1) / bs
	if int64(h.maxEntries) < blocks {
		return nil, corrupt(v.format, "dynamic header", int64(f.dataOffset), "%d BAT entries cannot map %d blocks", h.maxEntries, blocks)
	}
	batBytes := int64(h.maxEntries) * 4
	if h.tableOffset > uint64(size) || batBytes > size-int64(h.tableOffset) {
		return nil, corrupt(v.format, "BAT", int64(h.tableOffset), "%d entries run past the end of the file", h.maxEntries)
	}
	v.bitmapSize = roundUp((bs/SectorSize+7)/8, SectorSize)
	raw := make([]byte, blocks*4)
	if err := readFull(r, raw, int64(h.tableOffset), v.format, "BAT"); err != nil {
		return nil, err
	}
	v.bat = make([]uint32, blocks)
	for i := range v.bat {
		e := binary.BigEndian.Uint32(raw[4*i:])
		v.bat[i] = e
		if e == vhdUnused {
			continue
		}
		if end := int64(e)*SectorSize + v.bitmapSize + bs; end > size {
			return nil, corrupt(v.format, "BAT entry", int64(h.tableOffset)+4*int64(i), "block %d at sector %d ends at %d, past the end of the file (%d)", i, e, end, size)
		}
	}
	if err := v.parseBatmap(r); err != nil {
		return nil, err
	}
	return v, nil
}

// parseBatmap reads blktap's batmap header, which follows the BAT and
// carries the key hash of encrypted disks. Only tapdisk-created files
// (creator "tap", version ≥ 1.2) have one.
func (v *vhdInfo) parseBatmap(r io.ReaderAt) error {
	f := v.footer
	if !strings.HasPrefix(string(f.creatorApp[:]), "tap") || f.creatorVer < vhdBatmapVersion {
		return nil
	}
	off := int64(v.header.tableOffset) + roundUp(int64(v.header.maxEntries)*4, SectorSize)
	if off+SectorSize > v.fileSize {
		return nil
	}
	b := make([]byte, SectorSize)
	if err := readFull(r, b, off, v.format, "batmap header"); err != nil {
		return err
	}
	if string(b[:8]) != vhdBatmapCookie {
		return nil
	}
	v.hasBatmap = true
	mapOff := binary.BigEndian.Uint64(b[8:])
	mapSecs := binary.BigEndian.Uint32(b[16:])
	sum := binary.BigEndian.Uint32(b[24:])
	need := (int64(len(v.bat)) + 7) / 8
	mapBytes := int64(mapSecs) * SectorSize
	if mapBytes < need || mapOff > uint64(v.fileSize) || mapBytes > v.fileSize-int64(mapOff) {
		return corrupt(v.format, "batmap header", off, "batmap of %d sectors at %d does not fit the file or the BAT", mapSecs, mapOff)
	}
	m := make([]byte, mapBytes)
	if err := readFull(r, m, int64(mapOff), v.format, "batmap"); err != nil {
		return err
	}
	if got := vhdChecksum(m, -1); got != sum {
		return corrupt(v.format, "batmap checksum", int64(mapOff), "stored %#08x, computed %#08x", sum, got)
	}
	if b[29] == 1 {
		v.encrypted = true
		copy(v.nonce[:], b[30:62])
		copy(v.keyHash[:], b[62:94])
	}
	return nil
}

// open builds the virtual disk; c decrypts sectors of an encrypted VHD.
func (v *vhdInfo) open(r io.ReaderAt, c sectorCipher, o *openOptions) (Disk, error) {
	d := &image{size: v.size, format: v.format}
	if c != nil {
		d.format = EncryptedVHD
	}
	if v.format == VHDFixed {
		d.impl = rawImpl{r: r, size: v.size}
		return d, nil
	}
	vi := &vhdImpl{r: r, v: v, c: c}
	if v.format == VHDDifferencing {
		ref := ParentRef{Name: toSlash(v.header.parentName), UUID: v.header.parentUUID, Locators: v.header.readLocators(r, v.fileSize)}
		p, closer, err := openParent(ref, o, func(p Disk) error {
			if pv, ok := p.(*image).impl.(*vhdImpl); ok && pv.v.footer.uuid != v.header.parentUUID {
				return fmt.Errorf("%w: %q has uuid %x, the child expects %x", ErrNoParent, ref.Name, pv.v.footer.uuid, v.header.parentUUID)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		vi.parent = p
		d.closers = append(d.closers, p)
		if closer != nil {
			d.closers = append(d.closers, closer)
		}
	}
	d.impl = vi
	return d, nil
}

type vhdImpl struct {
	r      io.ReaderAt
	v      *vhdInfo
	c      sectorCipher // nil unless encrypted
	parent Disk         // differencing only
}

func (d *vhdImpl) readAt(p []byte, off int64) error {
	if d.c != nil && (off%SectorSize != 0 || len(p)%SectorSize != 0) {
		return readAligned(d.readAt, p, off)
	}
	bs := int64(d.v.header.blockSize)
	for len(p) > 0 {
		blk := off / bs
		in := off % bs
		n := int64(len(p))
		if n > bs-in {
			n = bs - in
		}
		if err := d.readBlock(p[:n], blk, in); err != nil {
			return err
		}
		p = p[n:]
		off += n
	}
	return nil
}

// readBlock reads p from offset in of block blk.
func (d *vhdImpl) readBlock(p []byte, blk, in int64) error {
	bs := int64(d.v.header.blockSize)
	e := d.v.bat[blk]
	if e == vhdUnused {
		if d.parent != nil {
			return readParent(d.parent, p, blk*bs+in)
		}
		clear(p)
		return nil
	}
	base := int64(e)*SectorSize + d.v.bitmapSize
	if d.parent == nil {
		// Dynamic disks: like QEMU, trust the BAT and read the data; the
		// sector bitmap only matters when there is a parent to fall back on.
		if err := readFull(d.r, p, base+in, d.v.format, "block data"); err != nil {
			return err
		}
		if d.c != nil {
			// A block never straddles a multiple of 2^32 sectors (blocks
			// are aligned powers of two), so the truncated "plain" tweak
			// counts up without wrapping inside p.
			lba := (blk*bs + in) / SectorSize
			d.c.DecryptUnits(p, p, SectorSize, uint64(uint32(lba)), 1)
		}
		return nil
	}
	bm := make([]byte, d.v.bitmapSize)
	if err := readFull(d.r, bm, int64(e)*SectorSize, d.v.format, "sector bitmap"); err != nil {
		return err
	}
	// Walk runs of sectors that are present (bit set) or inherited.
	for len(p) > 0 {
		sec := in / SectorSize
		present := bm[sec/8]&(0x80>>(sec%8)) != 0
		end := (sec + 1) * SectorSize
		for end < bs && end-in < int64(len(p)) {
			s := end / SectorSize
			if (bm[s/8]&(0x80>>(s%8)) != 0) != present {
				break
			}
			end += SectorSize
		}
		n := end - in
		if n > int64(len(p)) {
			n = int64(len(p))
		}
		var err error
		if present {
			err = readFull(d.r, p[:n], base+in, d.v.format, "block data")
		} else {
			err = readParent(d.parent, p[:n], blk*bs+in)
		}
		if err != nil {
			return err
		}
		p = p[n:]
		in += n
	}
	return nil
}

// readParent reads from a parent that may be smaller than the child.
func readParent(parent Disk, p []byte, off int64) error {
	n, err := parent.ReadAt(p, off)
	if n == len(p) {
		return nil
	}
	if err == io.EOF || (err == nil && n < len(p)) {
		clear(p[n:])
		return nil
	}
	return err
}

func (d *vhdImpl) extents(ctx context.Context) ([]Extent, error) {
	var parent []Extent
	if d.parent != nil {
		var err error
		if parent, err = d.parent.Extents(ctx); err != nil {
			return nil, err
		}
	}
	bs := int64(d.v.header.blockSize)
	out := make([]Extent, 0, 16)
	for i, e := range d.v.bat {
		if i%4096 == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		off := int64(i) * bs
		n := min(bs, d.v.size-off)
		switch {
		case e != vhdUnused:
			out = append(out, Extent{Offset: off, Length: n})
		case d.parent != nil:
			out = append(out, clipExtents(parent, off, n)...)
		default:
			out = append(out, Extent{Offset: off, Length: n, Zero: true})
		}
	}
	return out, nil
}

// clipExtents returns the part of exts covering [off, off+n); ranges the
// list does not cover (past a smaller parent) read as zeros.
func clipExtents(exts []Extent, off, n int64) []Extent {
	var out []Extent
	pos, end := off, off+n
	for _, e := range exts {
		if e.Offset+e.Length <= pos || e.Offset >= end {
			continue
		}
		s, t := max(e.Offset, pos), min(e.Offset+e.Length, end)
		if s > pos {
			out = append(out, Extent{Offset: pos, Length: s - pos, Zero: true})
		}
		out = append(out, Extent{Offset: s, Length: t - s, Zero: e.Zero})
		pos = t
	}
	if pos < end {
		out = append(out, Extent{Offset: pos, Length: end - pos, Zero: true})
	}
	return out
}

func (d *vhdImpl) zero() {
	if d.c != nil {
		d.c.Zero()
	}
}

// readAligned serves an unaligned read through a sector-aligned bounce
// buffer, for formats that decrypt whole sectors.
func readAligned(read func([]byte, int64) error, p []byte, off int64) error {
	start := off / SectorSize * SectorSize
	end := roundUp(off+int64(len(p)), SectorSize)
	buf := make([]byte, end-start)
	if err := read(buf, start); err != nil {
		return err
	}
	copy(p, buf[off-start:])
	return nil
}
