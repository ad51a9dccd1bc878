package disk

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"io"
	"time"

	"github.com/e2eimage/e2e/internal/sector"
)

// vhdAlign is where vhd-util puts block data: 4 KiB boundaries, with the
// 512-byte sector bitmap right before and gap sectors in between.
const vhdAlign = 4096

// maxVHDSize is the VHD specification's limit, 2040 GiB.
const maxVHDSize = 2040 << 30

// WriteEncryptedVHD writes src to dst as the encrypted VHD that IBM Cloud
// classic infrastructure imports (blktap's `vhd-util copy -k`): a dynamic
// VHD with 2 MiB blocks, each 512-byte sector encrypted with AES-XTS and the
// "plain" tweak (the guest sector number truncated to 32 bits), and the key
// hash in the batmap header. key is the raw data key: 32 bytes select
// AES-128-XTS, 64 bytes AES-256-XTS; anything else is ErrKeySize.
//
// All-zero 2 MiB blocks are left out. The virtual size is src.Size()
// rounded up to 2 MiB, as `vhd-util create` does (the tail reads as zeros).
// When dst is a regular file (an *os.File not opened with O_APPEND), it is
// written in one pass over the source: the blocks first, at their offsets,
// from several goroutines, then the BAT and batmap and the footers, and
// progress is reported as StageWrite of the virtual size only. Any other
// dst is written strictly sequentially, so it can be an upload stream,
// after reading the source twice (a zero scan, then the data). It returns
// the number of bytes written.
func WriteEncryptedVHD(ctx context.Context, dst io.Writer, src Disk, key []byte, opts ...WriteOption) (int64, error) {
	o, err := newWriteOptions(opts)
	if err != nil {
		return 0, err
	}
	c, err := newSectorCipher(key)
	if err != nil {
		return 0, err
	}
	defer c.Zero()
	h := KeyHash(key)
	return writeVHD(ctx, dst, src, c, &h, o)
}

// vhdLayout is where everything of a dynamic VHD goes.
type vhdLayout struct {
	size       int64 // virtual size
	blocks     int64
	batOff     int64
	batmapHdr  int64
	batmapOff  int64
	batmapSecs int64
	firstBlock int64 // offset of the first bitmap sector
	stride     int64 // bitmap + data + gap
	alloc      bitset
	nalloc     int64
}

func (l *vhdLayout) fileSize() int64 {
	if l.nalloc == 0 {
		return l.firstBlock + vhdFooterSize
	}
	return l.firstBlock + (l.nalloc-1)*l.stride + SectorSize + VHDBlockSize + vhdFooterSize
}

func newVHDLayout(size int64, alloc bitset) *vhdLayout {
	l := &vhdLayout{size: size, blocks: size / VHDBlockSize, alloc: alloc, nalloc: alloc.count()}
	l.batOff = vhdFooterSize + vhdHeaderSize
	l.batmapHdr = l.batOff + roundUp(l.blocks*4, SectorSize)
	l.batmapOff = l.batmapHdr + SectorSize
	l.batmapSecs = roundUp((l.blocks+7)/8, SectorSize) / SectorSize
	metaEnd := l.batmapOff + l.batmapSecs*SectorSize
	l.firstBlock = roundUp(metaEnd+SectorSize, vhdAlign) - SectorSize
	l.stride = roundUp(SectorSize+VHDBlockSize, vhdAlign)
	return l
}

// vhdSize is the virtual size of the VHD written from src.
func vhdSize(src Disk) (int64, error) {
	if src.Size() <= 0 {
		return 0, ErrEmpty
	}
	size := roundUp(src.Size(), VHDBlockSize)
	if size > maxVHDSize {
		// The VHD limit; it also keeps BAT sector numbers within 32 bits.
		return 0, fmt.Errorf("%w: %d bytes for VHD (max %d)", ErrTooLarge, size, int64(maxVHDSize))
	}
	return size, nil
}

