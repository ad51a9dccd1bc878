package sector_test

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/e2eimage/e2e/internal/sector"
	"github.com/e2eimage/e2e/internal/xts"
)

const benchStream = 32 << 20

func xtsTransform(b *testing.B) sector.Transform {
	c, err := xts.NewCipher(bytes.Repeat([]byte{7}, 64))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(c.Zero)
	return func(buf []byte, first uint64) { c.EncryptUnits(buf, buf, unit, first, 1) }
}

// BenchmarkWriter measures AES-256-XTS through the engine (ReadFrom, the
// fast path) for several worker counts.
func BenchmarkWriter(b *testing.B) {
	src := randomData(benchStream, 1)
	t := xtsTransform(b)
	for _, workers := range []int{1, runtime.GOMAXPROCS(0)} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			b.SetBytes(benchStream)
			for b.Loop() {
				w := sector.NewWriter(io.Discard, unit, t, sector.Options{Workers: workers})
				if _, err := w.ReadFrom(bytes.NewReader(src)); err != nil {
					b.Fatal(err)
				}
				if err := w.Close(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkWriterBatchSize picks Options.BatchSize: small batches pay for
// goroutine hand-offs, large ones for cache misses and memory.
func BenchmarkWriterBatchSize(b *testing.B) {
	src := randomData(benchStream, 2)
	t := xtsTransform(b)
	for _, batch := range []int{16 << 10, 64 << 10, 256 << 10, 1 << 20, 4 << 20} {
		b.Run(fmt.Sprintf("batch=%dKiB", batch>>10), func(b *testing.B) {
			b.SetBytes(benchStream)
			for b.Loop() {
				w := sector.NewWriter(io.Discard, unit, t, sector.Options{BatchSize: batch})
				if _, err := w.ReadFrom(bytes.NewReader(src)); err != nil {
					b.Fatal(err)
				}
				if err := w.Close(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkWriterOverhead measures the engine alone, with a no-op Transform.
func BenchmarkWriterOverhead(b *testing.B) {
	src := randomData(benchStream, 3)
	b.SetBytes(benchStream)
	for b.Loop() {
		w := sector.NewWriter(io.Discard, unit, func([]byte, uint64) {}, sector.Options{})
		if _, err := w.ReadFrom(bytes.NewReader(src)); err != nil {
			b.Fatal(err)
		}
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReader measures the decrypting direction through WriteTo.
func BenchmarkReader(b *testing.B) {
	src := randomData(benchStream, 4)
	t := xtsTransform(b)
	b.SetBytes(benchStream)
	for b.Loop() {
		r := sector.NewReader(bytes.NewReader(src), unit, t, sector.Options{})
		if _, err := r.WriteTo(io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWriterFile measures the path to a regular file, where the
// workers write their batches with WriteAt (sector.Positional) next to a
// pipe-like sequential writer over the same file for comparison.
func BenchmarkWriterFile(b *testing.B) {
	src := randomData(benchStream, 5)
	t := xtsTransform(b)
	for _, mode := range []string{"pwrite", "sequential"} {
		b.Run(mode, func(b *testing.B) {
			f, err := os.Create(filepath.Join(b.TempDir(), "out"))
			if err != nil {
				b.Fatal(err)
			}
			defer f.Close()
			var dst io.Writer = f
			if mode == "sequential" {
				dst = struct{ io.Writer }{f} // hides *os.File
			}
			b.SetBytes(benchStream)
			for b.Loop() {
				if err := f.Truncate(0); err != nil {
					b.Fatal(err)
				}
				if _, err := f.Seek(0, io.SeekStart); err != nil {
					b.Fatal(err)
				}
				w := sector.NewWriter(dst, unit, t, sector.Options{})
				if _, err := w.ReadFrom(bytes.NewReader(src)); err != nil {
					b.Fatal(err)
				}
				if err := w.Close(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
