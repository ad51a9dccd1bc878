package storage

import (
	"context"
	"sync"
	"sync/atomic"
)

// partBuf is a part in flight, released by both the hasher and its upload.
type partBuf struct {
	b    []byte
	refs atomic.Int32
}

func (pb *partBuf) release(pool *partPool) {
	if pb.refs.Add(-1) == 0 {
		pool.put(pb.b)
	}
}

// partPool hands out at most max part buffers, allocated on first use and
// recycled, so an upload holds a bounded amount of memory.
type partPool struct {
	size  int64
	free  chan []byte
	mu    sync.Mutex
	made  int
	limit int
}

func newPartPool(size int64, limit int) *partPool {
	return &partPool{size: size, free: make(chan []byte, limit), limit: limit}
}

// get returns a full-length buffer, waiting for one to be returned when
// all are in use; it fails when ctx is done.
func (p *partPool) get(ctx context.Context) ([]byte, error) {
	select {
	case b := <-p.free:
		return b[:p.size], nil
	default:
	}
	p.mu.Lock()
	if p.made < p.limit {
		p.made++
		p.mu.Unlock()
		return make([]byte, p.size), nil
	}
	p.mu.Unlock()
	select {
	case b := <-p.free:
		return b[:p.size], nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (p *partPool) put(b []byte) {
	if b != nil {
		p.free <- b[:cap(b)]
	}
}
