package disk

import (
	"bufio"
	"context"
	"fmt"
	"math/bits"

	"github.com/e2eimage/e2e/internal/sector"
)

// qcowOnePassBatch is how many clusters a worker reads at once (2 MiB).
const qcowOnePassBatch = 32

// writeQCOW2OnePass writes a qcow2 to a regular file in one pass over the
// source (see onePass): the data clusters go right after the header and
// LUKS header clusters, in guest order as they are found, each encrypted
// with its host offset as soon as that is known; the tables, whose size
// depends on how many clusters hold data, follow the data (qcow2 allows
// them anywhere), and the header cluster, which points at them, is
// written last (an old one zeroed first), so an interrupted write leaves no
// valid image. cr.header is
// asked for only then, after the data.
func writeQCOW2OnePass(ctx context.Context, pos *sector.Positional, src Disk, size int64, cr *qcowCrypto, o *writeOptions) (int64, error) {
	var luksLen int64
	method := uint32(qcowCryptNone)
	if cr != nil {
		luksLen, method = cr.luksLen, qcowCryptLUKS
	}
	dataOff := qcowCS + roundUp(luksLen, qcowCS)
	if err := clearOldHeader(pos, qcowCS); err != nil {
		return 0, err
	}
	out := &lockedFile{p: pos}
	emit := func(buf []byte, first int64, mask uint64, base int64) error {
		k := base
		for _, r := range runs(mask) {
			b := buf[r.start*qcowCS : (r.start+r.n)*qcowCS]
			host := dataOff + k*qcowCS
			if cr != nil {
				cr.c.EncryptUnits(b, b, SectorSize, uint64(host/SectorSize), 1)
			}
			if err := out.writeAt(host, b); err != nil {
				return err
			}
			k += r.n
		}
		return nil
	}
	alloc, nData, err := onePass(ctx, src, size, qcowCS, qcowOnePassBatch, o, emit)
	if err != nil {
		return 0, err
	}
	l := newQCOWLayout(size, alloc, luksLen)
	l.metadataLast()
	if l.nData != nData || l.dataOff != dataOff {
		return 0, fmt.Errorf("disk: internal error: %d data clusters at %d, laid out %d at %d", nData, dataOff, l.nData, l.dataOff)
	}
	pw := &posWriter{p: pos, off: l.l2Off}
	bw := bufio.NewWriterSize(pw, 1<<20)
	if err := l.writeMetadata(bw); err != nil {
		return 0, err
	}
	if err := bw.Flush(); err != nil {
		return 0, err
	}
	total := l.total * qcowCS
	if pw.off != total {
		return 0, fmt.Errorf("disk: internal error: metadata ends at %d, planned %d", pw.off, total)
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if cr != nil {
		header, err := cr.header()
		if err != nil {
			return 0, err
		}
		if err := ctx.Err(); err != nil { // cancelled while the KDF ran
			return 0, err
		}
		if int64(len(header)) != luksLen {
			return 0, fmt.Errorf("disk: internal error: LUKS header of %d bytes, planned %d", len(header), luksLen)
		}
		// The padding is written too: the file may hold old bytes there.
		area := make([]byte, dataOff-l.luksOff)
		copy(area, header)
		if err := pos.WriteAt(area, l.luksOff); err != nil {
			return 0, err
		}
	}
	if err := pos.WriteAt(l.header(method), 0); err != nil {
		return 0, err
	}
	if err := pos.Finish(total); err != nil {
		return 0, err
	}
	return total, nil
}

// run is a run of set bits in a batch mask: units start to start+n.
type run struct{ start, n int64 }

// runs splits mask into its runs of set bits, lowest first.
func runs(mask uint64) []run {
	var out []run
	for mask != 0 {
		j := int64(bits.TrailingZeros64(mask))
		n := int64(bits.TrailingZeros64(^(mask >> j)))
		out = append(out, run{j, n})
		mask &^= (1<<n - 1) << j
	}
	return out
}

// posWriter writes a Positional file sequentially from off.
type posWriter struct {
	p   *sector.Positional
	off int64
}

func (w *posWriter) Write(b []byte) (int, error) {
	if err := w.p.WriteAt(b, w.off); err != nil {
		return 0, err
	}
	w.off += int64(len(b))
	return len(b), nil
}
