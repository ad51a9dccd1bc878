package luks

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"sync"
)

// Volume is the decrypted payload of a LUKS image, read on demand.
type Volume struct {
	r    io.ReaderAt
	seg  segment
	size int64
	hdr  *Header
	slot int

	mu sync.RWMutex // guards c against Close during ReadAt
	c  sectorCipher
}

// Open unlocks the LUKS image in r with the passphrase, trying every
// active key slot, and returns its plaintext as a Volume. The image size
// comes from r's Size or Stat method, or is probed with ReadAt.
func Open(r io.ReaderAt, passphrase []byte) (*Volume, error) {
	return OpenContext(context.Background(), r, passphrase)
}

// OpenContext is Open with a context checked between key slots, since each
// one can take seconds to try.
func OpenContext(ctx context.Context, r io.ReaderAt, passphrase []byte) (*Volume, error) {
	m, err := readMeta(r)
	if err != nil {
		return nil, err
	}
	vk, slot, err := unlock(ctx, r, m, passphrase)
	if err != nil {
		return nil, err
	}
	defer clear(vk)
	seg := m.segment()
	c, err := newSectorCipher(seg.cipher, seg.mode, vk)
	if err != nil {
		return nil, err
	}
	total, err := sizeOf(r)
	if err != nil {
		c.zero()
		return nil, err
	}
	size := seg.size
	if size == 0 {
		size = total - seg.offset
	}
	if total < seg.offset+size || size < 0 {
		c.zero()
		return nil, corrupt(fmt.Sprintf("image of %d bytes ends before its payload (offset %d, size %d)", total, seg.offset, max(size, 0)))
	}
	size -= size % int64(seg.sectorSize) // dm-crypt ignores a partial last sector
	return &Volume{r: r, seg: seg, size: size, hdr: m.header(), slot: slot, c: c}, nil
}

// UnlockHeader unlocks a LUKS header without a payload of its own (qcow2
// embeds one) and returns the volume key, which the caller must zero.
func UnlockHeader(r io.ReaderAt, passphrase []byte) (volumeKey []byte, h *Header, err error) {
	m, err := readMeta(r)
	if err != nil {
		return nil, nil, err
	}
	vk, _, err := unlock(context.Background(), r, m, passphrase)
	if err != nil {
		return nil, nil, err
	}
	return vk, m.header(), nil
}

// sizeOf finds the length of r.
func sizeOf(r io.ReaderAt) (int64, error) {
	if v, ok := r.(interface{ Size() int64 }); ok {
		return v.Size(), nil
	}
	if v, ok := r.(interface{ Stat() (os.FileInfo, error) }); ok {
		fi, err := v.Stat()
		if err != nil {
			return 0, err
		}
		if fi.Mode().IsRegular() {
			return fi.Size(), nil
		}
	}
	// Block devices report size 0 in Stat but can seek to their end.
	if v, ok := r.(io.Seeker); ok {
		if n, err := v.Seek(0, io.SeekEnd); err == nil {
			return n, nil
		}
	}
	// Probe: double until a read fails, then bisect for the last byte.
	var b [1]byte
	has := func(off int64) (bool, error) {
		n, err := r.ReadAt(b[:], off)
		if n == 1 {
			return true, nil
		}
		if err == nil || errors.Is(err, io.EOF) {
			return false, nil
		}
		return false, err
	}
	lo, hi := int64(0), int64(1) // size >= lo; size < hi is unknown yet
	for {
		ok, err := has(hi - 1)
		if err != nil {
			return 0, err
		}
		if !ok {
			break
		}
		lo = hi
		if hi > 1<<60 {
			return 0, errors.New("luks: cannot determine the image size")
		}
		hi *= 2
	}
	for hi-lo > 1 { // invariant: byte lo-1 exists (or lo=0), byte hi-1 does not
		mid := lo + (hi-lo)/2
		ok, err := has(mid - 1)
		if err != nil {
			return 0, err
		}
		if ok {
			lo = mid
		} else {
			hi = mid
		}
	}
	if ok, err := has(lo); err == nil && ok {
		return lo + 1, nil
	}
	return lo, nil
}

// Size returns the payload size in bytes, whole sectors.
func (v *Volume) Size() int64 { return v.size }

// Header returns the header of the image.
func (v *Volume) Header() *Header { return v.hdr }

// KeySlot returns the key slot the passphrase opened.
func (v *Volume) KeySlot() int { return v.slot }

// Close zeroes the volume key. Reads afterwards fail with ErrClosed. It
// does not close the underlying reader.
func (v *Volume) Close() error {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.c != nil {
		v.c.zero()
		v.c = nil
	}
	return nil
}

// parallelRead is the read size above which ReadAt decrypts in parallel.
const parallelRead = 512 << 10

// ReadAt reads decrypted payload bytes at off. It is safe for concurrent
// use; large reads are decrypted by several goroutines.
func (v *Volume) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("luks: negative offset %d", off)
	}
	v.mu.RLock()
	defer v.mu.RUnlock()
	if v.c == nil {
		return 0, ErrClosed
	}
	if off >= v.size {
		return 0, io.EOF
	}
	want := p
	var eof error
	if int64(len(p)) > v.size-off {
		want, eof = p[:v.size-off], io.EOF
	}
	ss := int64(v.seg.sectorSize)
	first := off / ss
	end := (off + int64(len(want)) + ss - 1) / ss
	var buf []byte
	aligned := off%ss == 0 && int64(len(want))%ss == 0
	if aligned {
		buf = want
	} else {
		buf = make([]byte, (end-first)*ss)
	}
	n, err := v.r.ReadAt(buf, v.seg.offset+first*ss)
	if n < len(buf) {
		if err == nil || errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return 0, fmt.Errorf("luks: reading payload at %d: %w", off, err)
	}
	v.decrypt(buf, uint64(first))
	if !aligned {
		copy(want, buf[off-first*ss:])
		clear(buf)
	}
	return len(want), eof
}

// decrypt decrypts whole sectors in place; sector is the index of the
// first one in the payload.
func (v *Volume) decrypt(buf []byte, sector uint64) {
	unit := v.seg.sectorSize
	step := uint64(unit / sectorSize)
	tweak := v.seg.ivTweak + sector*step
	workers := runtime.GOMAXPROCS(0)
	if len(buf) < parallelRead || workers < 2 {
		v.c.decryptUnits(buf, buf, unit, tweak, step)
		return
	}
	per := (len(buf)/workers + unit - 1) / unit * unit
	var wg sync.WaitGroup
	for i := 0; i < len(buf); i += per {
		part := buf[i:min(i+per, len(buf))]
		t := tweak + uint64(i/unit)*step
		wg.Go(func() { v.c.decryptUnits(part, part, unit, t, step) })
	}
	wg.Wait()
}

// String describes the volume without any key material.
func (v *Volume) String() string {
	return fmt.Sprintf("luks.Volume{LUKS%d %s, %d bytes, slot %d}", v.hdr.Version, v.hdr.CipherSpec(), v.size, v.slot)
}

// GoString keeps %#v from printing the cipher's internals.
func (v *Volume) GoString() string { return v.String() }
