package sector

// batch is one buffer on its way through the engine. Batches are recycled
// through a free list, so their buffers and done channels are allocated once.
type batch struct {
	buf   []byte
	n     int    // bytes of buf in use
	first uint64 // unit number of buf[0]
	off   int64  // Writer only: stream offset of buf[0]
	err   error  // Reader: the error that ends the stream after it; Writer: WriteAt's
	done  chan struct{}
}

// pool is a bounded free list of batches whose buffers are allocated on
// first use, so a short stream costs one buffer, not Workers*2+1.
type pool struct {
	free chan *batch
	size int
}

func newPool(slots, size int) *pool {
	p := &pool{free: make(chan *batch, slots), size: size}
	for range slots {
		p.free <- &batch{done: make(chan struct{}, 1)}
	}
	return p
}

// prepare readies a batch taken from the free list.
func (p *pool) prepare(b *batch) *batch {
	if b.buf == nil {
		b.buf = make([]byte, p.size)
	}
	b.n, b.err = 0, nil
	return b
}

func (p *pool) put(b *batch) { p.free <- b }
