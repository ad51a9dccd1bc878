package disk

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"

	"github.com/e2eimage/e2e/internal/sector"
)

// qcowCrypto is what an encrypted qcow2 needs: the cipher keyed with the
// volume key, and the LUKS header to embed, luksLen bytes long. The
// one-pass writer asks for the header only after the data, so its key
// slot's KDF can run meanwhile.
type qcowCrypto struct {
	c       sectorCipher
	luksLen int64
	header  func() ([]byte, error)
}

// qcowLayout places every cluster of the qcow2 file we write. A stream
// gets
//
//	header | LUKS header | L1 | refcount table | refcount blocks | L2 tables | data
//
// so it is written front to back; a regular file (see metadataLast) gets
//
//	header | LUKS header | data | L2 tables | L1 | refcount table | refcount blocks
//
// Either way data clusters follow in guest order.
type qcowLayout struct {
	size     int64 // virtual size
	clusters int64 // guest clusters
	alloc    bitset
	nData    int64
	l1Size   int64
	l1c      int64  // L1 table clusters
	hasL2    []bool // per L1 entry
	nL2      int64
	luksLen  int64
	luksOff  int64
	l1Off    int64
	rtOff    int64
	rtc      int64 // refcount table clusters
	rbOff    int64
	rbc      int64 // refcount blocks
	l2Off    int64
	dataOff  int64
	total    int64 // host clusters
}

const (
	qcowCS          = QCOW2ClusterSize
	qcowL2Entries   = qcowCS / 8
	qcowRefsPerBlk  = qcowCS / 2 // 16-bit refcounts
	qcowClusterBits = 16
)

func newQCOWLayout(size int64, alloc bitset, luksLen int64) *qcowLayout {
	l := &qcowLayout{size: size, clusters: (size + qcowCS - 1) / qcowCS, alloc: alloc, luksLen: luksLen}
	l.l1Size = (l.clusters + qcowL2Entries - 1) / qcowL2Entries
	l.hasL2 = make([]bool, l.l1Size)
	l.nData = alloc.count()
	for w, word := range alloc {
		if word != 0 {
			l.hasL2[int64(w)*64/qcowL2Entries] = true
		}
	}
	for _, h := range l.hasL2 {
		if h {
			l.nL2++
		}
	}
	lc := (luksLen + qcowCS - 1) / qcowCS
	l1c := max(1, (l.l1Size*8+qcowCS-1)/qcowCS)
	l.l1c = l1c
	// Refcount blocks cover every cluster, themselves included: iterate
	// to the fixed point (two rounds at most in practice).
	l.rbc, l.rtc = 1, 1
	for {
		l.total = 1 + lc + l1c + l.rtc + l.rbc + l.nL2 + l.nData
		rbc := (l.total + qcowRefsPerBlk - 1) / qcowRefsPerBlk
		rtc := (rbc*8 + qcowCS - 1) / qcowCS
		if rbc == l.rbc && rtc == l.rtc {
			break
		}
		l.rbc, l.rtc = max(rbc, l.rbc), max(rtc, l.rtc)
	}
	l.luksOff = qcowCS
	l.l1Off = (1 + lc) * qcowCS
	l.rtOff = l.l1Off + l1c*qcowCS
	l.rbOff = l.rtOff + l.rtc*qcowCS
	l.l2Off = l.rbOff + l.rbc*qcowCS
	l.dataOff = l.l2Off + l.nL2*qcowCS
	return l
}

// metadataLast moves the tables after the data, for the one-pass writer:
// the same clusters, so the same file size.
func (l *qcowLayout) metadataLast() {
	l.dataOff = l.luksOff + (l.luksLen+qcowCS-1)/qcowCS*qcowCS
	l.l2Off = l.dataOff + l.nData*qcowCS
	l.l1Off = l.l2Off + l.nL2*qcowCS
	l.rtOff = l.l1Off + l.l1c*qcowCS
	l.rbOff = l.rtOff + l.rtc*qcowCS
}

// l1Table returns the L1 table's clusters: entries for the L2 tables,
// which are stored in L1 order.
func (l *qcowLayout) l1Table() []byte {
	l1 := make([]byte, l.l1c*qcowCS)
	l2i := int64(0)
	for i, h := range l.hasL2 {
		if h {
			binary.BigEndian.PutUint64(l1[8*i:], uint64(l.l2Off+l2i*qcowCS)|qcowOflagCopied)
			l2i++
		}
	}
	return l1
}

