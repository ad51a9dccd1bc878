package storage

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/IBM/ibm-cos-sdk-go/aws"
	"github.com/IBM/ibm-cos-sdk-go/aws/request"
	"github.com/IBM/ibm-cos-sdk-go/service/s3"
	"golang.org/x/sync/errgroup"
)

// S3's multipart limits, which COS shares.
const (
	MinPartSize = 5 << 20 // every part but the last
	MaxPartSize = 5 << 30
	MaxParts    = 10000
)

// Upload defaults.
const (
	// DefaultPartSize fits a 100 GB image (IBM's import limit) in 10,000 parts
	// with room to spare: 100 GB / 10,000 is 10 MB.
	DefaultPartSize = 16 << 20
	// DefaultConcurrency is how many parts are sent at once.
	DefaultConcurrency = 4
)

// UploadResult describes a stored object.
type UploadResult struct {
	URI    URI
	Size   int64
	SHA256 []byte // of the whole object, computed while streaming
	MD5    []byte // of the whole object with WithMD5, else nil
	ETag   string
	Parts  int // number of parts; 1 for a single PUT
}

// Progress is a snapshot of an upload, passed to the WithProgress callback.
type Progress struct {
	Bytes    int64 // bytes stored (acknowledged by the server, or found stored by WithResume)
	Parts    int   // parts stored
	Elapsed  time.Duration
	UploadID string // the multipart upload, to persist for WithResume; empty for a single PUT
}

// Rate is the average upload rate so far, in bytes per second.
func (p Progress) Rate() float64 {
	if p.Elapsed <= 0 {
		return 0
	}
	return float64(p.Bytes) / p.Elapsed.Seconds()
}

// Upload streams r into bucket/key and returns what it stored. Objects of
// up to one part go up in a single PUT; larger ones as a multipart upload
// of parts sent concurrently, so memory stays bounded by
// (Concurrency+1) × PartSize whatever the size. The SHA-256 of the whole
// object (and its MD5 with WithMD5) is computed on the way; every part is
// sent with its Content-MD5, which the server checks.
//
// On any failure — r fails, a part is refused, ctx is cancelled — the
// multipart upload is aborted once the parts in flight have stopped, and
// the *UploadError says what happened and whether anything was left behind.
// Reads from r are not interrupted by ctx; use a reader that honours it.
func (c *Client) Upload(ctx context.Context, bucket, key string, r io.Reader, opts ...UploadOption) (*UploadResult, error) {
	u, err := c.newUpload(ctx, bucket, key, opts)
	if err != nil {
		return nil, err
	}
	return u.run(&readerParts{r: r, pool: u.pool})
}

func (c *Client) newUpload(ctx context.Context, bucket, key string, opts []UploadOption) (*upload, error) {
	o, err := newUploadOptions(opts)
	if err != nil {
		return nil, err
	}
	uri := URI{Region: c.region, Bucket: bucket, Object: key}
	if err := uri.Validate(); err != nil {
		return nil, err
	}
	u := &upload{c: c, ctx: ctx, o: o, uri: uri, sha: sha256.New(), start: time.Now(),
		pool: newPartPool(o.partSize, o.concurrency+1)}
	if o.md5 {
		u.md5 = md5.New()
	}
	return u, nil
}

type upload struct {
	c     *Client
	ctx   context.Context
	o     uploadOptions
	uri   URI
	pool  *partPool
	sha   hash.Hash
	md5   hash.Hash // nil without WithMD5
	start time.Time
	read  int64 // bytes read from the source

	mu     sync.Mutex // guards the fields below and serialises progress calls
	stored int64
	parts  []*s3.CompletedPart
	id     string // the multipart upload
}

func (u *upload) hash(p []byte) {
	u.sha.Write(p)
	if u.md5 != nil {
		u.md5.Write(p)
	}
	u.read += int64(len(p))
}

func (u *upload) result(etag string, parts int) *UploadResult {
	res := &UploadResult{URI: u.uri, Size: u.read, SHA256: u.sha.Sum(nil), ETag: etag, Parts: parts}
	if u.md5 != nil {
		res.MD5 = u.md5.Sum(nil)
	}
	return res
}

func (u *upload) stored1(n int) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.stored += int64(n)
	if u.o.progress != nil {
		u.o.progress(Progress{Bytes: u.stored, Parts: len(u.parts), Elapsed: time.Since(u.start), UploadID: u.id})
	}
}

