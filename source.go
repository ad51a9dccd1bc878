package e2e

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/e2eimage/e2e/disk"
	"github.com/e2eimage/e2e/image"
	"github.com/e2eimage/e2e/storage"
)

// Source is the plain disk image a run encrypts: a local file, an
// io.Reader or io.ReaderAt, or an object already in Cloud Object Storage
// (cos://…). Build one with FromFile, FromReader, FromReaderAt or FromCOS.
type Source struct {
	path   string
	reader io.Reader
	ra     io.ReaderAt
	size   int64
	uri    string
}

// FromFile is a local image file.
func FromFile(path string) Source { return Source{path: path} }

// FromReader is an image streamed from r; size is its length in bytes, or
// -1 when unknown.
func FromReader(r io.Reader, size int64) Source { return Source{reader: r, size: size} }

// FromReaderAt is an image read at random from r, size bytes long: an
// image in memory (a *bytes.Reader) or any seekable store. Unlike a stream
// it can be a VHD or qcow2 container and be encrypted as an encrypted VHD
// or qcow2, which read their source twice (a zero scan, then the data).
func FromReaderAt(r io.ReaderAt, size int64) Source { return Source{ra: r, size: size} }

// FromCOS is an image object in Cloud Object Storage, as IBM's export step
// leaves it: cos://region/bucket/object.
func FromCOS(uri string) Source { return Source{uri: uri} }

// ParseSource reads a command-line argument: a cos:// URI or a file path.
func ParseSource(arg string) Source {
	if strings.HasPrefix(arg, "cos://") {
		return FromCOS(arg)
	}
	return FromFile(arg)
}

func (s Source) String() string {
	switch {
	case s.path != "":
		return s.path
	case s.uri != "":
		return s.uri
	case s.reader != nil:
		return "stream"
	case s.ra != nil:
		return "random-access source"
	}
	return "none"
}

func (s Source) empty() bool {
	return s.path == "" && s.reader == nil && s.ra == nil && s.uri == ""
}

// opened is a source ready to read: a stream of the plain image bytes, its
// size (-1 when unknown) and the random-access form when there is one.
type opened struct {
	r    io.Reader
	ra   io.ReaderAt
	disk disk.Disk // the virtual disk of a seekable source
	size int64
	done func() error
}

// open makes the source readable; cos is used for cos:// sources.
func (s Source) open(ctx context.Context, cos *storage.Client) (*opened, error) {
	switch {
	case s.path != "":
		f, err := os.Open(s.path)
		if err != nil {
			return nil, fmt.Errorf("e2e: open source: %w", err)
		}
		st, err := f.Stat()
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("e2e: open source: %w", err)
		}
		in := &opened{ra: f, size: st.Size(), done: f.Close}
		if err := virtualDisk(in); err != nil {
			f.Close()
			return nil, err
		}
		return in, nil
	case s.uri != "":
		u, err := storage.ParseURI(s.uri)
		if err != nil {
			return nil, fmt.Errorf("e2e: source: %w", err)
		}
		ra, err := cos.NewReaderAt(ctx, u.Bucket, u.Object)
		if err != nil {
			return nil, fmt.Errorf("e2e: open source %s: %w", u, err)
		}
		in := &opened{ra: ra, size: ra.Size(), done: ra.Close}
		if err := virtualDisk(in); err != nil {
			ra.Close()
			return nil, err
		}
		return in, nil
	case s.reader != nil:
		return &opened{r: s.reader, size: s.size, done: func() error { return nil }}, nil
	case s.ra != nil:
		if s.size < 0 {
			return nil, fmt.Errorf("e2e: source: FromReaderAt needs the size, not %d", s.size)
		}
		in := &opened{ra: s.ra, size: s.size, done: func() error { return nil }}
		if err := virtualDisk(in); err != nil {
			return nil, err
		}
		return in, nil
	}
	return nil, errNoSource
}

// ctxReader stops a copy when ctx is cancelled.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// Errors about the source image, returned before anything is uploaded.
var (
	// ErrTooLarge: IBM Cloud cannot import the image.
	ErrTooLarge = errors.New("e2e: image is larger than the 100 GB import limit")
	// ErrEmptySource: there is no disk to encrypt.
	ErrEmptySource = errors.New("e2e: source image is empty")
)

// MaxImageSize is IBM Cloud's limit for imported boot disk images, as the
// image package enforces it (the encrypted object, headers included).
const MaxImageSize = image.MaxImageSize
