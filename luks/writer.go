package luks

import (
	"fmt"
	"io"

	"github.com/e2eimage/e2e/internal/sector"
)

const defaultBatch = sector.DefaultBatchSize

// Writer encrypts a stream into a LUKS image: NewWriter writes the header
// and key material, everything written afterwards becomes the payload.
// Sectors are encrypted by parallel workers and written to dst in order;
// when dst is a regular *os.File the workers write their batches at their
// offsets themselves (pwrite), which spreads the kernel's share of the work
// over the cores, and Close leaves the file offset at the end of the image.
// Errors are sticky. A Writer is not safe for concurrent use.
type Writer struct {
	sw   *sector.Writer
	c    sectorCipher
	unit int64
	err  error
}

// NewWriter formats a new LUKS image with the passphrase in key slot 0,
// writes its header area to dst at once, and returns a Writer for the
// payload. With the defaults it makes a LUKS1 aes-xts-plain64 image with a
// 512-bit key, sha256, PBKDF2 calibrated to 2 s and cryptsetup's layout.
func NewWriter(dst io.Writer, passphrase []byte, opts ...Option) (*Writer, error) {
	o, err := buildOptions(opts)
	if err != nil {
		return nil, err
	}
	f, err := format(passphrase, &o)
	if err != nil {
		return nil, err
	}
	defer f.wipe()
	c, err := newSectorCipher(f.seg.cipher, f.seg.mode, f.vk)
	if err != nil {
		return nil, err
	}
	if err := f.writeTo(dst); err != nil {
		c.zero()
		return nil, err
	}
	return &Writer{c: c, unit: int64(f.seg.sectorSize), sw: newPayloadWriter(dst, c, f.seg, &o, true)}, nil
}

// newPayloadWriter runs c over a payload stream in parallel; encrypt picks
// the direction.
func newPayloadWriter(dst io.Writer, c sectorCipher, seg segment, o *options, encrypt bool) *sector.Writer {
	unit := seg.sectorSize
	step := uint64(unit / sectorSize)
	tweak := seg.ivTweak
	t := func(buf []byte, first uint64) {
		if encrypt {
			c.encryptUnits(buf, buf, unit, tweak+first*step, step)
		} else {
			c.decryptUnits(buf, buf, unit, tweak+first*step, step)
		}
	}
	return sector.NewWriter(dst, unit, t, sector.Options{
		Workers:   o.workers,
		BatchSize: o.batchSize,
		Progress:  o.progress,
		Holes:     !encrypt, // plaintext may be zeros; ciphertext never is
	})
}

// Write encrypts p into the payload. Data is buffered into batches; Close
// flushes the rest.
func (w *Writer) Write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	return w.sw.Write(p)
}

// ReadFrom encrypts everything r yields until EOF, reading straight into
// the batch buffers. It implements io.ReaderFrom, so io.Copy uses it.
func (w *Writer) ReadFrom(r io.Reader) (int64, error) {
	if w.err != nil {
		return 0, w.err
	}
	return w.sw.ReadFrom(r)
}

// Close pads the last partial sector with zeros, writes everything still
// buffered, and zeroes the volume key. It does not close dst. Later calls
// return the same error.
func (w *Writer) Close() error {
	if w.err != nil {
		if w.err == ErrClosed {
			return nil
		}
		return w.err
	}
	err := w.sw.Close()
	w.c.zero()
	w.err = err
	if err == nil {
		w.err = ErrClosed
	}
	return err
}

// Written returns the payload bytes accepted so far, counting whole
// sectors only; after Close it includes the zero padding.
func (w *Writer) Written() int64 { return int64(w.sw.Units()) * w.unit }

// String describes the writer without any key material.
func (w *Writer) String() string {
	return fmt.Sprintf("luks.Writer{%d-byte sectors, %d bytes written}", w.unit, w.Written())
}

// GoString keeps %#v from printing the cipher's internals.
func (w *Writer) GoString() string { return w.String() }