// refcountTable returns the refcount table's clusters.
func (l *qcowLayout) refcountTable() []byte {
	rt := make([]byte, l.rtc*qcowCS)
	for i := int64(0); i < l.rbc; i++ {
		binary.BigEndian.PutUint64(rt[8*i:], uint64(l.rbOff+i*qcowCS))
	}
	return rt
}

// refcountBlock fills blk with refcount block i: every cluster of the file
// is used exactly once, so refcount 1 for clusters [0, total), 0 after.
func (l *qcowLayout) refcountBlock(i int64, blk []byte) {
	clear(blk)
	for j := int64(0); j < qcowRefsPerBlk && i*qcowRefsPerBlk+j < l.total; j++ {
		binary.BigEndian.PutUint16(blk[2*j:], 1)
	}
}

// l2Table fills blk with the L2 table of L1 entry i, given k, the number of
// allocated guest clusters before it (data cluster k is the k-th allocated
// guest cluster), and returns k past the table.
func (l *qcowLayout) l2Table(i int, k int64, blk []byte) int64 {
	clear(blk)
	for j := int64(0); j < qcowL2Entries; j++ {
		g := int64(i)*qcowL2Entries + j
		if g >= l.clusters {
			break
		}
		if l.alloc.get(g) {
			binary.BigEndian.PutUint64(blk[8*j:], uint64(l.dataOff+k*qcowCS)|qcowOflagCopied)
			k++
		}
	}
	return k
}

// writeMetadata writes the L2 tables, L1, refcount table and refcount
// blocks in the order metadataLast places them.
func (l *qcowLayout) writeMetadata(w io.Writer) error {
	blk := make([]byte, qcowCS)
	var k int64
	for i, h := range l.hasL2 {
		if !h {
			continue
		}
		k = l.l2Table(i, k, blk)
		if _, err := w.Write(blk); err != nil {
			return err
		}
	}
	if _, err := w.Write(l.l1Table()); err != nil {
		return err
	}
	if _, err := w.Write(l.refcountTable()); err != nil {
		return err
	}
	for i := int64(0); i < l.rbc; i++ {
		l.refcountBlock(i, blk)
		if _, err := w.Write(blk); err != nil {
			return err
		}
	}
	return nil
}

func (l *qcowLayout) header(cryptMethod uint32) []byte {
	b := make([]byte, qcowCS)
	be := binary.BigEndian
	copy(b, qcowMagic)
	be.PutUint32(b[4:], 3)
	be.PutUint32(b[20:], qcowClusterBits)
	be.PutUint64(b[24:], uint64(l.size))
	be.PutUint32(b[32:], cryptMethod)
	be.PutUint32(b[36:], uint32(l.l1Size))
	be.PutUint64(b[40:], uint64(l.l1Off))
	be.PutUint64(b[48:], uint64(l.rtOff))
	be.PutUint32(b[56:], uint32(l.rtc))
	be.PutUint32(b[96:], 4) // refcount_order: 16-bit refcounts
	be.PutUint32(b[100:], qcowV3HeaderLen)
	ext := b[qcowV3HeaderLen:]
	if cryptMethod == qcowCryptLUKS {
		be.PutUint32(ext, qcowExtFDE)
		be.PutUint32(ext[4:], 16)
		be.PutUint64(ext[8:], uint64(l.luksOff))
		be.PutUint64(ext[16:], uint64(l.luksLen))
		ext = ext[24:]
	}
	be.PutUint32(ext, qcowExtEnd) // end of extensions (already zero)
	return b
}

// maxQCOWSize is the largest disk the reader accepts (64 TiB); QEMU's own
// L1 limit would allow 2 PiB with 64 KiB clusters.
const maxQCOWSize = maxVirtualSize

// qcowSize is the virtual size of the qcow2 written from src.
func qcowSize(src Disk) (int64, error) {
	if src.Size() <= 0 {
		return 0, ErrEmpty
	}
	size := roundUp(src.Size(), SectorSize)
	if size > maxQCOWSize {
		return 0, fmt.Errorf("%w: %d bytes for qcow2 with 64 KiB clusters", ErrTooLarge, size)
	}
	return size, nil
}

