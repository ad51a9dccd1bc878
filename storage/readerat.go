package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/IBM/ibm-cos-sdk-go/aws"
	"github.com/IBM/ibm-cos-sdk-go/service/s3"
)

// Reader defaults.
const (
	DefaultBlockSize = 4 << 20 // bytes per ranged GET
	DefaultReadAhead = 2       // blocks fetched ahead of a sequential reader
)

// ReaderOption configures NewReaderAt.
type ReaderOption func(*readerOptions) error

type readerOptions struct {
	blockSize int64
	readAhead int
}

// WithBlockSize sets how many bytes each ranged GET fetches, 64 KiB to
// 1 GiB. The default is DefaultBlockSize.
func WithBlockSize(n int64) ReaderOption {
	return func(o *readerOptions) error {
		if n < 64<<10 || n > 1<<30 {
			return fmt.Errorf("%w: block size %d outside [64 KiB, 1 GiB]", ErrInvalidOption, n)
		}
		o.blockSize = n
		return nil
	}
}

// WithReadAhead sets how many blocks are fetched in the background ahead
// of sequential reads, 0 to 64. The default is DefaultReadAhead.
func WithReadAhead(blocks int) ReaderOption {
	return func(o *readerOptions) error {
		if blocks < 0 || blocks > 64 {
			return fmt.Errorf("%w: read-ahead %d outside [0, 64]", ErrInvalidOption, blocks)
		}
		o.readAhead = blocks
		return nil
	}
}

// ObjectReaderAt reads an object with ranged GETs as an io.ReaderAt, safe
// for concurrent use. Blocks are cached (read-ahead + 4 blocks at most) and
// sequential reads fetch the next blocks in the background. Every GET is
// bound to the ETag seen at open, so a replaced object fails with
// ErrObjectChanged instead of mixing versions. Close it to stop background
// fetches; Close returns once they have all ended.
type ObjectReaderAt struct {
	c           *Client
	ctx         context.Context
	cancel      context.CancelFunc
	bucket, key string
	size        int64
	etag        string
	bs          int64
	ahead       int
	capacity    int
	fetches     sync.WaitGroup // background fetches, which Close waits for

	mu     sync.Mutex
	blocks map[int64]*block
	tick   uint64
	last   int64 // the block read last, to detect sequential reads
	closed bool
}

type block struct {
	ready chan struct{} // closed when data/err are set
	data  []byte
	err   error
	used  uint64
}

// NewReaderAt opens an object for random access. ctx bounds every fetch
// the reader makes, including background ones.
func (c *Client) NewReaderAt(ctx context.Context, bucket, key string, opts ...ReaderOption) (*ObjectReaderAt, error) {
	o := readerOptions{blockSize: DefaultBlockSize, readAhead: DefaultReadAhead}
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return nil, err
		}
	}
	info, err := c.Head(ctx, bucket, key)
	if err != nil {
		return nil, err
	}
	rctx, cancel := context.WithCancel(ctx)
	return &ObjectReaderAt{c: c, ctx: rctx, cancel: cancel, bucket: bucket, key: key,
		size: info.Size, etag: info.ETag, bs: o.blockSize, ahead: o.readAhead, capacity: o.readAhead + 4,
		blocks: map[int64]*block{}, last: -2}, nil
}

// Size is the object's size in bytes.
func (r *ObjectReaderAt) Size() int64 { return r.size }

// ETag is the object's ETag at open.
func (r *ObjectReaderAt) ETag() string { return r.etag }

