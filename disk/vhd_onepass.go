package disk

import (
	"context"
	"fmt"

	"github.com/e2eimage/e2e/internal/sector"
)

// vhdOnePassBatch is how many 2 MiB blocks a worker reads at once.
const vhdOnePassBatch = 1

// writeVHDOnePass writes a dynamic VHD to a regular file in one pass over
// the source (see onePass). The metadata before the first block (footer
// copy, header, BAT, batmap) has a size fixed by the virtual size, so the
// blocks are placed after it in guest order as they are found and written
// at once; the BAT and batmap, which say where they went, are written at
// the end with the footers, the copy at offset 0 last, so an interrupted
// write leaves no valid image.
func writeVHDOnePass(ctx context.Context, pos *sector.Positional, src Disk, size int64, c sectorCipher, keyHash *[32]byte, o *writeOptions) (int64, error) {
	l := newVHDLayout(size, nil)
	if err := clearOldHeader(pos, vhdFooterSize+vhdHeaderSize); err != nil {
		return 0, err
	}
	gap := l.stride - SectorSize - VHDBlockSize
	// head is what precedes a block's data: the gap after the previous
	// block, then the block's sector bitmap (all ones: every sector present).
	head := make([]byte, gap+SectorSize)
	for i := gap; i < int64(len(head)); i++ {
		head[i] = 0xff
	}
	out := &lockedFile{p: pos}
	emit := func(buf []byte, first int64, mask uint64, base int64) error {
		k := base
		for _, r := range runs(mask) {
			for b := r.start; b < r.start+r.n; b++ {
				data := buf[b*VHDBlockSize : (b+1)*VHDBlockSize]
				if c != nil {
					// Blocks are 2 MiB aligned, so uint32(lba) never wraps inside one.
					c.EncryptUnits(data, data, SectorSize, uint64(uint32((first+b)*VHDBlockSize/SectorSize)), 1)
				}
				bm := l.firstBlock + k*l.stride
				h := head
				if k == 0 {
					h = head[gap:] // the prefix ends where the first bitmap starts
				}
				if err := out.writeAt(bm+SectorSize-int64(len(h)), h, data); err != nil {
					return err
				}
				k++
			}
		}
		return nil
	}
	alloc, nalloc, err := onePass(ctx, src, size, VHDBlockSize, vhdOnePassBatch, o, emit)
	if err != nil {
		return 0, err
	}
	l = newVHDLayout(size, alloc)
	if l.nalloc != nalloc {
		return 0, fmt.Errorf("disk: internal error: %d blocks written, %d allocated", nalloc, l.nalloc)
	}
	fb, err := newVHDFooterBytes(size)
	if err != nil {
		return 0, err
	}
	total := l.fileSize()
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if err := pos.WriteAt(fb, total-vhdFooterSize); err != nil {
		return 0, err
	}
	if err := pos.WriteAt(l.prefix(fb, keyHash), 0); err != nil {
		return 0, err
	}
	if err := pos.Finish(total); err != nil {
		return 0, err
	}
	return total, nil
}
