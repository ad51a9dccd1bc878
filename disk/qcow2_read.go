package disk

import (
	"bytes"
	"compress/flate"
	"container/list"
	"context"
	"encoding/binary"
	"io"
	"sync"
)

// l2CacheTables bounds the L2 tables kept in memory per open image
// (64 × 64 KiB = 4 MiB for QEMU's default cluster size).
const l2CacheTables = 64

type qcowImpl struct {
	r      io.ReaderAt
	q      *qcowInfo
	c      sectorCipher // nil unless LUKS
	format Format
	parent Disk // backing file, nil for none

	mu    sync.Mutex
	cache map[uint64]*list.Element // L2 offset -> element holding *l2Table
	lru   list.List
	// last inflated cluster, so small sequential reads of a compressed
	// image inflate each cluster once (guarded by mu)
	zIdx  int64
	zData []byte
}

type l2Table struct {
	off uint64
	e   []uint64
}

// open builds the virtual disk; c decrypts a LUKS image, o opens the
// backing file if there is one.
func (q *qcowInfo) open(r io.ReaderAt, c sectorCipher, o *openOptions) (Disk, error) {
	d := &image{size: q.size, format: QCOW2}
	if c != nil {
		d.format = QCOW2LUKS
	}
	qi := newQCOWImpl(r, q, c, d.format)
	if q.backing != "" {
		if c != nil {
			return nil, &UnsupportedError{Format: QCOW2LUKS, Feature: "backing file"}
		}
		p, closer, err := openParent(ParentRef{Name: q.backing}, o, nil)
		if err != nil {
			return nil, err
		}
		qi.parent = p
		d.closers = append(d.closers, p)
		if closer != nil {
			d.closers = append(d.closers, closer)
		}
	}
	d.impl = qi
	return d, nil
}

func newQCOWImpl(r io.ReaderAt, q *qcowInfo, c sectorCipher, f Format) *qcowImpl {
	return &qcowImpl{r: r, q: q, c: c, format: f, cache: make(map[uint64]*list.Element), zIdx: -1}
}

