package disk

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/e2eimage/e2e/internal/sector"
)

// Convert writes src to dst in a plain (unencrypted) format: Raw, VHDFixed
// (size rounded up to 512 bytes), VHDDynamic (blktap style: 2 MiB blocks,
// zero blocks left out, size rounded up to 2 MiB) or QCOW2 (v3, 64 KiB
// clusters, zero clusters left out, size rounded up to 512 bytes).
// Converting an opened encrypted image to Raw decrypts it. For the encrypted formats use
// WriteEncryptedVHD and WriteQCOW2LUKS. dst is written sequentially; it
// returns the number of bytes written.
func Convert(ctx context.Context, dst io.Writer, src Disk, to Format, opts ...WriteOption) (int64, error) {
	o, err := newWriteOptions(opts)
	if err != nil {
		return 0, err
	}
	switch to {
	case Raw:
		cw := &countWriter{w: dst}
		err := copyRaw(ctx, cw, src, src.Size(), o)
		return cw.n, err
	case VHDFixed:
		if src.Size() <= 0 {
			return 0, ErrEmpty
		}
		size := roundUp(src.Size(), SectorSize)
		cw := &countWriter{w: dst}
		if err := copyRaw(ctx, cw, src, size, o); err != nil {
			return cw.n, err
		}
		var uuid [16]byte
		if err := randomUUID(&uuid); err != nil {
			return cw.n, err
		}
		f := newVHDFooter(size, vhdTypeFixed, uuid, time.Now())
		_, err := cw.Write(f.marshal())
		return cw.n, err
	case VHDDynamic:
		return writeVHD(ctx, dst, src, nil, nil, o)
	case QCOW2:
		return writeQCOW2(ctx, dst, src, nil, o)
	case EncryptedVHD, QCOW2LUKS:
		return 0, fmt.Errorf("disk: Convert to %s needs a secret: use Write%s", to, map[Format]string{EncryptedVHD: "EncryptedVHD", QCOW2LUKS: "QCOW2LUKS"}[to])
	}
	return 0, fmt.Errorf("disk: cannot convert to %s", to)
}

// copyRaw streams the virtual disk, padded with zeros to size, reading
// ahead in parallel. A regular file is written by the workers at the
// chunks' offsets (see sector.Positional), one at a time: the kernel
// serializes writes to a file anyway, and a worker spinning on its lock
// burns the CPU the others need to read and decrypt (decrypting a 1 GiB
// qcow2+LUKS to tmpfs: ~20% less CPU, ~5% less time). Anything else is
// written in order.
func copyRaw(ctx context.Context, dst *countWriter, src Disk, size int64, o *writeOptions) error {
	// 2 MiB, a VHD block: a little faster than 1 MiB when decrypting to
	// tmpfs, and no faster at 4 MiB.
	const chunk = 2 << 20
	n := int((size + chunk - 1) / chunk)
	srcSize := src.Size()
	pos := sector.PositionalFile(dst.w)
	var wmu sync.Mutex
	var done int64
	err := ordered(ctx, o.workers, n, chunk, func(i int, buf []byte) error {
		off := int64(i) * chunk
		ln := min(chunk, size-off)
		rd := max(0, min(ln, srcSize-off))
		if err := readFullDisk(src, buf[:rd], off); err != nil {
			return err
		}
		clear(buf[rd:ln])
		if pos != nil {
			wmu.Lock()
			defer wmu.Unlock()
			return pos.WriteData(buf[:ln], off)
		}
		return nil
	}, func(i int, buf []byte) error {
		ln := min(chunk, size-int64(i)*chunk)
		if pos != nil {
			dst.n += ln
		} else if _, err := dst.Write(buf[:ln]); err != nil {
			return err
		}
		done += ln
		o.report(StageWrite, done, size)
		return nil
	})
	if pos != nil && err == nil {
		err = pos.Finish(done)
	}
	return err
}
