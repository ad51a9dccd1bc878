package e2etest

// The last check of an encrypted import: does the object really open with
// the unwrapped DEK in its format? One small table of openers, one per
// encrypted container the classic import accepts.

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/e2eimage/e2e/disk"
	"github.com/e2eimage/e2e/luks"
)

// imageOpener recognises one encrypted container format and proves that a
// DEK opens it.
type imageOpener struct {
	format string
	// detect reports whether the object looks like this format.
	detect func(r io.ReaderAt, size int64) bool
	// open returns nil when dek opens the image; the error says why not.
	open func(r io.ReaderAt, size int64, dek []byte) error
}

// imageOpeners is consulted in order; the first format whose detect
// matches decides.
var imageOpeners = []imageOpener{
	{format: "LUKS", detect: hasMagic(0, []byte("LUKS\xba\xbe")), open: openLUKSImage},
	// A dynamic VHD starts with a copy of its footer.
	{format: "EncryptedVHD", detect: hasMagic(0, []byte("conectix")), open: openEncryptedVHD},
}

// errUnknownImageFormat means no opener recognised the object.
var errUnknownImageFormat = errors.New("the object is not an encrypted image in a format the import accepts (LUKS, encrypted VHD)")

// hasMagic matches bytes at a fixed offset.
func hasMagic(off int64, magic []byte) func(io.ReaderAt, int64) bool {
	return func(r io.ReaderAt, size int64) bool {
		if size < off+int64(len(magic)) {
			return false
		}
		buf := make([]byte, len(magic))
		if _, err := r.ReadAt(buf, off); err != nil && !errors.Is(err, io.EOF) {
			return false
		}
		return bytes.Equal(buf, magic)
	}
}

// detectImageFormat names the format of an object, or "" if none matches.
func detectImageFormat(r io.ReaderAt, size int64) string {
	for _, o := range imageOpeners {
		if o.detect(r, size) {
			return o.format
		}
	}
	return ""
}

// checkImageOpens reports whether the image opens with dek.
func (c *Cloud) checkImageOpens(r io.ReaderAt, size int64, dek []byte) error {
	for _, o := range imageOpeners {
		if o.detect(r, size) {
			if err := o.open(r, size, dek); err != nil {
				return fmt.Errorf("%s: %w", o.format, err)
			}
			return nil
		}
	}
	return errUnknownImageFormat
}

// openLUKSImage opens a LUKS image whose passphrase is the base64 text of
// the DEK (IBM's 2018 convention).
func openLUKSImage(r io.ReaderAt, size int64, dek []byte) error {
	pass, err := luks.PassphraseFromDEK(dek)
	if err != nil {
		return err
	}
	defer clear(pass)
	v, err := luks.Open(io.NewSectionReader(r, 0, size), pass)
	if err != nil {
		return err
	}
	return v.Close()
}

// openEncryptedVHD opens a blktap encrypted VHD whose XTS key is the raw
// DEK (IBM's classic flow since 2019); the key hash in the batmap header
// must match before any data is read.
func openEncryptedVHD(r io.ReaderAt, size int64, dek []byte) error {
	d, err := disk.OpenEncryptedVHD(r, size, dek)
	if err != nil {
		return err
	}
	return d.Close()
}