// l2 returns the L2 table at off, reading it through a small LRU cache.
func (d *qcowImpl) l2(off uint64) ([]uint64, error) {
	d.mu.Lock()
	if el, ok := d.cache[off]; ok {
		d.lru.MoveToFront(el)
		t := el.Value.(*l2Table).e
		d.mu.Unlock()
		return t, nil
	}
	d.mu.Unlock()
	raw := make([]byte, d.q.clusterSize)
	if err := readFull(d.r, raw, int64(off), d.format, "L2 table"); err != nil {
		return nil, err
	}
	e := make([]uint64, len(raw)/8)
	for i := range e {
		e[i] = binary.BigEndian.Uint64(raw[8*i:])
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if el, ok := d.cache[off]; ok { // another reader won the race
		return el.Value.(*l2Table).e, nil
	}
	d.cache[off] = d.lru.PushFront(&l2Table{off, e})
	if d.lru.Len() > l2CacheTables {
		old := d.lru.Remove(d.lru.Back()).(*l2Table)
		delete(d.cache, old.off)
	}
	return e, nil
}

// entry returns the L2 entry of guest cluster idx (0 when unallocated).
func (d *qcowImpl) entry(idx int64) (uint64, error) {
	per := d.q.clusterSize / 8
	l1 := d.q.l1[idx/per] & qcowOffsetMask
	if l1 == 0 {
		return 0, nil
	}
	t, err := d.l2(l1)
	if err != nil {
		return 0, err
	}
	return t[idx%per], nil
}

func (d *qcowImpl) readAt(p []byte, off int64) error {
	if d.c != nil && (off%SectorSize != 0 || len(p)%SectorSize != 0) {
		return readAligned(d.readAt, p, off)
	}
	cs := d.q.clusterSize
	for len(p) > 0 {
		idx, in := off/cs, off%cs
		n := min(int64(len(p)), cs-in)
		e, err := d.entry(idx)
		if err != nil {
			return err
		}
		if err := d.readCluster(p[:n], e, idx, in); err != nil {
			return err
		}
		p, off = p[n:], off+n
	}
	return nil
}

func (d *qcowImpl) readCluster(p []byte, e uint64, idx, in int64) error {
	cs := d.q.clusterSize
	if e&qcowOflagCompressed != 0 {
		if d.c != nil {
			return corrupt(d.format, "L2 entry", -1, "compressed cluster %d in an encrypted image", idx)
		}
		return d.readCompressed(p, e, idx, in)
	}
	host := e & qcowOffsetMask
	if e&qcowOflagZero != 0 {
		clear(p) // reads as zeros even over a backing file
		return nil
	}
	if host == 0 {
		if d.parent != nil {
			return readParent(d.parent, p, idx*cs+in)
		}
		clear(p)
		return nil
	}
	if host%uint64(cs) != 0 || host > uint64(d.q.fileSize-cs) {
		return corrupt(d.format, "L2 entry", -1, "cluster %d at host offset %d unaligned or past the end of the file", idx, host)
	}
	pos := int64(host) + in
	if err := readFull(d.r, p, pos, d.format, "data cluster"); err != nil {
		return err
	}
	if d.c != nil {
		// LUKS in qcow2 tweaks each sector with its host offset.
		d.c.DecryptUnits(p, p, SectorSize, uint64(pos/SectorSize), 1)
	}
	return nil
}

// readCompressed inflates a raw-deflate cluster (QEMU's zlib type).
func (d *qcowImpl) readCompressed(p []byte, e uint64, idx, in int64) error {
	d.mu.Lock()
	if d.zIdx == idx {
		copy(p, d.zData[in:])
		d.mu.Unlock()
		return nil
	}
	d.mu.Unlock()
	cs := d.q.clusterSize
	x := 62 - (d.q.clusterBits - 8)
	host := int64(e & (1<<x - 1))
	sectors := int64((e>>x)&(1<<(d.q.clusterBits-8)-1)) + 1
	clen := sectors*SectorSize - host%SectorSize
	if host >= d.q.fileSize {
		return corrupt(d.format, "compressed cluster", host, "cluster %d past the end of the file", idx)
	}
	// The last compressed cluster may end before its rounded sector count.
	clen = min(clen, d.q.fileSize-host)
	buf := make([]byte, clen)
	if err := readFull(d.r, buf, host, d.format, "compressed cluster"); err != nil {
		return err
	}
	out := make([]byte, cs)
	zr := flate.NewReader(bytes.NewReader(buf))
	n, err := io.ReadFull(zr, out)
	zr.Close()
	if err != nil && !(err == io.ErrUnexpectedEOF && int64(n) == cs) {
		return corrupt(d.format, "compressed cluster", host, "cluster %d does not inflate to %d bytes: %v", idx, cs, err)
	}
	copy(p, out[in:])
	d.mu.Lock()
	d.zIdx, d.zData = idx, out
	d.mu.Unlock()
	return nil
}

func (d *qcowImpl) extents(ctx context.Context) ([]Extent, error) {
	var parent []Extent
	if d.parent != nil {
		var err error
		if parent, err = d.parent.Extents(ctx); err != nil {
			return nil, err
		}
	}
	// unallocated: zeros, or whatever the backing file has there
	unalloc := func(off, n int64) []Extent {
		if d.parent != nil {
			return clipExtents(parent, off, n)
		}
		return []Extent{{Offset: off, Length: n, Zero: true}}
	}
	cs := d.q.clusterSize
	clusters := (d.q.size + cs - 1) / cs
	per := cs / 8
	var out []Extent
	for l1i := int64(0); l1i*per < clusters; l1i++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		start := l1i * per * cs
		span := min(per*cs, d.q.size-start)
		l2off := d.q.l1[l1i] & qcowOffsetMask
		if l2off == 0 {
			out = append(out, unalloc(start, span)...)
			continue
		}
		t, err := d.l2(l2off)
		if err != nil {
			return nil, err
		}
		for i := int64(0); i*cs < span; i++ {
			e := t[i]
			off, n := start+i*cs, min(cs, span-i*cs)
			switch {
			case e&qcowOflagCompressed != 0:
				out = append(out, Extent{Offset: off, Length: n})
			case e&qcowOflagZero != 0:
				out = append(out, Extent{Offset: off, Length: n, Zero: true})
			case e&qcowOffsetMask == 0:
				out = append(out, unalloc(off, n)...)
			default:
				out = append(out, Extent{Offset: off, Length: n})
			}
		}
	}
	return out, nil
}

func (d *qcowImpl) zero() {
	if d.c != nil {
		d.c.Zero()
	}
}
