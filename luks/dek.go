package luks

import (
	"encoding/base64"
	"fmt"
)

// IBM's 2018 end-to-end flow uses the base64 text of the data encryption
// key (DEK) as the LUKS passphrase: one line, no newline, 32 to 512
// characters.
const (
	MinPassphraseLen = 32
	MaxPassphraseLen = 512
)

// PassphraseFromDEK returns the LUKS passphrase for a DEK: its standard
// base64 encoding. The caller should zero both when done.
func PassphraseFromDEK(dek []byte) ([]byte, error) {
	if len(dek) == 0 {
		return nil, fmt.Errorf("%w: empty DEK", ErrInvalidPassphrase)
	}
	p := make([]byte, base64.StdEncoding.EncodedLen(len(dek)))
	base64.StdEncoding.Encode(p, dek)
	if err := ValidatePassphrase(p); err != nil {
		clear(p)
		return nil, err
	}
	return p, nil
}

// ValidatePassphrase checks that p follows the IBM convention: standard
// base64 text (with padding) of 32 to 512 characters, with no newline. A
// trailing newline, the usual mistake with `base64 > file`, is named as
// such. The error never contains the passphrase.
func ValidatePassphrase(p []byte) error {
	if n := len(p); n > 0 && (p[n-1] == '\n' || p[n-1] == '\r') {
		return fmt.Errorf("%w: ends with a newline (write it with printf, not echo)", ErrInvalidPassphrase)
	}
	if len(p) < MinPassphraseLen || len(p) > MaxPassphraseLen {
		return fmt.Errorf("%w: %d characters, want %d to %d", ErrInvalidPassphrase, len(p), MinPassphraseLen, MaxPassphraseLen)
	}
	for i, c := range p {
		switch {
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '+', c == '/', c == '=':
		default:
			return fmt.Errorf("%w: byte %d is not base64 text", ErrInvalidPassphrase, i)
		}
	}
	buf := make([]byte, base64.StdEncoding.DecodedLen(len(p)))
	defer clear(buf)
	if _, err := base64.StdEncoding.Strict().Decode(buf, p); err != nil {
		return fmt.Errorf("%w: not canonical base64", ErrInvalidPassphrase)
	}
	return nil
}
