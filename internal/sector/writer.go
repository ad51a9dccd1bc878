package sector

import (
	"io"
	"sync"
	"sync/atomic"
)

// Writer transforms everything written to it and writes the result to dst
// in order. Full batches fan out to Options.Workers goroutines and a single
// goroutine writes them to dst in stream order, so dst sees one Write per
// batch. When dst is a regular *os.File (not opened with O_APPEND), each
// worker writes its own batch at its offset with WriteAt instead, and Close
// leaves the file offset at the end of the stream, where sequential writes
// would have. Memory is bounded by about Workers*2+1 batches.
//
// Errors are sticky: after dst fails, Write, ReadFrom and Close return that
// error; after Close, Write returns ErrClosed. A Writer is not safe for
// concurrent use by several goroutines (like any io.Writer).
type Writer struct {
	dst  io.Writer
	t    Transform
	c    config
	pool *pool

	cur  *batch // batch being filled, or nil
	next uint64 // unit number of the next batch to submit
	in   int64  // bytes accepted, including Close's padding
	out  int64  // bytes submitted to the workers
	pos  *Positional

	started bool
	work    chan *batch // to the workers
	order   chan *batch // to the write loop, in stream order
	wg      sync.WaitGroup

	failed  atomic.Bool // fast check for workers and the write loop
	mu      sync.Mutex
	err     error // first dst error
	closed  bool
	written atomic.Int64 // bytes written to dst, a prefix of the stream
}

// NewWriter returns a Writer that cuts the stream into units of unitSize
// bytes (which must be positive), applies t to them in parallel and writes
// them to dst. A regular file is written at offsets counted from where its
// offset stands now, so nothing else may write it until Close. No
// goroutine starts until the first batch is full; once one has, Close must
// be called (also after an error) to stop them.
func NewWriter(dst io.Writer, unitSize int, t Transform, o Options) *Writer {
	c := newConfig(unitSize, o)
	pos := PositionalFile(dst)
	if pos != nil && c.auto {
		c.workers++
	}
	return &Writer{
		dst:  dst,
		t:    t,
		c:    c,
		pos:  pos,
		pool: newPool(c.slots(), c.batch),
		next: c.firstUnit,
	}
}

// Write copies p into batch buffers; a full batch is handed to the workers.
// It blocks while all batch buffers are in flight.
func (w *Writer) Write(p []byte) (int, error) {
	if err := w.stickyErr(); err != nil {
		return 0, err
	}
	n := 0
	for len(p) > 0 {
		if w.cur == nil {
			if err := w.get(); err != nil {
				return n, err
			}
		}
		c := copy(w.cur.buf[w.cur.n:], p)
		w.cur.n += c
		w.in += int64(c)
		n += c
		p = p[c:]
		if w.cur.n == len(w.cur.buf) {
			w.submit()
		}
	}
	return n, nil
}

// ReadFrom reads r until EOF straight into batch buffers (no intermediate
// copy) and returns the number of bytes read. An error from r is returned
// but is not sticky: the Writer stays usable.
func (w *Writer) ReadFrom(r io.Reader) (int64, error) {
	if err := w.stickyErr(); err != nil {
		return 0, err
	}
	var total int64
	for {
		if w.cur == nil {
			if err := w.get(); err != nil {
				return total, err
			}
		}
		b := w.cur
		m, err := r.Read(b.buf[b.n:])
		if m < 0 || m > len(b.buf)-b.n {
			return total, errInvalidRead
		}
		b.n += m
		w.in += int64(m)
		total += int64(m)
		if b.n == len(b.buf) {
			w.submit()
		}
		if err == io.EOF {
			return total, nil
		}
		if err != nil {
			return total, err
		}
	}
}