func (u *upload) run(src partSource) (*UploadResult, error) {
	if err := u.ctx.Err(); err != nil {
		return nil, &UploadError{URI: u.uri, Err: fmt.Errorf("upload cancelled: %w", err)}
	}
	first, err := src.next(u.ctx)
	switch {
	case err == io.EOF:
		first = nil // an empty object
	case err != nil && err == u.ctx.Err(): // a source stopped by ctx says so with ctx's own error
		return nil, &UploadError{URI: u.uri, Err: fmt.Errorf("upload cancelled: %w", err)}
	case err != nil:
		return nil, &UploadError{URI: u.uri, Err: err}
	}
	if int64(len(first)) < u.o.partSize && u.o.resumeID == "" {
		return u.single(first)
	}
	return u.multipart(src, first) // a resumed upload stays multipart
}

// single stores an object of at most one part with one PUT.
func (u *upload) single(p []byte) (*UploadResult, error) {
	u.hash(p)
	out, err := u.c.s3.PutObjectWithContext(u.ctx, &s3.PutObjectInput{
		Bucket: aws.String(u.uri.Bucket), Key: aws.String(u.uri.Object),
		Body: bytes.NewReader(p), ContentLength: aws.Int64(int64(len(p))),
		ContentType: aws.String(u.o.contentType), ContentMD5: aws.String(contentMD5(p)),
	}, unsignedPayload)
	if err != nil {
		return nil, &UploadError{URI: u.uri, Bytes: u.read, Err: wrapErr(u.ctx.Err(), "PutObject", u.uri.Bucket, u.uri.Object, err)}
	}
	u.parts = append(u.parts, nil)
	u.stored1(len(p))
	return u.result(aws.StringValue(out.ETag), 1), nil
}

// multipart sends first and the rest of src as a multipart upload.
//
// Three kinds of goroutine share the work, so that hashing overlaps the
// network: this one takes parts from src in order; one per part computes
// the part's MD5 (its Content-MD5) and only then waits for one of the
// Concurrency upload slots, so a slot is never held by hashing; one more
// feeds the whole-object digests in stream order. A part's buffer goes
// back to the pool once it is both sent and hashed; the pool's
// Concurrency+1 buffers bound the part goroutines as well as the memory.
func (u *upload) multipart(src partSource, first []byte) (*UploadResult, error) {
	bucket, key := u.uri.Bucket, u.uri.Object
	id := u.o.resumeID
	var stored map[int64]storedPart
	if id == "" {
		req, cr := u.c.s3.CreateMultipartUploadRequest(&s3.CreateMultipartUploadInput{
			Bucket: aws.String(bucket), Key: aws.String(key), ContentType: aws.String(u.o.contentType),
		})
		req.SetContext(u.ctx)
		if err := req.Send(); err != nil {
			// Every try failed, but a try whose answer was lost may still
			// have started an upload nobody knows the ID of.
			if u.ctx.Err() == nil {
				u.abortStrays(bucket, key, "")
			}
			return nil, &UploadError{URI: u.uri, Bytes: int64(len(first)), Err: wrapErr(u.ctx.Err(), "CreateMultipartUpload", bucket, key, err)}
		}
		id = aws.StringValue(cr.UploadId)
		if req.RetryCount > 0 {
			u.abortStrays(bucket, key, id)
		}
	} else {
		var err error
		if stored, err = u.c.storedParts(u.ctx, bucket, key, id); err != nil {
			// Nothing of ours to clean up: the upload is the caller's.
			return nil, &UploadError{URI: u.uri, UploadID: id, Err: err}
		}
	}
	u.mu.Lock()
	u.id = id
	u.mu.Unlock()

	// Cancelling stops the parts in flight when the source fails (unless
	// they are kept for a resume).
	pctx, cancel := context.WithCancel(u.ctx)
	defer cancel()
	g, gctx := errgroup.WithContext(pctx)
	slots := make(chan struct{}, u.o.concurrency)

	hashq := make(chan *partBuf, u.o.concurrency+1)
	hashed := make(chan struct{})
	go func() {
		defer close(hashed)
		for pb := range hashq {
			u.hash(pb.b)
			pb.release(u.pool)
		}
	}()

	var srcErr error
	p := first
	for num := int64(1); ; num++ {
		if num > MaxParts {
			srcErr = fmt.Errorf("%w: %d parts of %d bytes are not enough", ErrTooManyParts, MaxParts, u.o.partSize)
			u.pool.put(p)
			break
		}
		pb := &partBuf{b: p}
		pb.refs.Store(2)
		hashq <- pb
		g.Go(func() error {
			defer pb.release(u.pool)
			return u.sendPart(gctx, slots, id, num, pb.b, stored)
		})
		if int64(len(p)) < u.o.partSize {
			break // the short last part
		}
		next, err := src.next(gctx)
		if err == io.EOF {
			break
		}
		if err != nil {
			if err != gctx.Err() { // else a part failed or ctx is done; Wait reports it
				srcErr = err
			}
			break
		}
		p = next
	}
	close(hashq)
	if srcErr != nil && !u.o.keepParts {
		cancel() // the parts in flight would be aborted anyway
	}
	werr := g.Wait()
	<-hashed
	var err error
	switch {
	case u.ctx.Err() != nil:
		err = fmt.Errorf("upload cancelled: %w", u.ctx.Err())
	case srcErr != nil:
		err = srcErr
	default:
		err = werr
	}
	if err == nil {
		u.mu.Lock()
		parts := slices.Clone(u.parts)
		u.mu.Unlock()
		slices.SortFunc(parts, func(a, b *s3.CompletedPart) int { return int(*a.PartNumber - *b.PartNumber) })
		var out *s3.CompleteMultipartUploadOutput
		out, err = u.c.s3.CompleteMultipartUploadWithContext(u.ctx, &s3.CompleteMultipartUploadInput{
			Bucket: aws.String(bucket), Key: aws.String(key), UploadId: aws.String(id),
			MultipartUpload: &s3.CompletedMultipartUpload{Parts: parts},
		})
		if err == nil {
			return u.result(aws.StringValue(out.ETag), len(parts)), nil
		}
		err = wrapErr(u.ctx.Err(), "CompleteMultipartUpload", bucket, key, err)
		if etag, ok := u.completedAnyway(bucket, key, parts); ok {
			// Normally gone already; if the object was an identical earlier
			// one and this Complete really failed, its parts must not stay.
			_ = u.c.abort(u.ctx, bucket, key, id)
			return u.result(etag, len(parts)), nil
		}
	}
	ue := &UploadError{URI: u.uri, UploadID: id, Bytes: u.read, Err: err}
	u.mu.Lock()
	ue.Parts = len(u.parts)
	u.mu.Unlock()
	if u.o.keepParts {
		return nil, ue // left for WithResume
	}
	ue.AbortErr = u.c.abort(u.ctx, bucket, key, id)
	ue.Aborted = ue.AbortErr == nil
	return nil, ue
}

