package keys

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"unicode/utf8"
)

// DEK is a data encryption key in memory. It knows the secret each image
// format derives from it, and Destroy zeroes it. String, GoString, Format
// and MarshalJSON never reveal the plaintext.
type DEK struct {
	b []byte
}

// NewDEK generates a DEK of 32 or 64 random bytes locally (crypto/rand):
// 64 bytes make an AES-256-XTS key for encrypted VHDs, 32 bytes AES-128-XTS
// or a LUKS passphrase source. Wrap it with Client.WrapDEK.
func NewDEK(size int) (*DEK, error) {
	if size != 32 && size != 64 {
		return nil, fmt.Errorf("%w: a DEK is 32 or 64 bytes, not %d", ErrBadRequest, size)
	}
	b := make([]byte, size)
	if _, err := rand.Read(b); err != nil {
		return nil, err
	}
	return &DEK{b: b}, nil
}

// NewPassphraseDEK generates a DEK that is itself a text passphrase of n
// characters (base64url alphabet), for qcow2+LUKS images whose secret QEMU
// reads as UTF-8. n must be 32 to 512.
func NewPassphraseDEK(n int) (*DEK, error) {
	if n < 32 || n > 512 {
		return nil, fmt.Errorf("%w: a passphrase DEK is 32 to 512 characters, not %d", ErrBadRequest, n)
	}
	raw := make([]byte, (n*3+3)/4)
	if _, err := rand.Read(raw); err != nil {
		return nil, err
	}
	b := make([]byte, base64.RawURLEncoding.EncodedLen(len(raw)))
	base64.RawURLEncoding.Encode(b, raw)
	clear(raw)
	clear(b[n:])
	return &DEK{b: b[:n:n]}, nil
}

// DEKFromBytes copies b (1 to 7,168 bytes, Key Protect's limit) into a DEK.
// The caller keeps and zeroes b.
func DEKFromBytes(b []byte) (*DEK, error) {
	if len(b) == 0 || len(b) > 7168 {
		return nil, fmt.Errorf("%w: a DEK is 1 to 7168 bytes, not %d", ErrBadRequest, len(b))
	}
	return &DEK{b: append([]byte(nil), b...)}, nil
}

// Bytes returns the DEK itself, not a copy: it is valid until Destroy;
// do not retain or modify it.
func (d *DEK) Bytes() []byte { return d.b }

// Len is the DEK's length in bytes.
func (d *DEK) Len() int { return len(d.b) }

// LUKSPassphrase returns the LUKS passphrase of IBM's 2018 classic format:
// the base64 text of the DEK, one line without a newline. The caller owns
// (and should zero) the returned slice.
func (d *DEK) LUKSPassphrase() []byte {
	out := make([]byte, base64.StdEncoding.EncodedLen(len(d.b)))
	base64.StdEncoding.Encode(out, d.b)
	return out
}

// ErrNotVHDKey: the DEK is not 32 or 64 bytes, the XTS key sizes of an
// encrypted VHD.
var ErrNotVHDKey = errors.New("keys: DEK is not a 32- or 64-byte XTS key")

// VHDKey returns a copy of the raw DEK, the AES-XTS key of an encrypted
// VHD (64 bytes: AES-256-XTS, 32 bytes: AES-128-XTS). The caller owns (and
// should zero) the returned slice.
func (d *DEK) VHDKey() ([]byte, error) {
	if len(d.b) != 32 && len(d.b) != 64 {
		return nil, ErrNotVHDKey
	}
	return append([]byte(nil), d.b...), nil
}

// ErrNotPassphrase: the DEK is not valid UTF-8 text, so it cannot be a
// qcow2+LUKS passphrase; make one with NewPassphraseDEK.
var ErrNotPassphrase = errors.New("keys: DEK is not a UTF-8 passphrase")

// QCOW2Passphrase returns a copy of the DEK as the UTF-8 passphrase of a
// qcow2+LUKS image (Key Protect wraps base64 of it, as the VPC import
// expects). The caller owns (and should zero) the returned slice.
func (d *DEK) QCOW2Passphrase() ([]byte, error) {
	if len(d.b) == 0 || !utf8.Valid(d.b) {
		return nil, ErrNotPassphrase
	}
	return append([]byte(nil), d.b...), nil
}

// Destroy zeroes the DEK. It is safe to call more than once.
func (d *DEK) Destroy() {
	clear(d.b)
	d.b = nil
}

// String describes the DEK without revealing it.
func (d *DEK) String() string { return fmt.Sprintf("keys.DEK{%d bytes, REDACTED}", len(d.b)) }

// GoString is String.
func (d *DEK) GoString() string { return d.String() }

// Format prints String for every verb, so %x or %v cannot leak the key.
func (d *DEK) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(d.String())) }

// ErrDEKMarshal is returned by MarshalJSON: a DEK must never be persisted;
// persist its WDEK.
var ErrDEKMarshal = errors.New("keys: a DEK cannot be marshalled; persist the WDEK")

// MarshalJSON refuses, so a DEK never lands in a file or log by accident.
func (d *DEK) MarshalJSON() ([]byte, error) { return nil, ErrDEKMarshal }

// MarshalText refuses, like MarshalJSON.
func (d *DEK) MarshalText() ([]byte, error) { return nil, ErrDEKMarshal }

// WDEK is a wrapped DEK: the ciphertext Key Protect returned, decoded from
// base64. It is safe to persist; its String (and MarshalText) is the
// base64 text the IBM APIs (createFromIcos wrappedDek, VPC
// encrypted_data_key) expect.
type WDEK []byte

// String is the base64 text of the WDEK.
func (w WDEK) String() string { return base64.StdEncoding.EncodeToString(w) }

// MarshalText encodes the WDEK as base64 text.
func (w WDEK) MarshalText() ([]byte, error) { return []byte(w.String()), nil }

// UnmarshalText decodes base64 text.
func (w *WDEK) UnmarshalText(b []byte) error {
	p, err := ParseWDEK(string(b))
	if err != nil {
		return err
	}
	*w = p
	return nil
}

// ErrBadWDEK: the text is not a base64 ciphertext.
var ErrBadWDEK = errors.New("keys: WDEK is not base64 text")

// ParseWDEK decodes the base64 text of a WDEK.
func ParseWDEK(s string) (WDEK, error) {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(b) == 0 {
		return nil, ErrBadWDEK
	}
	return WDEK(b), nil
}
