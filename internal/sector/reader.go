package sector

import (
	"errors"
	"fmt"
	"io"
	"sync"
)

var (
	errInvalidRead  = errors.New("sector: source returned an invalid count from Read")
	errInvalidWrite = errors.New("sector: destination returned an invalid count from Write")
)

// Reader reads whole units from src, transforms them in parallel and returns
// them in order. A producer goroutine reads src one batch ahead of the
// workers, so reading, transforming and consuming overlap.
//
// A trailing partial unit in src is an error wrapping io.ErrUnexpectedEOF,
// returned after every whole unit before it; an error from src is likewise
// returned after the data read before it. Reading to the end (or to an
// error) stops every goroutine; Close stops them early. A Reader is not safe
// for concurrent use.
type Reader struct {
	src  io.Reader
	t    Transform
	c    config
	pool *pool

	started bool
	work    chan *batch
	order   chan *batch
	quit    chan struct{}
	wg      sync.WaitGroup

	cur    *batch // batch being consumed, or nil
	off    int    // consumed bytes of cur
	err    error  // returned once the data before it is consumed
	closed bool
	done   int64 // bytes handed to the caller
}

// NewReader returns a Reader that applies t to src's units of unitSize bytes
// (which must be positive). No goroutine starts before the first Read.
func NewReader(src io.Reader, unitSize int, t Transform, o Options) *Reader {
	c := newConfig(unitSize, o)
	return &Reader{
		src:  src,
		t:    t,
		c:    c,
		pool: newPool(c.slots(), c.batch),
	}
}

// Read reads transformed bytes into p.
func (r *Reader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, r.precheck()
	}
	b, err := r.batch()
	if err != nil {
		return 0, err
	}
	n := copy(p, b.buf[r.off:b.n])
	r.off += n
	r.consumed()
	return n, nil
}

// WriteTo writes the transformed stream to w straight from the batch
// buffers until the end of src, and returns the bytes written. It returns
// nil at the end of the stream, not io.EOF.
func (r *Reader) WriteTo(w io.Writer) (int64, error) {
	var total int64
	for {
		b, err := r.batch()
		if err == io.EOF {
			return total, nil
		}
		if err != nil {
			return total, err
		}
		m, err := w.Write(b.buf[r.off:b.n])
		if m < 0 || m > b.n-r.off {
			return total, errInvalidWrite
		}
		r.off += m
		total += int64(m)
		r.consumed()
		if err == nil && m == 0 {
			err = io.ErrShortWrite
		}
		if err != nil {
			return total, err
		}
	}
}

// Close stops the workers early and releases the batches; it waits for a
// Read of src already in progress to return. Read returns ErrClosed after
// Close. Close does not close src and always returns nil.
func (r *Reader) Close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	if !r.started {
		return nil
	}
	close(r.quit)
	if r.cur != nil {
		r.pool.put(r.cur)
		r.cur = nil
	}
	for b := range r.order {
		<-b.done
		r.pool.put(b)
	}
	r.wg.Wait()
	return nil
}

func (r *Reader) precheck() error {
	if r.closed {
		return ErrClosed
	}
	if r.cur == nil && r.err != nil {
		return r.err
	}
	return nil
}

// batch returns the batch being consumed, with unconsumed bytes at r.off,
// waiting for the next one in stream order when needed.
func (r *Reader) batch() (*batch, error) {
	if err := r.precheck(); err != nil {
		return nil, err
	}
	r.start()
	for r.cur == nil {
		if r.err != nil {
			return nil, r.err
		}
		b, ok := <-r.order
		if !ok { // unreachable: the producer always ends with an error batch
			r.err = io.EOF
			continue
		}
		<-b.done
		if b.n == 0 {
			r.err = b.err
			r.pool.put(b)
			continue
		}
		r.cur, r.off = b, 0
	}
	return r.cur, nil
}

// consumed recycles the current batch once it has been handed out entirely.
func (r *Reader) consumed() {
	b := r.cur
	if r.off < b.n {
		return
	}
	r.done += int64(b.n)
	r.err = b.err
	r.cur = nil
	r.pool.put(b)
	if r.c.progress != nil {
		r.c.progress(r.done)
	}
}

func (r *Reader) start() {
	if r.started {
		return
	}
	r.started = true
	slots := r.c.slots()
	r.work = make(chan *batch, slots)
	r.order = make(chan *batch, slots)
	r.quit = make(chan struct{})
	r.wg.Add(r.c.workers + 1)
	for range r.c.workers {
		go r.worker()
	}
	go r.produce()
}

func (r *Reader) worker() {
	defer r.wg.Done()
	for b := range r.work {
		if b.n > 0 {
			r.t(b.buf[:b.n], b.first)
		}
		b.done <- struct{}{}
	}
}

// produce reads src batch by batch until EOF, an error or Close. The last
// batch it sends always carries the error (io.EOF at a clean end).
func (r *Reader) produce() {
	defer r.wg.Done()
	defer close(r.order)
	defer close(r.work)
	next := r.c.firstUnit
	unit := r.c.unit
	for {
		select { // prefer quit: both may be ready while Close drains
		case <-r.quit:
			return
		default:
		}
		var b *batch
		select {
		case b = <-r.pool.free:
		case <-r.quit:
			return
		}
		b = r.pool.prepare(b)
		m, err := io.ReadFull(r.src, b.buf)
		switch err {
		case nil:
		case io.EOF:
		case io.ErrUnexpectedEOF:
			err = io.EOF
			if rem := m % unit; rem != 0 {
				err = fmt.Errorf("sector: stream ends %d bytes into a %d-byte unit: %w", rem, unit, io.ErrUnexpectedEOF)
			}
		}
		b.n = m - m%unit // a partial unit before an error cannot be transformed
		b.first = next
		next += uint64(b.n / unit)
		b.err = err
		r.order <- b // never blocks: both channels hold as many batches as exist
		r.work <- b
		if err != nil {
			return
		}
	}
}