// sendPart uploads part num, unless a resumed upload already holds it
// (same size and MD5). The MD5 is computed before taking one of the
// slots, so hashing overlaps the parts being sent.
func (u *upload) sendPart(ctx context.Context, slots chan struct{}, id string, num int64, part []byte, stored map[int64]storedPart) error {
	bucket, key := u.uri.Bucket, u.uri.Object
	sum := md5.Sum(part)
	etag := ""
	if sp, ok := stored[num]; ok && sp.size == int64(len(part)) && strings.Trim(sp.etag, `"`) == hex.EncodeToString(sum[:]) {
		etag = sp.etag // already there from an earlier attempt
	} else {
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			return ctx.Err()
		}
		out, err := u.c.s3.UploadPartWithContext(ctx, &s3.UploadPartInput{
			Bucket: aws.String(bucket), Key: aws.String(key), UploadId: aws.String(id),
			PartNumber: aws.Int64(num), Body: bytes.NewReader(part), ContentLength: aws.Int64(int64(len(part))),
			ContentMD5: aws.String(base64.StdEncoding.EncodeToString(sum[:])),
		}, unsignedPayload)
		<-slots
		if err != nil {
			return wrapErr(ctx.Err(), "UploadPart", bucket, key, err)
		}
		etag = aws.StringValue(out.ETag)
	}
	u.mu.Lock()
	u.parts = append(u.parts, &s3.CompletedPart{ETag: aws.String(etag), PartNumber: aws.Int64(num)})
	u.mu.Unlock()
	u.stored1(len(part))
	return nil
}

