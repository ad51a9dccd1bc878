package disk

import (
	"bytes"
	"context"
	"sync"

	"golang.org/x/sync/errgroup"
)

// zeroChunk is compared against with bytes.Equal (vectorized memequal).
var zeroChunk [64 << 10]byte

func isZero(b []byte) bool {
	for len(b) > 0 {
		n := min(len(b), len(zeroChunk))
		if !bytes.Equal(b[:n], zeroChunk[:n]) {
			return false
		}
		b = b[n:]
	}
	return true
}

// scanBatch is how many bytes one scan job reads at once.
const scanBatch = 4 << 20

// scanAllocated returns, for each unit-sized block of the virtual disk of
// size bytes, whether it holds any non-zero byte. Blocks that the source's
// extents mark as zero are not read; the others are read in parallel.
// Bytes past src.Size() count as zeros.
func scanAllocated(ctx context.Context, src Disk, size, unit int64, o *writeOptions) ([]bool, error) {
	n := (size + unit - 1) / unit
	alloc := make([]bool, n)
	exts, err := src.Extents(ctx)
	if err != nil {
		return nil, err
	}
	// Candidate blocks: those overlapping a data extent.
	cand := make([]bool, n)
	for _, e := range exts {
		if e.Zero || e.Length <= 0 {
			continue
		}
		for b := e.Offset / unit; b < n && b*unit < e.Offset+e.Length; b++ {
			cand[b] = true
		}
	}
	per := max(1, scanBatch/unit)
	var total int64
	for _, c := range cand {
		if c {
			total += unit
		}
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(o.workers)
	var mu sync.Mutex
	var done int64
	bufs := sync.Pool{New: func() any { b := make([]byte, per*unit); return &b }}
	srcSize := src.Size()
	for b := int64(0); b < n; {
		if !cand[b] {
			b++
			continue
		}
		first := b
		for b < n && cand[b] && b-first < per {
			b++
		}
		last := b
		if gctx.Err() != nil {
			break
		}
		g.Go(func() error {
			bp := bufs.Get().(*[]byte)
			defer bufs.Put(bp)
			off := first * unit
			ln := min((last-first)*unit, srcSize-off)
			if ln <= 0 {
				return nil
			}
			buf := (*bp)[:ln]
			if err := readFullDisk(src, buf, off); err != nil {
				return err
			}
			for i := first; i < last; i++ {
				s := (i - first) * unit
				if s >= ln {
					break
				}
				alloc[i] = !isZero(buf[s:min(s+unit, ln)])
			}
			if o.progress != nil {
				mu.Lock()
				done += (last - first) * unit
				o.report(StageScan, done, total)
				mu.Unlock()
			}
			return gctx.Err()
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return alloc, nil
}

// readFullDisk reads len(p) bytes of the virtual disk at off.
func readFullDisk(d Disk, p []byte, off int64) error {
	n, err := d.ReadAt(p, off)
	if n == len(p) {
		return nil
	}
	if err == nil {
		err = errShortRead
	}
	return err
}
