package sector

import (
	"bytes"
	"io"
	"os"
)

// Positional is a regular file the workers write with pwrite, each batch
// at its own offset, instead of handing every batch to one goroutine that
// writes them in turn. On tmpfs or a page cache the kernel's cost of a
// write (allocating and filling pages) is larger than AES-XTS's, so this
// spreads it over the workers too. The file offset is moved to the end of
// what was written when the Writer closes, as sequential writes leave it.
// Package disk writes its containers the same way. It is safe for
// concurrent use.
type Positional struct {
	f     *os.File
	base  int64 // file offset of the stream's first byte
	fresh bool  // the file ended at base: unwritten ranges will read as zeros
}

// PositionalFile returns dst as a positional output, or nil when dst is not
// a regular file whose offset can be read, or was opened with O_APPEND
// (where Linux's pwrite ignores the offset and appends).
func PositionalFile(dst io.Writer) *Positional {
	f, ok := dst.(*os.File)
	if !ok {
		return nil
	}
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() || appendMode(f) {
		return nil
	}
	off, err := f.Seek(0, io.SeekCurrent)
	if err != nil {
		return nil
	}
	return &Positional{f: f, base: off, fresh: fi.Size() <= off}
}

// Fresh reports whether the file held nothing past the stream's start when
// PositionalFile was called: anything not written reads as zeros.
func (p *Positional) Fresh() bool { return p.fresh }

// WriteData is WriteAt, except that an all-zero b is not written at all
// when the file held nothing past the stream's start: Finish extends the
// file over the gap, which then reads as zeros (a hole, as qemu-img's raw
// output has). Decrypting a sparse image writes only its data.
func (p *Positional) WriteData(b []byte, off int64) error {
	if p.fresh && isZero(b) {
		return nil
	}
	return p.WriteAt(b, off)
}

// WriteAt writes b at off bytes past where the file stood when
// PositionalFile was called.
func (p *Positional) WriteAt(b []byte, off int64) error {
	_, err := p.f.WriteAt(b, p.base+off)
	return err
}

// Finish moves the file offset n bytes past where it stood when
// PositionalFile was called, where n sequential bytes would have left it,
// and makes the file that long if WriteData skipped its zero tail.
func (p *Positional) Finish(n int64) error {
	if p.fresh {
		fi, err := p.f.Stat()
		if err != nil {
			return err
		}
		if fi.Size() < p.base+n {
			if err := p.f.Truncate(p.base + n); err != nil {
				return err
			}
		}
	}
	_, err := p.f.Seek(p.base+n, io.SeekStart)
	return err
}

// zeros is compared against with bytes.Equal (vectorized memequal).
var zeros [64 << 10]byte

func isZero(b []byte) bool {
	for len(b) > 0 {
		n := min(len(b), len(zeros))
		if !bytes.Equal(b[:n], zeros[:n]) {
			return false
		}
		b = b[n:]
	}
	return true
}
