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

// HoleGrain is the granularity at which WriteData leaves zeros out: 64 KiB,
// a qcow2 cluster, fine enough for the free space of real file systems and
// coarse enough that a data-only buffer costs one WriteAt.
const HoleGrain = 64 << 10

// WriteData is WriteAt, except that the all-zero HoleGrain-sized pieces of
// b (counted from its start) are not written when the file held nothing
// past the stream's start: Finish extends the file over the gaps, which then
// read as zeros (holes, as qemu-img's raw output has). The pieces with data
// are written in runs, one WriteAt each. Decrypting a sparse image writes
// only its data.
func (p *Positional) WriteData(b []byte, off int64) error {
	if !p.fresh {
		return p.WriteAt(b, off)
	}
	start := -1 // start of the run of data pieces being gathered
	for i := 0; i < len(b); i += HoleGrain {
		zero := IsZero(b[i:min(i+HoleGrain, len(b))])
		if !zero && start < 0 {
			start = i
		}
		if zero && start >= 0 {
			if err := p.WriteAt(b[start:i], off+int64(start)); err != nil {
				return err
			}
			start = -1
		}
	}
	if start >= 0 {
		return p.WriteAt(b[start:], off+int64(start))
	}
	return nil
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

// IsZero reports whether every byte of b is zero. Package disk finds its
// unallocated blocks with it too.
func IsZero(b []byte) bool {
	for len(b) > 0 {
		n := min(len(b), len(zeros))
		if !bytes.Equal(b[:n], zeros[:n]) {
			return false
		}
		b = b[n:]
	}
	return true
}
