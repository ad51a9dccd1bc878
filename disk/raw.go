package disk

import (
	"context"
	"io"
)

type rawImpl struct {
	r    io.ReaderAt
	size int64
}

func openRaw(r io.ReaderAt, size int64) Disk {
	return &image{impl: rawImpl{r, size}, size: size, format: Raw}
}

func (d rawImpl) readAt(p []byte, off int64) error {
	n, err := d.r.ReadAt(p, off)
	if n == len(p) {
		return nil
	}
	if err == nil || err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// extents of a raw image: all of it may hold data; the writers' zero scan
// finds the holes.
func (d rawImpl) extents(ctx context.Context) ([]Extent, error) {
	return []Extent{{Offset: 0, Length: d.size}}, nil
}
