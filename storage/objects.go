package storage

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/IBM/ibm-cos-sdk-go/aws"
	"github.com/IBM/ibm-cos-sdk-go/service/s3"
)

// ObjectInfo describes a stored object.
type ObjectInfo struct {
	Key          string
	Size         int64
	ETag         string // quoted, as S3 answers it
	LastModified time.Time
	ContentType  string // set by Head only
}

// Head returns an object's metadata; errors.Is(err, ErrNotFound) when it
// does not exist.
func (c *Client) Head(ctx context.Context, bucket, key string) (*ObjectInfo, error) {
	out, err := c.s3.HeadObjectWithContext(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return nil, wrapErr(ctx.Err(), "HeadObject", bucket, key, err)
	}
	return &ObjectInfo{Key: key, Size: aws.Int64Value(out.ContentLength), ETag: aws.StringValue(out.ETag),
		LastModified: aws.TimeValue(out.LastModified), ContentType: aws.StringValue(out.ContentType)}, nil
}

// List returns the objects of bucket whose keys start with prefix, in key
// order, following pagination.
func (c *Client) List(ctx context.Context, bucket, prefix string) ([]ObjectInfo, error) {
	var out []ObjectInfo
	in := &s3.ListObjectsV2Input{Bucket: aws.String(bucket)}
	if prefix != "" {
		in.Prefix = aws.String(prefix)
	}
	err := c.s3.ListObjectsV2PagesWithContext(ctx, in, func(page *s3.ListObjectsV2Output, _ bool) bool {
		for _, o := range page.Contents {
			out = append(out, ObjectInfo{Key: aws.StringValue(o.Key), Size: aws.Int64Value(o.Size),
				ETag: aws.StringValue(o.ETag), LastModified: aws.TimeValue(o.LastModified)})
		}
		return true
	})
	if err != nil {
		return nil, wrapErr(ctx.Err(), "ListObjectsV2", bucket, "", err)
	}
	return out, nil
}

// Delete removes an object. Deleting a missing object succeeds, as in S3.
func (c *Client) Delete(ctx context.Context, bucket, key string) error {
	_, err := c.s3.DeleteObjectWithContext(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	return wrapErr(ctx.Err(), "DeleteObject", bucket, key, err)
}

// PendingUpload is a multipart upload that was neither completed nor aborted.
type PendingUpload struct {
	Key       string
	UploadID  string
	Initiated time.Time
}

// PendingUploads lists the unfinished multipart uploads of a bucket whose
// keys start with prefix: orphans to clean up with AbortUpload.
func (c *Client) PendingUploads(ctx context.Context, bucket, prefix string) ([]PendingUpload, error) {
	var out []PendingUpload
	in := &s3.ListMultipartUploadsInput{Bucket: aws.String(bucket)}
	if prefix != "" {
		in.Prefix = aws.String(prefix)
	}
	err := c.s3.ListMultipartUploadsPagesWithContext(ctx, in, func(page *s3.ListMultipartUploadsOutput, _ bool) bool {
		for _, u := range page.Uploads {
			out = append(out, PendingUpload{Key: aws.StringValue(u.Key), UploadID: aws.StringValue(u.UploadId),
				Initiated: aws.TimeValue(u.Initiated)})
		}
		return true
	})
	if err != nil {
		return nil, wrapErr(ctx.Err(), "ListMultipartUploads", bucket, "", err)
	}
	return out, nil
}

// AbortUpload aborts a multipart upload and frees its parts. An upload
// that no longer exists counts as aborted.
func (c *Client) AbortUpload(ctx context.Context, bucket, key, uploadID string) error {
	return c.abort(ctx, bucket, key, uploadID)
}

// maxResumes is how often a download resumes after its body broke off.
const maxResumes = 3

// Download streams an object. The reader checks that it delivers exactly
// the object's size (ErrSizeMismatch otherwise), and when the connection
// breaks mid-body it resumes from where it stopped with a ranged GET bound
// to the same ETag (ErrObjectChanged if the object was replaced).
func (c *Client) Download(ctx context.Context, bucket, key string) (io.ReadCloser, error) {
	out, err := c.s3.GetObjectWithContext(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return nil, wrapErr(ctx.Err(), "GetObject", bucket, key, err)
	}
	return &download{c: c, ctx: ctx, bucket: bucket, key: key, body: out.Body,
		size: aws.Int64Value(out.ContentLength), etag: aws.StringValue(out.ETag)}, nil
}

type download struct {
	c           *Client
	ctx         context.Context
	bucket, key string
	body        io.ReadCloser
	size, off   int64
	etag        string
	resumes     int
	err         error
}

func (d *download) Read(p []byte) (int, error) {
	for d.err == nil {
		n, err := d.body.Read(p)
		d.off += int64(n)
		switch {
		case d.off > d.size:
			d.err = fmt.Errorf("%w: %s/%s sent more than its %d bytes", ErrSizeMismatch, d.bucket, d.key, d.size)
		case err == io.EOF && d.off < d.size:
			err = io.ErrUnexpectedEOF
			fallthrough
		case err != nil && err != io.EOF:
			if d.ctx.Err() != nil {
				d.err = fmt.Errorf("storage: download %s/%s: %w", d.bucket, d.key, d.ctx.Err())
			} else if rerr := d.resume(err); rerr != nil {
				d.err = rerr
			}
			if n > 0 {
				return n, nil
			}
			continue
		case err == io.EOF:
			d.err = io.EOF
		}
		if n > 0 || d.err != nil {
			return n, d.err
		}
	}
	return 0, d.err
}

// resume reopens the body at the current offset after a broken read.
func (d *download) resume(cause error) error {
	if d.resumes >= maxResumes {
		return fmt.Errorf("storage: download %s/%s broke off at byte %d of %d after %d resumes: %w", d.bucket, d.key, d.off, d.size, d.resumes, cause)
	}
	d.resumes++
	_ = d.body.Close()
	in := &s3.GetObjectInput{Bucket: aws.String(d.bucket), Key: aws.String(d.key),
		Range: aws.String(fmt.Sprintf("bytes=%d-", d.off))}
	if d.etag != "" {
		in.IfMatch = aws.String(d.etag)
	}
	out, err := d.c.s3.GetObjectWithContext(d.ctx, in)
	if err != nil {
		return wrapErr(d.ctx.Err(), "GetObject", d.bucket, d.key, err)
	}
	d.body = out.Body
	return nil
}

func (d *download) Close() error {
	if d.err == nil {
		d.err = ErrClosed
	}
	return d.body.Close()
}
