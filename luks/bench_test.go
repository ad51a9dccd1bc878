package luks_test

import (
	"bytes"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/e2eimage/e2e/luks"
)

const benchSize = 32 << 20

// zeroReader yields n zero bytes without allocating them.
type zeroReader struct{ n int64 }

func (z *zeroReader) Read(p []byte) (int, error) {
	if z.n == 0 {
		return 0, io.EOF
	}
	k := min(int64(len(p)), z.n)
	clear(p[:k])
	z.n -= k
	return int(k), nil
}

// BenchmarkWriter measures payload encryption (header excluded from the
// timing) through ReadFrom, the path io.Copy and the CLI take.
func BenchmarkWriter(b *testing.B) {
	for _, workers := range []int{1, 2, 4} {
		for _, v := range []int{1, 2} {
			b.Run(fmt.Sprintf("luks%d/workers=%d", v, workers), func(b *testing.B) {
				o := opts(luks.WithWorkers(workers), luks.WithVersion(v), luks.WithPBKDF("pbkdf2"))
				b.SetBytes(benchSize)
				for b.Loop() {
					b.StopTimer()
					w, err := luks.NewWriter(io.Discard, []byte("bench"), o...)
					if err != nil {
						b.Fatal(err)
					}
					b.StartTimer()
					if _, err := w.ReadFrom(&zeroReader{benchSize}); err != nil {
						b.Fatal(err)
					}
					if err := w.Close(); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

func BenchmarkVolumeReadAt(b *testing.B) {
	pass := []byte("bench")
	img := encrypt(b, pass, make([]byte, 8<<20), opts()...)
	v, err := luks.Open(bytes.NewReader(img), pass)
	if err != nil {
		b.Fatal(err)
	}
	for _, size := range []int{4096, 1 << 20} {
		b.Run(fmt.Sprint(size), func(b *testing.B) {
			buf := make([]byte, size)
			b.SetBytes(int64(size))
			off := int64(0)
			for b.Loop() {
				if _, err := v.ReadAt(buf, off); err != nil {
					b.Fatal(err)
				}
				off = (off + int64(size)) % (v.Size() - int64(size))
			}
		})
	}
}

func BenchmarkDecrypt(b *testing.B) {
	pass := []byte("bench")
	img := encrypt(b, pass, make([]byte, 16<<20), opts()...)
	b.SetBytes(16 << 20)
	for b.Loop() {
		if _, err := luks.Decrypt(io.Discard, bytes.NewReader(img), pass); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkNewWriter measures what comes before the payload with a short
// --iter-time, as the CLI benchmark runs it: volume key digest, KDF
// calibration, key slot and the header area written to io.Discard.
func BenchmarkNewWriter(b *testing.B) {
	for _, v := range []int{1, 2} {
		b.Run(fmt.Sprintf("luks%d/iter-time=10ms", v), func(b *testing.B) {
			for b.Loop() {
				w, err := luks.NewWriter(io.Discard, []byte("bench"), luks.WithVersion(v), luks.WithPBKDF("pbkdf2"), luks.WithIterTime(10*time.Millisecond))
				if err != nil {
					b.Fatal(err)
				}
				if err := w.Close(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
