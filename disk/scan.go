package disk

import (
	"context"
	"math/bits"
	"os"
	"sync"
	"sync/atomic"

	"github.com/e2eimage/e2e/internal/sector"
	"golang.org/x/sync/errgroup"
)

// bitset holds one bit per block: 2 MiB per TiB of 64 KiB clusters, so
// even the largest disks stay small.
type bitset []uint64

func newBitset(n int64) bitset { return make(bitset, (n+63)/64) }

// set is safe for concurrent use.
func (b bitset) set(i int64)      { atomic.OrUint64(&b[i/64], 1<<(i%64)) }
func (b bitset) get(i int64) bool { return b[i/64]&(1<<(i%64)) != 0 }

// next returns the first set bit at or after i, or -1.
func (b bitset) next(i int64) int64 {
	for w := i / 64; w < int64(len(b)); w++ {
		word := b[w]
		if w == i/64 {
			word &= ^uint64(0) << (i % 64)
		}
		if word != 0 {
			return w*64 + int64(bits.TrailingZeros64(word))
		}
	}
	return -1
}

func (b bitset) count() int64 {
	var n int
	for _, w := range b {
		n += bits.OnesCount64(w)
	}
	return int64(n)
}

// scanBatch is how many bytes one scan job reads at once.
const scanBatch = 4 << 20

// scanProbe is how much of a block a local scan reads first: a block with
// data nearly always shows it in its first page, and then the rest need
// not be read at all (a 64 KiB qcow2 cluster of random data costs a 4 KiB
// read instead of 64 KiB, a 2 MiB VHD block 4 KiB instead of 2 MiB).
const scanProbe = 4 << 10

// localFile reports whether src reads a local file directly (a raw image
// opened from an *os.File), where many small reads cost less than copying
// every byte; remote sources keep one large read per batch, since each
// read may be a range request.
func localFile(src Disk) bool {
	img, ok := src.(*image)
	if !ok {
		return false
	}
	r, ok := img.impl.(rawImpl)
	if !ok {
		return false
	}
	_, isFile := r.r.(*os.File)
	return isFile || r.f != nil
}

// scanAllocated returns which unit-sized blocks of the virtual disk of size
// bytes hold any non-zero byte. Blocks that the source's extents mark as
// zero are not read; the others are read and checked in parallel. Bytes
// past src.Size() count as zeros.
func scanAllocated(ctx context.Context, src Disk, size, unit int64, o *writeOptions) (bitset, error) {
	n := (size + unit - 1) / unit
	alloc := newBitset(n)
	exts, err := src.Extents(ctx)
	if err != nil {
		return nil, err
	}
	// forCandidates calls fn for runs [first, last) of blocks overlapping
	// data extents, at most per blocks long, each block once.
	per := max(1, scanBatch/unit)
	forCandidates := func(fn func(first, last int64) bool) {
		next := int64(0)
		for _, e := range exts {
			if e.Zero || e.Length <= 0 {
				continue
			}
			first := max(e.Offset/unit, next)
			end := min((e.Offset+e.Length+unit-1)/unit, n)
			for first < end {
				last := min(first+per, end)
				if !fn(first, last) {
					return
				}
				first = last
			}
			next = max(next, end)
		}
	}
	var total int64
	forCandidates(func(first, last int64) bool { total += (last - first) * unit; return true })

	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(o.workers)
	var mu sync.Mutex
	var done int64
	bufs := sync.Pool{New: func() any { b := make([]byte, per*unit); return &b }}
	srcSize := src.Size()
	probe := localFile(src) && unit > scanProbe
	forCandidates(func(first, last int64) bool {
		if gctx.Err() != nil {
			return false
		}
		g.Go(func() error {
			off := first * unit
			ln := min((last-first)*unit, srcSize-off)
			if ln > 0 && probe {
				bp := bufs.Get().(*[]byte)
				defer bufs.Put(bp)
				if err := scanProbing(src, alloc, first, last, unit, srcSize, *bp); err != nil {
					return err
				}
			} else if ln > 0 {
				bp := bufs.Get().(*[]byte)
				defer bufs.Put(bp)
				buf := (*bp)[:ln]
				if err := readFullDisk(src, buf, off); err != nil {
					return err
				}
				for i := first; i < last; i++ {
					s := (i - first) * unit
					if s >= ln {
						break
					}
					if !sector.IsZero(buf[s:min(s+unit, ln)]) {
						alloc.set(i)
					}
				}
			}
			if o.progress != nil {
				mu.Lock()
				done += (last - first) * unit
				o.report(StageScan, done, total)
				mu.Unlock()
			}
			return gctx.Err()
		})
		return true
	})
	if err := g.Wait(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return alloc, nil
}

// scanProbing marks the blocks [first, last) that hold data, reading the
// first scanProbe bytes of each and the rest only when those are zeros.
func scanProbing(src Disk, alloc bitset, first, last, unit, srcSize int64, buf []byte) error {
	for i := first; i < last; i++ {
		off := i * unit
		ln := min(unit, srcSize-off)
		if ln <= 0 {
			break
		}
		head := min(ln, scanProbe)
		if err := readFullDisk(src, buf[:head], off); err != nil {
			return err
		}
		if !sector.IsZero(buf[:head]) {
			alloc.set(i)
			continue
		}
		if ln > head {
			rest := buf[:ln-head]
			if err := readFullDisk(src, rest, off+head); err != nil {
				return err
			}
			if !sector.IsZero(rest) {
				alloc.set(i)
			}
		}
	}
	return nil
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
