package storage

import (
	"context"
	"errors"
	"io"
	"sync"
)

// ObjectWriter is an io.WriteCloser that uploads what is written to it, so
// stream encoders compose: luks.NewWriter(storage.NewObjectWriter(...)).
// Close returns once the object is stored (or the upload failed and was
// aborted); Result then describes it. Errors are sticky. It is not safe for
// concurrent Writes, like any io.Writer.
type ObjectWriter struct {
	pw     *io.PipeWriter
	done   chan struct{}
	res    *UploadResult
	err    error // of the upload, valid after done
	once   sync.Once
	closed bool
}

var errAbandoned = errors.New("storage: upload abandoned by the writer")

// NewObjectWriter starts an upload to bucket/key fed by the returned
// writer. Options are those of Upload; an invalid option or name surfaces
// at the first Write or at Close. Cancelling ctx aborts the upload even
// while nothing is being written; Write and Close then return its error.
func (c *Client) NewObjectWriter(ctx context.Context, bucket, key string, opts ...UploadOption) *ObjectWriter {
	pr, pw := io.Pipe()
	w := &ObjectWriter{pw: pw, done: make(chan struct{})}
	// Upload does not interrupt reads on ctx: without this, a cancelled
	// upload whose writer went quiet (neither Write nor Close) would wait on
	// the pipe forever, its multipart upload never aborted.
	stop := context.AfterFunc(ctx, func() { pr.CloseWithError(context.Cause(ctx)) })
	go func() {
		defer close(w.done)
		w.res, w.err = c.Upload(ctx, bucket, key, pr, opts...)
		stop()
		// Unblock a writer whose data will never be read.
		if w.err != nil {
			pr.CloseWithError(w.err)
		} else {
			pr.CloseWithError(ErrClosed)
		}
	}()
	return w
}

// Write sends p to the upload. It blocks while the part buffers are full.
func (w *ObjectWriter) Write(p []byte) (int, error) {
	if w.closed {
		return 0, ErrClosed
	}
	n, err := w.pw.Write(p)
	if err != nil {
		select {
		case <-w.done:
			if w.err != nil {
				return n, w.err
			}
		default:
		}
	}
	return n, err
}

// Close ends the object and waits for the upload; it returns the upload's
// error, if any. Calling it again returns the same result.
func (w *ObjectWriter) Close() error {
	w.once.Do(func() {
		w.closed = true
		_ = w.pw.Close()
	})
	<-w.done
	return w.err
}

// CloseWithError abandons the object: the upload is aborted, nothing is
// stored, and Close returns an error wrapping err.
func (w *ObjectWriter) CloseWithError(err error) error {
	if err == nil {
		err = errAbandoned
	}
	w.once.Do(func() {
		w.closed = true
		_ = w.pw.CloseWithError(err)
	})
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