// completedAnyway reports whether a CompleteMultipartUpload that failed
// went through all the same: the SDK resends a Complete whose answer was a
// 5xx or got lost, and when the first one had worked the resend finds no
// upload (NoSuchUpload) although the object is stored. The object counts
// as ours when its size is what was read and its ETag is the multipart
// ETag of our parts (S3, COS) or, with WithMD5, the object's MD5.
func (u *upload) completedAnyway(bucket, key string, parts []*s3.CompletedPart) (string, bool) {
	if u.ctx.Err() != nil {
		return "", false
	}
	info, err := u.c.Head(u.ctx, bucket, key)
	if err != nil || info.Size != u.read {
		return "", false
	}
	etag := strings.Trim(info.ETag, `"`)
	if etag == multipartETag(parts) || (u.md5 != nil && etag == hex.EncodeToString(u.md5.Sum(nil))) {
		return info.ETag, true
	}
	return "", false
}

// multipartETag is the ETag S3 gives an object completed from parts: the
// MD5 of the parts' binary MD5s, a dash and the number of parts.
func multipartETag(parts []*s3.CompletedPart) string {
	h := md5.New()
	for _, p := range parts {
		sum, err := hex.DecodeString(strings.Trim(aws.StringValue(p.ETag), `"`))
		if err != nil {
			return ""
		}
		h.Write(sum)
	}
	return fmt.Sprintf("%x-%d", h.Sum(nil), len(parts))
}

// strayWindow is how long before the upload started a stray multipart
// upload may have been initiated (clock skew between client and server).
const strayWindow = time.Minute

// abortStrays aborts the multipart uploads of key that a retried
// CreateMultipartUpload may have left: when the first attempt worked but
// its answer was lost, the SDK's retry started a second upload and the
// first, unknown to us, would stay forever. Uploads of key initiated since
// the upload started (less strayWindow), other than ours, are taken for
// such; uploads kept by earlier runs (WithKeepPartsOnError) are older.
// Best effort: a failure here does not fail the upload.
func (u *upload) abortStrays(bucket, key, ours string) {
	pending, err := u.c.PendingUploads(u.ctx, bucket, key)
	if err != nil {
		return
	}
	for _, p := range pending {
		if p.Key == key && p.UploadID != ours && !p.Initiated.Before(u.start.Add(-strayWindow)) {
			_ = u.c.abort(u.ctx, bucket, key, p.UploadID)
		}
	}
}

type storedPart struct {
	size int64
	etag string
}

// storedParts lists the parts an unfinished multipart upload holds.
func (c *Client) storedParts(ctx context.Context, bucket, key, id string) (map[int64]storedPart, error) {
	parts := map[int64]storedPart{}
	err := c.s3.ListPartsPagesWithContext(ctx, &s3.ListPartsInput{Bucket: aws.String(bucket), Key: aws.String(key), UploadId: aws.String(id)},
		func(page *s3.ListPartsOutput, _ bool) bool {
			for _, p := range page.Parts {
				parts[aws.Int64Value(p.PartNumber)] = storedPart{size: aws.Int64Value(p.Size), etag: aws.StringValue(p.ETag)}
			}
			return true
		})
	if err != nil {
		return nil, wrapErr(ctx.Err(), "ListParts", bucket, key, err)
	}
	return parts, nil
}

// contentMD5 is the Content-MD5 header of a body: the server checks each
// part against it.
func contentMD5(p []byte) string {
	sum := md5.Sum(p)
	return base64.StdEncoding.EncodeToString(sum[:])
}

// unsignedPayload leaves the body out of the SigV4 signature: Content-MD5
// already protects it, and hashing every part a second time (SHA-256) would
// cost more CPU than the upload itself on a fast link.
func unsignedPayload(r *request.Request) {
	r.HTTPRequest.Header.Set("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD")
}

// abortTimeout bounds the clean-up after a failure, which runs even when
// the caller's context is already cancelled.
const abortTimeout = 30 * time.Second

// abort aborts a multipart upload; an upload that is already gone counts
// as aborted.
func (c *Client) abort(ctx context.Context, bucket, key, id string) error {
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), abortTimeout)
	defer cancel()
	_, err := c.s3.AbortMultipartUploadWithContext(actx, &s3.AbortMultipartUploadInput{
		Bucket: aws.String(bucket), Key: aws.String(key), UploadId: aws.String(id),
	})
	err = wrapErr(actx.Err(), "AbortMultipartUpload", bucket, key, err)
	var re *RequestError
	if errors.As(err, &re) && re.Code == "NoSuchUpload" {
		return nil
	}
	return err
}
