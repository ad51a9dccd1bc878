package disk

import (
	"context"
	"io"
	"os"
)

type rawImpl struct {
	r    io.ReaderAt
	size int64
	// f is set by OpenFile so Extents can ask the file system for holes.
	f *os.File
}

func openRaw(r io.ReaderAt, size int64) Disk {
	return &image{impl: rawImpl{r: r, size: size}, size: size, format: Raw}
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

// extents of a raw image: the holes of a sparse file read as zeros (found
// with SEEK_DATA/SEEK_HOLE where the system has them); everything else may
// hold data, and the writers' zero scan finds the rest.
func (d rawImpl) extents(ctx context.Context) ([]Extent, error) {
	all := []Extent{{Offset: 0, Length: d.size}}
	if d.f == nil {
		return all, nil
	}
	var out []Extent
	for pos := int64(0); pos < d.size; {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		data, hole, ok := nextData(d.f, pos)
		if !ok {
			return all, nil // no hole support: assume data
		}
		if data >= d.size {
			out = append(out, Extent{Offset: pos, Length: d.size - pos, Zero: true})
			break
		}
		hole = min(hole, d.size)
		out = append(out, Extent{Offset: pos, Length: data - pos, Zero: true}, Extent{Offset: data, Length: hole - data})
		pos = hole
	}
	return out, nil
}
