package xts

import (
	"crypto/aes"
	"testing"

	xxts "golang.org/x/crypto/xts"
)

// benchImpls runs f for every implementation path, named by path, so the
// default one can be compared with the others and with x/crypto/xts.
func benchImpls(b *testing.B, size int, f func(c *Cipher, dst, src []byte)) {
	for _, im := range supportedImpls() {
		b.Run(im.String(), func(b *testing.B) {
			c := mustCipher(b, make([]byte, 64), im)
			src, dst := make([]byte, size), make([]byte, size)
			b.SetBytes(int64(size))
			for b.Loop() {
				f(c, dst, src)
			}
		})
	}
}

func BenchmarkEncrypt512(b *testing.B) {
	benchImpls(b, 512, func(c *Cipher, dst, src []byte) { c.Encrypt(dst, src, 7) })
}

func BenchmarkEncrypt4096(b *testing.B) {
	benchImpls(b, 4096, func(c *Cipher, dst, src []byte) { c.Encrypt(dst, src, 7) })
}

func BenchmarkDecrypt4096(b *testing.B) {
	benchImpls(b, 4096, func(c *Cipher, dst, src []byte) { c.Decrypt(dst, src, 7) })
}

// BenchmarkEncryptUnits512 is the sector engine's shape: 64 KiB of 512-byte sectors in one call.
func BenchmarkEncryptUnits512(b *testing.B) {
	benchImpls(b, 64<<10, func(c *Cipher, dst, src []byte) { c.EncryptUnits(dst, src, 512, 7, 1) })
}

func benchXCrypto(b *testing.B, size int, decrypt bool) {
	c, err := xxts.NewCipher(aes.NewCipher, make([]byte, 64))
	if err != nil {
		b.Fatal(err)
	}
	src, dst := make([]byte, size), make([]byte, size)
	b.SetBytes(int64(size))
	for b.Loop() {
		if decrypt {
			c.Decrypt(dst, src, 7)
		} else {
			c.Encrypt(dst, src, 7)
		}
	}
}

func BenchmarkXCryptoEncrypt512(b *testing.B)  { benchXCrypto(b, 512, false) }
func BenchmarkXCryptoEncrypt4096(b *testing.B) { benchXCrypto(b, 4096, false) }
func BenchmarkXCryptoDecrypt4096(b *testing.B) { benchXCrypto(b, 4096, true) }
