package sector

import (
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
	f    *os.File
	base int64 // file offset of the stream's first byte
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
	return &Positional{f: f, base: off}
}

// WriteAt writes b at off bytes past where the file stood when
// PositionalFile was called.
func (p *Positional) WriteAt(b []byte, off int64) error {
	_, err := p.f.WriteAt(b, p.base+off)
	return err
}

// Finish moves the file offset n bytes past where it stood when
// PositionalFile was called, where n sequential bytes would have left it.
func (p *Positional) Finish(n int64) error {
	_, err := p.f.Seek(p.base+n, io.SeekStart)
	return err
}
