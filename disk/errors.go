package disk

import (
	"errors"
	"fmt"
)

// Sentinel errors; test for them with errors.Is.
var (
	// ErrCorrupt marks an image whose metadata is inconsistent: bad
	// checksum, offsets past the end of the file, impossible sizes. The
	// concrete error is a *CorruptError.
	ErrCorrupt = errors.New("disk: corrupt image")
	// ErrUnsupported marks a valid image using a feature this package does
	// not implement (backing files, zstd compression, legacy qcow AES...).
	ErrUnsupported = errors.New("disk: unsupported image feature")
	// ErrEncrypted is returned by Open for an encrypted image: use
	// OpenEncryptedVHD or OpenQCOW2LUKS with the secret.
	ErrEncrypted = errors.New("disk: image is encrypted")
	// ErrWrongKey means the key does not match the key hash stored in an
	// encrypted VHD.
	ErrWrongKey = errors.New("disk: wrong key")
	// ErrKeySize means an XTS key is neither 32 nor 64 bytes long.
	ErrKeySize = errors.New("disk: key must be 32 or 64 bytes")
	// ErrNotEncrypted means OpenEncryptedVHD or OpenQCOW2LUKS was given an
	// image that is not of that encrypted format.
	ErrNotEncrypted = errors.New("disk: image is not of the expected encrypted format")
	// ErrNoParent means a differencing VHD was opened without a way to open
	// its parent (see WithParentOpener), or the chain is too deep.
	ErrNoParent = errors.New("disk: differencing image needs its parent")
	// ErrClosed is returned by reads after Close.
	ErrClosed = errors.New("disk: closed")
)

// CorruptError describes which structure of which format is damaged and
// where; it unwraps to ErrCorrupt.
type CorruptError struct {
	Format Format // format being parsed
	What   string // structure, e.g. "footer checksum", "L2 entry"
	Offset int64  // file offset of the structure, -1 if not meaningful
	Detail string // what is wrong
}

func (e *CorruptError) Error() string {
	if e.Offset >= 0 {
		return fmt.Sprintf("disk: corrupt %s image: %s at offset %d: %s", e.Format, e.What, e.Offset, e.Detail)
	}
	return fmt.Sprintf("disk: corrupt %s image: %s: %s", e.Format, e.What, e.Detail)
}

// Unwrap returns ErrCorrupt.
func (e *CorruptError) Unwrap() error { return ErrCorrupt }

func corrupt(f Format, what string, off int64, format string, args ...any) error {
	return &CorruptError{Format: f, What: what, Offset: off, Detail: fmt.Sprintf(format, args...)}
}

// UnsupportedError names the feature an image uses that this package does
// not implement; it unwraps to ErrUnsupported.
type UnsupportedError struct {
	Format  Format
	Feature string
}

func (e *UnsupportedError) Error() string {
	return fmt.Sprintf("disk: unsupported %s image: %s", e.Format, e.Feature)
}

// Unwrap returns ErrUnsupported.
func (e *UnsupportedError) Unwrap() error { return ErrUnsupported }

// FormatNameError is returned by ParseFormat for an unknown name.
type FormatNameError struct{ Name string }

func (e *FormatNameError) Error() string { return fmt.Sprintf("disk: unknown format %q", e.Name) }
