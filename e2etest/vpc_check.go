package e2etest

// The last checks of a VPC image import: the file opens as the image it
// claims to be. An encrypted image must be qcow2+LUKS whose passphrase is
// the unwrapped data key (Key Protect wraps base64 of the passphrase text,
// so the unwrapped bytes are that text, which QEMU reads as UTF-8).

import (
	"errors"
	"fmt"
	"io"
	"unicode/utf8"

	"github.com/e2eimage/e2e/disk"
)

// openQCOW2LUKSImage reports whether passphrase opens a qcow2+LUKS image.
func openQCOW2LUKSImage(r io.ReaderAt, size int64, passphrase []byte) error {
	if !utf8.Valid(passphrase) {
		return errors.New("the unwrapped data key is not UTF-8 text, so it cannot be a LUKS passphrase")
	}
	d, err := disk.OpenQCOW2LUKS(r, size, passphrase)
	if err != nil {
		return err
	}
	return d.Close()
}

// openPlainImage reports whether an unencrypted image opens as a disk.
func openPlainImage(r io.ReaderAt, size int64) error {
	d, err := disk.Open(r, size)
	if err != nil {
		return err
	}
	defer d.Close()
	if d.Size() <= 0 {
		return fmt.Errorf("the image has no virtual size")
	}
	return nil
}
