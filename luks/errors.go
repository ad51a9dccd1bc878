package luks

import (
	"errors"
	"strconv"
)

// Sentinel errors; test for them with errors.Is.
var (
	// ErrWrongPassphrase means no active key slot opens with the passphrase.
	ErrWrongPassphrase = errors.New("luks: wrong passphrase")
	// ErrNotLUKS means the input does not start with a LUKS magic.
	ErrNotLUKS = errors.New("luks: not a LUKS header")
	// ErrUnsupported is wrapped by UnsupportedError.
	ErrUnsupported = errors.New("luks: unsupported")
	// ErrCorrupt is wrapped by CorruptError.
	ErrCorrupt = errors.New("luks: corrupt header")
	// ErrInvalidPassphrase means a passphrase breaks the IBM convention
	// checked by ValidatePassphrase.
	ErrInvalidPassphrase = errors.New("luks: invalid passphrase")
	// ErrNoFreeSlot means every key slot is in use.
	ErrNoFreeSlot = errors.New("luks: no free key slot")
	// ErrLastKeySlot means RemoveKey refused to remove the only active key
	// slot, which would make the image unrecoverable.
	ErrLastKeySlot = errors.New("luks: refusing to remove the last key slot")
	// ErrClosed is returned by a Writer or Volume used after Close.
	ErrClosed = errors.New("luks: use after close")
)

// UnsupportedError names a valid-looking feature this package does not
// implement, such as a cipher spec ("serpent-xts-plain64") or a LUKS2
// requirement.
type UnsupportedError struct {
	Spec string
}

func (e *UnsupportedError) Error() string { return "luks: unsupported " + e.Spec }

// Unwrap returns ErrUnsupported.
func (e *UnsupportedError) Unwrap() error { return ErrUnsupported }

// CorruptError says which part of a header is damaged.
type CorruptError struct {
	What string
}

func (e *CorruptError) Error() string { return "luks: corrupt header: " + e.What }

// Unwrap returns ErrCorrupt.
func (e *CorruptError) Unwrap() error { return ErrCorrupt }

func corrupt(what string) error { return &CorruptError{What: what} }

func unsupported(spec string) error { return &UnsupportedError{Spec: spec} }

func itoa(n int) string { return strconv.Itoa(n) }
