package luks

import (
	"errors"

	"github.com/e2eimage/e2e/internal/xts"
)

// fastXTS is aes-xts-plain64, the one mode on the hot path, served by the
// project's AES-XTS engine (assembly where it wins).
type fastXTS struct {
	c *xts.Cipher
}

func newFastXTS(key []byte) (sectorCipher, error) {
	c, err := xts.NewCipher(key)
	if errors.Is(err, xts.ErrKeySize) {
		return nil, unsupported("aes-xts-plain64 with a key of " + itoa(len(key)*8) + " bits")
	}
	if err != nil {
		return nil, err
	}
	return &fastXTS{c: c}, nil
}

func (f *fastXTS) encryptUnits(dst, src []byte, unit int, first, step uint64) {
	f.c.EncryptUnits(dst, src, unit, first, step)
}

func (f *fastXTS) decryptUnits(dst, src []byte, unit int, first, step uint64) {
	f.c.DecryptUnits(dst, src, unit, first, step)
}

func (f *fastXTS) zero() { f.c.Zero() }