// writeQCOW2 writes a qcow2 v3 image with 64 KiB clusters; cr is nil for a
// plain one. A regular file is written in one pass (writeQCOW2OnePass),
// anything else front to back in two.
func writeQCOW2(ctx context.Context, dst io.Writer, src Disk, cr *qcowCrypto, o *writeOptions) (int64, error) {
	size, err := qcowSize(src)
	if err != nil {
		return 0, err
	}
	if pos := sector.PositionalFile(dst); pos != nil {
		return writeQCOW2OnePass(ctx, pos, src, size, cr, o)
	}
	return writeQCOW2Stream(ctx, dst, src, size, cr, o)
}

// writeQCOW2Stream writes dst strictly front to back, which needs the
// layout, hence a zero scan of the whole source, before the first byte.
func writeQCOW2Stream(ctx context.Context, dst io.Writer, src Disk, size int64, cr *qcowCrypto, o *writeOptions) (int64, error) {
	alloc, err := scanAllocated(ctx, src, size, qcowCS, o)
	if err != nil {
		return 0, err
	}
	var header []byte
	if cr != nil {
		if header, err = cr.header(); err != nil {
			return 0, err
		}
	}
	var luksLen int64
	method := uint32(qcowCryptNone)
	if cr != nil {
		luksLen = int64(len(header))
		method = qcowCryptLUKS
	}
	l := newQCOWLayout(size, alloc, luksLen)
	cw := &countWriter{w: dst}
	totalBytes := l.total * qcowCS
	write := func(b []byte) error {
		if _, err := cw.Write(b); err != nil {
			return err
		}
		o.report(StageWrite, cw.n, totalBytes)
		return ctx.Err()
	}
	if err := write(l.header(method)); err != nil {
		return cw.n, err
	}
	if cr != nil {
		if err := write(header); err != nil {
			return cw.n, err
		}
		if err := write(make([]byte, l.l1Off-l.luksOff-luksLen)); err != nil {
			return cw.n, err
		}
	}
	if err := write(l.l1Table()); err != nil {
		return cw.n, err
	}
	if err := write(l.refcountTable()); err != nil {
		return cw.n, err
	}
	blk := make([]byte, qcowCS)
	for i := int64(0); i < l.rbc; i++ {
		l.refcountBlock(i, blk)
		if err := write(blk); err != nil {
			return cw.n, err
		}
	}
	var k int64
	for i, h := range l.hasL2 {
		if !h {
			continue
		}
		k = l.l2Table(i, k, blk)
		if err := write(blk); err != nil {
			return cw.n, err
		}
	}
	if cw.n != l.dataOff {
		return cw.n, fmt.Errorf("disk: internal error: metadata ends at %d, planned %d", cw.n, l.dataOff)
	}

	// Data: batches of up to 16 allocated clusters, contiguous in the
	// file. starts[i] is the guest cluster where batch i begins, so memory
	// is half a byte per allocated cluster rather than a full index.
	const per = 16
	batches := int((l.nData + per - 1) / per)
	starts := make([]int64, 0, batches)
	var seen int64
	for g := alloc.next(0); g >= 0; g = alloc.next(g + 1) {
		if seen%per == 0 {
			starts = append(starts, g)
		}
		seen++
	}
	srcSize := src.Size()
	produce := func(i int, buf []byte) error {
		n := int(min(per, l.nData-int64(i)*per))
		// Read runs of consecutive guest clusters with one ReadAt each
		// (fewer range requests when the source is remote).
		for j, g := 0, starts[i]; j < n; {
			run := 1
			next := alloc.next(g + 1)
			for j+run < n && next == g+int64(run) {
				run++
				next = alloc.next(next + 1)
			}
			c := buf[j*qcowCS : (j+run)*qcowCS]
			off := g * qcowCS
			ln := min(int64(len(c)), srcSize-off)
			if err := readFullDisk(src, c[:ln], off); err != nil {
				return err
			}
			clear(c[ln:])
			j, g = j+run, next
		}
		if cr != nil {
			host := l.dataOff + int64(i)*per*qcowCS
			cr.c.EncryptUnits(buf[:n*qcowCS], buf[:n*qcowCS], SectorSize, uint64(host/SectorSize), 1)
		}
		return nil
	}
	consume := func(i int, buf []byte) error {
		n := min(per, l.nData-int64(i)*per)
		return write(buf[:n*qcowCS])
	}
	if err := ordered(ctx, o.workers, batches, per*qcowCS, produce, consume); err != nil {
		return cw.n, err
	}
	if cw.n != totalBytes {
		return cw.n, fmt.Errorf("disk: internal error: wrote %d bytes, planned %d", cw.n, totalBytes)
	}
	return cw.n, nil
}
