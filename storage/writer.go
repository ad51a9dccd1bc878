package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
)

// ObjectWriter is an io.WriteCloser that uploads what is written to it, so
// stream encoders compose: luks.NewWriter(storage.NewObjectWriter(...)).
// Write copies straight into the upload's part buffers and hands each full
// part to the upload as it is, so the stream is copied once on its way to
// the network; ReadFrom reads into them without even that copy. Close
// returns once the object is stored (or the upload failed and was
// aborted); Result then describes it. Errors are sticky. It is not safe for
// concurrent use, like any io.Writer.
type ObjectWriter struct {
	ctx      context.Context
	pool     *partPool
	partSize int
	cur      []byte          // the part being filled, nil between parts
	parts    chan []byte     // full parts, then the short last one, to the upload
	stop     context.Context // done once the upload has ended: unblocks pool.get
	done     chan struct{}
	res      *UploadResult
	err      error // of the upload, valid after done
	abandon  error // set before parts is closed by CloseWithError
	closed   bool
}

var errAbandoned = errors.New("storage: upload abandoned by the writer")

// NewObjectWriter starts an upload to bucket/key fed by the returned
// writer. Options are those of Upload; an invalid option or name surfaces
// at the first Write or at Close. Cancelling ctx aborts the upload even
// while nothing is being written; Write and Close then return its error.
// The caller must Close (or CloseWithError) the writer, or the upload
// waits for more forever.
func (c *Client) NewObjectWriter(ctx context.Context, bucket, key string, opts ...UploadOption) *ObjectWriter {
	w := &ObjectWriter{ctx: ctx, done: make(chan struct{})}
	u, err := c.newUpload(ctx, bucket, key, opts)
	if err != nil {
		w.err = err
		w.stop = ctx
		close(w.done)
		return w
	}
	// Unbuffered: the pool, not a queue, bounds what is in memory.
	w.parts = make(chan []byte)
	w.pool, w.partSize = u.pool, int(u.o.partSize)
	stop, cancel := context.WithCancel(ctx)
	w.stop = stop
	go func() {
		// The upload selects on ctx while it waits for a part: a cancelled
		// upload whose writer went quiet still aborts its multipart upload.
		w.res, w.err = u.run(&writtenParts{parts: w.parts, abandoned: &w.abandon})
		close(w.done)
		cancel()
	}()
	return w
}

// Write copies p into the part buffers, handing each full part to the
// upload. It blocks while all the buffers are in use.
func (w *ObjectWriter) Write(p []byte) (int, error) {
	if err := w.check(); err != nil {
		return 0, err
	}
	n := 0
	for n < len(p) {
		if err := w.fill(); err != nil {
			return n, err
		}
		m := copy(w.cur[len(w.cur):w.partSize], p[n:])
		w.cur = w.cur[:len(w.cur)+m]
		n += m
		if err := w.flushFull(); err != nil {
			return n, err
		}
	}
	return n, nil
}

// ReadFrom reads r until EOF straight into the part buffers, which saves
// io.Copy's intermediate buffer and copy. It returns the bytes read and
// the first error of r (other than EOF) or of the upload; an error of r
// leaves the writer usable, to Close or CloseWithError.
func (w *ObjectWriter) ReadFrom(r io.Reader) (int64, error) {
	if err := w.check(); err != nil {
		return 0, err
	}
	var total int64
	for {
		if err := w.fill(); err != nil {
			return total, err
		}
		m, rerr := r.Read(w.cur[len(w.cur):w.partSize])
		if m < 0 || m > w.partSize-len(w.cur) {
			return total, fmt.Errorf("storage: reader returned %d bytes for a %d-byte buffer", m, w.partSize-len(w.cur))
		}
		w.cur = w.cur[:len(w.cur)+m]
		total += int64(m)
		if err := w.flushFull(); err != nil {
			return total, err
		}
		if rerr == io.EOF {
			return total, nil
		}
		if rerr != nil {
			return total, rerr
		}
	}
}

// check returns the error a Write or ReadFrom must return at once: the
// writer is closed, the upload failed, or ctx is done.
func (w *ObjectWriter) check() error {
	if w.closed {
		return ErrClosed
	}
	select {
	case <-w.done:
		return w.err // not nil: the upload ends on its own only by failing
	default:
	}
	if w.ctx.Err() != nil {
		<-w.done // the upload is stopping; report how it ended
		return w.err
	}
	return nil
}

// fill makes sure there is a part buffer with room in it.
func (w *ObjectWriter) fill() error {
	if w.cur != nil {
		return nil
	}
	b, err := w.pool.get(w.stop)
	if err != nil {
		<-w.done // stop is done only once the upload has ended
		return w.err
	}
	w.cur = b[:0]
	return nil
}

// flushFull hands the current part to the upload when it is full.
func (w *ObjectWriter) flushFull() error {
	if len(w.cur) < w.partSize {
		return nil
	}
	return w.send()
}

// send hands the current part to the upload, unless the upload has ended.
func (w *ObjectWriter) send() error {
	b := w.cur
	w.cur = nil
	select {
	case w.parts <- b:
		return nil
	case <-w.done:
		w.pool.put(b)
		return w.err
	}
}

// Close ends the object and waits for the upload; it returns the upload's
// error, if any. Calling it again returns the same result.
func (w *ObjectWriter) Close() error {
	if !w.closed {
		w.closed = true
		if w.parts != nil {
			// The short last part, if any; with no part at all the upload
			// stores an empty object.
			if len(w.cur) > 0 {
				_ = w.send() // a failure is the upload's error, returned below
			} else {
				w.pool.put(w.cur)
				w.cur = nil
			}
			close(w.parts)
		}
	}
	<-w.done
	return w.err
}

// CloseWithError abandons the object: the upload is aborted, nothing is
// stored, and Close returns an error wrapping err.
func (w *ObjectWriter) CloseWithError(err error) error {
	if err == nil {
		err = errAbandoned
	}
	if !w.closed {
		w.closed = true
		if w.parts != nil {
			w.pool.put(w.cur)
			w.cur = nil
			w.abandon = fmt.Errorf("storage: writer closed with an error: %w", err)
			close(w.parts)
		}
	}
	<-w.done
	return w.err
}

// Result describes the stored object once Close returned nil; nil before.
func (w *ObjectWriter) Result() *UploadResult {
	select {
	case <-w.done:
		return w.res
	default:
		return nil
	}
}
