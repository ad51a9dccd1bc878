package disk

import (
	"context"
	"math/bits"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/e2eimage/e2e/internal/sector"
	"golang.org/x/sync/errgroup"
)

// onePass is the data pass of the one-pass writers (regular-file outputs,
// where any offset can be written at any time). The two-pass writers scan
// the whole source for zero blocks first, writing nothing meanwhile, so
// that the layout is known before the first byte; here the layout of the
// data is found as it goes:
//
//   - workers take batches of per units (blocks or clusters) in order,
//     read them (skipping ranges the source's extents mark zero) and find
//     the all-zero units, all in parallel;
//   - a batch then waits for its turn, a cheap in-order step that numbers
//     its allocated units after those of every earlier batch (base);
//   - emit places, encrypts and writes them: allocated unit base+r of the
//     disk (r counts within the batch) goes to a host offset the writer
//     derives from that number, so output order is guest order.
//
// A worker waits only for earlier batches to be read, not written, so the
// output file is kept busy from the first batch. Workers write one at a
// time (see lockedFile). It returns which units
// are allocated and how many. emit runs on the workers concurrently; buf
// holds the batch's units from guest unit first on, mask the allocated
// ones (bit r for unit first+r). Bytes past src.Size() read as zeros.
func onePass(ctx context.Context, src Disk, size, unit int64, per int, o *writeOptions,
	emit func(buf []byte, first int64, mask uint64, base int64) error) (bitset, int64, error) {
	if per < 1 || per > 64 {
		panic("disk: onePass batch of more than 64 units")
	}
	n := (size + unit - 1) / unit
	alloc := newBitset(n)
	exts, err := src.Extents(ctx)
	if err != nil {
		return nil, 0, err
	}
	data := exts[:0:0]
	for _, e := range exts {
		if !e.Zero && e.Length > 0 {
			data = append(data, e)
		}
	}
	batches := (n + int64(per) - 1) / int64(per)
	g, gctx := errgroup.WithContext(ctx)
	var t turns
	t.cond.L = &t.mu
	stop := context.AfterFunc(gctx, t.abort)
	defer stop()
	var next atomic.Int64
	var pmu sync.Mutex
	var done int64
	srcSize := src.Size()
	for range min(int64(o.workers), batches) {
		g.Go(func() error {
			buf := make([]byte, int64(per)*unit)
			for {
				i := next.Add(1) - 1
				if i >= batches {
					return nil
				}
				if err := gctx.Err(); err != nil {
					t.abort()
					return err
				}
				first := i * int64(per)
				last := min(first+int64(per), n)
				mask, err := readBatch(src, data, buf, first, last, unit, srcSize)
				if err != nil {
					t.abort()
					return err
				}
				base, ok := t.take(i, int64(bits.OnesCount64(mask)))
				if !ok {
					// Another batch failed and returns its error, or ctx
					// was cancelled, which the caller checks.
					return nil
				}
				for m := mask; m != 0; m &= m - 1 {
					alloc.set(first + int64(bits.TrailingZeros64(m)))
				}
				if mask != 0 {
					if err := emit(buf, first, mask, base); err != nil {
						t.abort()
						return err
					}
				}
				if o.progress != nil {
					pmu.Lock()
					done += min(last*unit, size) - first*unit
					o.report(StageWrite, done, size)
					pmu.Unlock()
				}
			}
		})
	}
	if err := g.Wait(); err != nil {
		return nil, 0, err
	}
	if err := ctx.Err(); err != nil {
		return nil, 0, err
	}
	return alloc, t.count, nil
}

// clearOldHeader zeros the first n bytes of a file that held data before
// (say an older image the caller did not truncate), where the one-pass
// writers put their header last: until it is written, the file must not
// still start with the old header, or an interrupted write would leave the
// old image's header in front of new data.
func clearOldHeader(pos *sector.Positional, n int64) error {
	if pos.Fresh() {
		return nil
	}
	return pos.WriteAt(make([]byte, n), 0)
}

// readBatch reads the units [first, last) that overlap data extents into
// buf (one ReadAt per run of such units) and returns which of them hold a
// non-zero byte.
func readBatch(src Disk, data []Extent, buf []byte, first, last, unit, srcSize int64) (uint64, error) {
	lo, hi := first*unit, last*unit
	var cand uint64
	// The first data extent ending past lo, then every one starting before hi.
	for k := sort.Search(len(data), func(k int) bool { return data[k].Offset+data[k].Length > lo }); k < len(data) && data[k].Offset < hi; k++ {
		a := max(data[k].Offset/unit, first)
		b := min((data[k].Offset+data[k].Length+unit-1)/unit, last)
		for u := a; u < b; u++ {
			cand |= 1 << (u - first)
		}
	}
	var mask uint64
	for _, r := range runs(cand) {
		j, run := r.start, r.n
		b := buf[j*unit : (j+run)*unit]
		off := (first + j) * unit
		ln := max(0, min(int64(len(b)), srcSize-off))
		if ln > 0 {
			if err := readFullDisk(src, b[:ln], off); err != nil {
				return 0, err
			}
		}
		clear(b[ln:])
		for r := int64(0); r < run; r++ {
			if !sector.IsZero(b[r*unit : (r+1)*unit]) {
				mask |= 1 << (j + r)
			}
		}
	}
	return mask, nil
}

// turns numbers the batches' allocated units in batch order.
type turns struct {
	mu    sync.Mutex
	cond  sync.Cond
	next  int64 // the batch whose turn it is
	count int64 // allocated units in the batches before it
	stop  bool
}

// take waits for batch i's turn, counts its n units and returns how many
// came before; false when the pass was aborted.
func (t *turns) take(i, n int64) (base int64, ok bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for t.next != i && !t.stop {
		t.cond.Wait()
	}
	if t.stop {
		return 0, false
	}
	base = t.count
	t.count += n
	t.next++
	t.cond.Broadcast()
	return base, true
}

// abort wakes every waiting batch with ok false: one that failed will
// never take its turn.
func (t *turns) abort() {
	t.mu.Lock()
	t.stop = true
	t.mu.Unlock()
	t.cond.Broadcast()
}

// lockedFile lets one goroutine at a time write the output. Writes to one
// file serialize in the kernel anyway (tmpfs and the page cache take the
// inode lock), where a second writer spins or sleeps holding its core; a
// Go mutex parks the goroutine instead, and its core reads and encrypts
// for another worker meanwhile (measured: the same wall time or better
// for about 10% less CPU).
type lockedFile struct {
	mu sync.Mutex
	p  *sector.Positional
}

// writeAt writes each of bufs in turn from off on, in one hold of the lock.
func (f *lockedFile) writeAt(off int64, bufs ...[]byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, b := range bufs {
		if err := f.p.WriteAt(b, off); err != nil {
			return err
		}
		off += int64(len(b))
	}
	return nil
}