// ReadAt reads len(p) bytes at off, as io.ReaderAt specifies.
func (r *ObjectReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("storage: ReadAt %s/%s: negative offset %d", r.bucket, r.key, off)
	}
	if off >= r.size {
		if len(p) == 0 {
			return 0, nil
		}
		return 0, io.EOF
	}
	end := min(off+int64(len(p)), r.size)
	n := 0
	for pos := off; pos < end; {
		idx := pos / r.bs
		b, err := r.get(idx)
		if err != nil {
			return n, err
		}
		n += copy(p[n:], b.data[pos-idx*r.bs:])
		pos = off + int64(n)
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// get returns block idx, fetching it (and the read-ahead) as needed.
func (r *ObjectReaderAt) get(idx int64) (*block, error) {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil, ErrClosed
	}
	b := r.lookup(idx)
	if r.ahead > 0 && (idx == r.last+1 || idx == r.last) {
		for a := idx + 1; a <= idx+int64(r.ahead) && a*r.bs < r.size; a++ {
			r.lookup(a)
		}
	}
	r.last = idx
	r.mu.Unlock()

	select {
	case <-b.ready:
	case <-r.ctx.Done():
		return nil, fmt.Errorf("storage: read %s/%s: %w", r.bucket, r.key, r.ctx.Err())
	}
	if b.err != nil {
		r.mu.Lock()
		if r.blocks[idx] == b {
			delete(r.blocks, idx) // let a later read try again
		}
		r.mu.Unlock()
		return nil, b.err
	}
	return b, nil
}

// lookup returns the cached block idx or starts fetching it; r.mu is held.
func (r *ObjectReaderAt) lookup(idx int64) *block {
	r.tick++
	if b, ok := r.blocks[idx]; ok {
		b.used = r.tick
		return b
	}
	for len(r.blocks) >= r.capacity {
		var oldest int64 = -1
		for i, b := range r.blocks {
			if oldest < 0 || b.used < r.blocks[oldest].used {
				oldest = i
			}
		}
		delete(r.blocks, oldest) // readers holding it keep their copy
	}
	b := &block{ready: make(chan struct{}), used: r.tick}
	r.blocks[idx] = b
	r.fetches.Go(func() { r.fetch(idx, b) }) // not after Close: r.closed is checked under r.mu
	return b
}

// fetch reads one block, retrying a body that broke off.
func (r *ObjectReaderAt) fetch(idx int64, b *block) {
	defer close(b.ready)
	start := idx * r.bs
	end := min(start+r.bs, r.size) // exclusive
	buf := make([]byte, end-start)
	var err error
	for attempt := 0; attempt <= maxResumes; attempt++ {
		if err = r.fetchInto(buf, start); err == nil {
			b.data = buf
			return
		}
		var re *RequestError
		if r.ctx.Err() != nil || errors.As(err, &re) {
			break // the SDK already retried requests; only broken bodies retry here
		}
	}
	b.err = err
}

func (r *ObjectReaderAt) fetchInto(buf []byte, start int64) error {
	in := &s3.GetObjectInput{Bucket: aws.String(r.bucket), Key: aws.String(r.key),
		Range: aws.String(fmt.Sprintf("bytes=%d-%d", start, start+int64(len(buf))-1))}
	if r.etag != "" {
		in.IfMatch = aws.String(r.etag)
	}
	out, err := r.c.s3.GetObjectWithContext(r.ctx, in)
	if err != nil {
		return wrapErr(r.ctx.Err(), "GetObject", r.bucket, r.key, err)
	}
	defer out.Body.Close()
	if got := aws.Int64Value(out.ContentLength); got != int64(len(buf)) {
		return fmt.Errorf("%w: ranged GET of %s/%s at %d answered %d bytes, want %d", ErrSizeMismatch, r.bucket, r.key, start, got, len(buf))
	}
	if _, err := io.ReadFull(out.Body, buf); err != nil {
		if r.ctx.Err() != nil {
			return fmt.Errorf("storage: read %s/%s: %w", r.bucket, r.key, r.ctx.Err())
		}
		return fmt.Errorf("storage: read %s/%s at %d: %w", r.bucket, r.key, start, err)
	}
	return nil
}

// Close stops background fetches, waits for them to end and drops the
// cache. Reads after Close fail.
func (r *ObjectReaderAt) Close() error {
	r.mu.Lock()
	r.closed = true
	r.blocks = nil
	r.mu.Unlock()
	r.cancel()
	r.fetches.Wait()
	return nil
}
