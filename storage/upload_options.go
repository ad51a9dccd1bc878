package storage

import "fmt"

// UploadOption configures Upload and NewObjectWriter.
type UploadOption func(*uploadOptions) error

type uploadOptions struct {
	partSize    int64
	sizeHint    int64
	concurrency int
	progress    func(Progress)
	contentType string
	md5         bool
	resumeID    string
	keepParts   bool
}

// WithPartSize sets the size of each part, between MinPartSize and
// MaxPartSize. At most Concurrency+1 part buffers are in memory at once.
// The default is DefaultPartSize, or larger when WithSizeHint needs it.
func WithPartSize(n int64) UploadOption {
	return func(o *uploadOptions) error {
		if n < MinPartSize || n > MaxPartSize {
			return fmt.Errorf("%w: part size %d outside [%d, %d]", ErrInvalidOption, n, MinPartSize, MaxPartSize)
		}
		o.partSize = n
		return nil
	}
}

// WithSizeHint tells the expected object size, so that the default part
// size grows to fit it in MaxParts parts. The default is unknown.
func WithSizeHint(n int64) UploadOption {
	return func(o *uploadOptions) error {
		if n < 0 || n > MaxParts*MaxPartSize {
			return fmt.Errorf("%w: size hint %d outside [0, %d]", ErrInvalidOption, n, int64(MaxParts)*MaxPartSize)
		}
		o.sizeHint = n
		return nil
	}
}

// WithConcurrency sets how many parts are uploaded at once, 1 to 64.
// The default is DefaultConcurrency.
func WithConcurrency(n int) UploadOption {
	return func(o *uploadOptions) error {
		if n < 1 || n > 64 {
			return fmt.Errorf("%w: concurrency %d outside [1, 64]", ErrInvalidOption, n)
		}
		o.concurrency = n
		return nil
	}
}

// WithProgress calls fn after each stored part. Calls are serialised; a
// slow fn delays the upload. The default is no callback.
func WithProgress(fn func(Progress)) UploadOption {
	return func(o *uploadOptions) error {
		o.progress = fn
		return nil
	}
}

// WithContentType sets the object's Content-Type. The default is
// "application/octet-stream".
func WithContentType(t string) UploadOption {
	return func(o *uploadOptions) error {
		o.contentType = t
		return nil
	}
}

// WithMD5 also computes the MD5 of the whole object (UploadResult.MD5),
// for tools that check images by MD5. It costs as much CPU as the upload's
// own per-part MD5s, which is why the default computes only the SHA-256.
func WithMD5() UploadOption {
	return func(o *uploadOptions) error {
		o.md5 = true
		return nil
	}
}

// WithResume continues the multipart upload uploadID (from an earlier
// UploadError or Progress) instead of starting one: the caller supplies the
// same stream again from its start, and parts the server already holds with
// the same size and MD5 are hashed but not sent again. The stream must be
// deterministic (an encryption with the same key is). The default starts a
// new upload.
func WithResume(uploadID string) UploadOption {
	return func(o *uploadOptions) error {
		if uploadID == "" {
			return fmt.Errorf("%w: empty upload ID to resume", ErrInvalidOption)
		}
		o.resumeID = uploadID
		return nil
	}
}

// WithKeepPartsOnError leaves a failed multipart upload in place for a later
// WithResume instead of aborting it; UploadError.UploadID names it, and
// AbortUpload or a bucket lifecycle rule must clean it up eventually. The
// default aborts, so nothing is left behind.
func WithKeepPartsOnError() UploadOption {
	return func(o *uploadOptions) error {
		o.keepParts = true
		return nil
	}
}

func newUploadOptions(opts []UploadOption) (uploadOptions, error) {
	o := uploadOptions{concurrency: DefaultConcurrency, contentType: "application/octet-stream"}
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return o, err
		}
	}
	if o.partSize == 0 {
		o.partSize = DefaultPartSize
		if need := (o.sizeHint + MaxParts - 1) / MaxParts; need > o.partSize {
			o.partSize = (need + 1<<20 - 1) &^ (1<<20 - 1) // whole MiB
		}
	} else if o.sizeHint > o.partSize*MaxParts {
		return o, fmt.Errorf("%w: a %d-byte object does not fit in %d parts of %d bytes", ErrTooManyParts, o.sizeHint, MaxParts, o.partSize)
	}
	return o, nil
}