// Close pads a final partial unit with zeros, flushes the last batch, waits
// for every batch to reach dst and returns the first error. It does not
// close dst. Calling Close again returns the same result.
func (w *Writer) Close() error {
	if w.isClosed() {
		return w.dstErr()
	}
	if b := w.cur; b != nil {
		w.cur = nil
		if b.n > 0 && !w.failed.Load() {
			pad := (w.c.unit - b.n%w.c.unit) % w.c.unit
			clear(b.buf[b.n : b.n+pad]) // recycled buffers hold old data
			b.n += pad
			w.in += int64(pad)
			w.cur = b
			w.submit()
		} else {
			w.pool.put(b)
		}
	}
	if w.started {
		close(w.work)
		close(w.order)
		w.wg.Wait()
		if w.pos != nil && !w.failed.Load() {
			if err := w.pos.Finish(w.written.Load()); err != nil {
				w.setErr(err)
			}
		}
	}
	w.mu.Lock()
	w.closed = true
	w.mu.Unlock()
	return w.dstErr()
}

// Units returns the number of whole units accepted so far; after Close it
// includes the padded final unit, and equals the units written to dst when
// Close returned nil.
func (w *Writer) Units() uint64 { return uint64(w.in) / uint64(w.c.unit) }

// Written returns the bytes written to dst so far: after an error, those
// before the first batch that failed (with WriteAt, later batches may be in
// the file too).
func (w *Writer) Written() int64 { return w.written.Load() }

// get takes a free batch as w.cur, waiting for one if all are in flight.
func (w *Writer) get() error {
	b := <-w.pool.free
	if err := w.stickyErr(); err != nil {
		w.pool.put(b)
		return err
	}
	w.cur = w.pool.prepare(b)
	return nil
}

// submit hands w.cur, which holds whole units, to the workers and the
// write loop. Neither channel can block: both hold as many batches as exist.
func (w *Writer) submit() {
	b := w.cur
	w.cur = nil
	b.first = w.next
	w.next += uint64(b.n / w.c.unit)
	b.off = w.out
	w.out += int64(b.n)
	w.start()
	w.order <- b
	w.work <- b
}

func (w *Writer) start() {
	if w.started {
		return
	}
	w.started = true
	slots := w.c.slots()
	w.work = make(chan *batch, slots)
	w.order = make(chan *batch, slots)
	w.wg.Add(w.c.workers + 1)
	for range w.c.workers {
		go w.worker()
	}
	go w.writeLoop()
}

func (w *Writer) worker() {
	defer w.wg.Done()
	for b := range w.work {
		if !w.failed.Load() { // after a dst error the result is discarded anyway
			w.t(b.buf[:b.n], b.first)
			switch {
			case w.pos == nil:
			case w.c.holes:
				b.err = w.pos.WriteData(b.buf[:b.n], b.off)
			default:
				b.err = w.pos.WriteAt(b.buf[:b.n], b.off)
			}
		}
		b.done <- struct{}{}
	}
}

func (w *Writer) writeLoop() {
	defer w.wg.Done()
	for b := range w.order {
		<-b.done
		if !w.failed.Load() {
			err := b.err // the worker's WriteAt
			if w.pos == nil {
				var m int
				m, err = w.dst.Write(b.buf[:b.n])
				if err == nil && m != b.n {
					err = io.ErrShortWrite
				}
			}
			if err != nil {
				w.setErr(err)
			} else {
				n := w.written.Add(int64(b.n))
				if w.c.progress != nil {
					w.c.progress(n)
				}
			}
		}
		w.pool.put(b) // always recycle, so a blocked Write wakes up and sees the error
	}
}

func (w *Writer) setErr(err error) {
	w.mu.Lock()
	if w.err == nil {
		w.err = err
	}
	w.mu.Unlock()
	w.failed.Store(true)
}

func (w *Writer) dstErr() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

func (w *Writer) isClosed() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.closed
}

// stickyErr is the error that stops further writes: dst's, or ErrClosed.
func (w *Writer) stickyErr() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return w.err
	}
	if w.closed {
		return ErrClosed
	}
	return nil
}
