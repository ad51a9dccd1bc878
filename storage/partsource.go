package storage

import (
	"context"
	"fmt"
	"io"
)

// partSource yields a stream's parts in order, each in a buffer from the
// upload's pool: full parts, then at most one shorter last part, then
// io.EOF. When ctx ends first, next returns ctx.Err() itself, so the upload
// tells a stop from a failed source.
type partSource interface {
	next(ctx context.Context) ([]byte, error)
}

// readerParts reads parts from an io.Reader straight into pool buffers.
type readerParts struct {
	r    io.Reader
	pool *partPool
}

func (s *readerParts) next(ctx context.Context) ([]byte, error) {
	buf, err := s.pool.get(ctx)
	if err != nil {
		return nil, err
	}
	n, err := io.ReadFull(s.r, buf)
	switch err {
	case nil, io.ErrUnexpectedEOF:
		return buf[:n], nil
	case io.EOF:
		s.pool.put(buf)
		return nil, io.EOF
	default:
		s.pool.put(buf)
		return nil, fmt.Errorf("read source: %w", err)
	}
}

// writtenParts receives the parts an ObjectWriter filled. The writer closes
// the channel after its last part; abandoned, set before, is then the
// error that ends the stream instead of io.EOF.
type writtenParts struct {
	parts     <-chan []byte
	abandoned *error
}

func (s *writtenParts) next(ctx context.Context) ([]byte, error) {
	select {
	case p, ok := <-s.parts:
		switch {
		case ok:
			return p, nil
		case *s.abandoned != nil:
			return nil, *s.abandoned
		default:
			return nil, io.EOF
		}
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