// prefix returns the metadata before the first block: footer copy fb,
// header, BAT, batmap header (with keyHash, if any), batmap. Allocated
// block k is at firstBlock + k·stride, in guest order.
func (l *vhdLayout) prefix(fb []byte, keyHash *[32]byte) []byte {
	hdr := vhdHeader{tableOffset: uint64(l.batOff), maxEntries: uint32(l.blocks), blockSize: VHDBlockSize}
	prefix := make([]byte, l.firstBlock)
	copy(prefix, fb)
	copy(prefix[vhdFooterSize:], hdr.marshal())
	bat := prefix[l.batOff:l.batmapHdr]
	for i := range bat {
		bat[i] = 0xff
	}
	batmap := prefix[l.batmapOff : l.batmapOff+l.batmapSecs*SectorSize]
	var k int64
	for b := range l.blocks {
		if !l.alloc.get(b) {
			continue
		}
		binary.BigEndian.PutUint32(bat[4*b:], uint32((l.firstBlock+k*l.stride)/SectorSize))
		batmap[b/8] |= 0x80 >> (b % 8)
		k++
	}
	bh := prefix[l.batmapHdr : l.batmapHdr+SectorSize]
	copy(bh, vhdBatmapCookie)
	binary.BigEndian.PutUint64(bh[8:], uint64(l.batmapOff))
	binary.BigEndian.PutUint32(bh[16:], uint32(l.batmapSecs))
	binary.BigEndian.PutUint32(bh[20:], vhdBatmapVersion)
	binary.BigEndian.PutUint32(bh[24:], vhdChecksum(batmap, -1))
	if keyHash != nil {
		bh[29] = 1 // keyhash cookie; the nonce at 30..61 stays zero
		copy(bh[62:94], keyHash[:])
	}
	return prefix
}

// newVHDFooterBytes is a fresh dynamic VHD footer with a random UUID.
func newVHDFooterBytes(size int64) ([]byte, error) {
	var uuid [16]byte
	if err := randomUUID(&uuid); err != nil {
		return nil, err
	}
	f := newVHDFooter(size, vhdTypeDynamic, uuid, time.Now())
	return f.marshal(), nil
}

// writeVHD writes a dynamic VHD; c and keyHash are nil for a plain one. A
// regular file is written in one pass (writeVHDOnePass), anything else
// front to back in two.
func writeVHD(ctx context.Context, dst io.Writer, src Disk, c sectorCipher, keyHash *[32]byte, o *writeOptions) (int64, error) {
	size, err := vhdSize(src)
	if err != nil {
		return 0, err
	}
	if pos := sector.PositionalFile(dst); pos != nil {
		return writeVHDOnePass(ctx, pos, src, size, c, keyHash, o)
	}
	return writeVHDStream(ctx, dst, src, size, c, keyHash, o)
}

// writeVHDStream writes dst strictly front to back, which needs the BAT,
// hence a zero scan of the whole source, before the first byte.
func writeVHDStream(ctx context.Context, dst io.Writer, src Disk, size int64, c sectorCipher, keyHash *[32]byte, o *writeOptions) (int64, error) {
	alloc, err := scanAllocated(ctx, src, size, VHDBlockSize, o)
	if err != nil {
		return 0, err
	}
	l := newVHDLayout(size, alloc)
	fb, err := newVHDFooterBytes(size)
	if err != nil {
		return 0, err
	}
	prefix := l.prefix(fb, keyHash)

	cw := &countWriter{w: dst}
	total := l.fileSize()
	if _, err := cw.Write(prefix); err != nil {
		return cw.n, err
	}
	o.report(StageWrite, cw.n, total)

	blocks := make([]int64, 0, l.nalloc) // at most 1 M entries (2040 GiB)
	for b := range l.blocks {
		if alloc.get(b) {
			blocks = append(blocks, b)
		}
	}
	// Each buffer holds gap + bitmap + data, so one Write per block.
	gap := l.stride - SectorSize - VHDBlockSize
	bufSize := int(gap + SectorSize + VHDBlockSize)
	srcSize := src.Size()
	produce := func(i int, buf []byte) error {
		b := blocks[i]
		clear(buf[:gap])
		bm := buf[gap : gap+SectorSize]
		for j := range bm {
			bm[j] = 0xff
		}
		data := buf[gap+SectorSize:]
		off := b * VHDBlockSize
		n := min(VHDBlockSize, srcSize-off)
		if err := readFullDisk(src, data[:n], off); err != nil {
			return err
		}
		clear(data[n:])
		if c != nil {
			// Blocks are 2 MiB aligned, so uint32(lba) never wraps inside one.
			c.EncryptUnits(data, data, SectorSize, uint64(uint32(off/SectorSize)), 1)
		}
		return nil
	}
	consume := func(i int, buf []byte) error {
		if i == 0 {
			buf = buf[gap:] // the prefix already ends where the first bitmap starts
		}
		if _, err := cw.Write(buf); err != nil {
			return err
		}
		o.report(StageWrite, cw.n, total)
		return nil
	}
	if err := ordered(ctx, o.workers, len(blocks), bufSize, produce, consume); err != nil {
		return cw.n, err
	}
	if _, err := cw.Write(fb); err != nil {
		return cw.n, err
	}
	o.report(StageWrite, cw.n, total)
	if cw.n != total {
		return cw.n, fmt.Errorf("disk: internal error: wrote %d bytes, planned %d", cw.n, total)
	}
	return cw.n, nil
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// randomUUID fills u with a version 4 UUID.
func randomUUID(u *[16]byte) error {
	if _, err := rand.Read(u[:]); err != nil {
		return err
	}
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	return nil
}
