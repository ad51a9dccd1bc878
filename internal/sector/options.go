package sector

import (
	"errors"
	"runtime"
)

// DefaultBatchSize is the number of bytes per batch when Options.BatchSize
// is zero. BenchmarkWriterBatchSize (AES-XTS, 2 cores) found 256 KiB the
// fastest: large enough to make the hand-off between goroutines noise,
// small enough that the batches in flight stay in cache (about 1 MiB in
// all with 2 workers). 1 MiB was ~10% slower, 4 MiB ~40%.
const DefaultBatchSize = 256 << 10

// ErrClosed is returned by Writer.Write and Reader.Read after Close.
var ErrClosed = errors.New("sector: closed")

// Transform encrypts or decrypts buf in place; buf holds whole units, and
// buf's first unit is unit number first of the stream (counting from
// Options.FirstUnit). It is called concurrently from several goroutines on
// distinct buffers and must not retain buf.
type Transform func(buf []byte, first uint64)

// Options tunes a Writer or Reader. The zero value is ready to use.
type Options struct {
	// Workers is the number of transforms run in parallel. The default
	// (zero or negative) is runtime.GOMAXPROCS(0), plus one when a Writer
	// writes a regular file itself (see Writer): each worker then also
	// waits in its own writes, and a spare one keeps the cores busy (about
	// 10% faster to tmpfs on 2 cores).
	Workers int
	// BatchSize is the number of bytes per batch, rounded down to whole
	// units (at least one unit). The default is DefaultBatchSize (256 KiB).
	BatchSize int
	// FirstUnit is the number of the first unit of the stream.
	FirstUnit uint64
	// Progress, if set, is called with the running total of bytes done:
	// for a Writer, bytes written to dst (from the goroutine that writes
	// them, after each batch); for a Reader, bytes handed to the caller
	// (from the goroutine calling Read or WriteTo). It blocks the stream
	// while it runs, so it must be fast (e.g. store an atomic).
	Progress func(done int64)
	// Holes, for a Writer whose output may hold long runs of zeros (a
	// decrypted or plain disk), leaves the all-zero HoleGrain pieces of a
	// batch unwritten when dst is a fresh regular file (see
	// Positional.WriteData), so they stay holes. Ciphertext is never zero,
	// so encrypting Writers leave it off and skip the check. The default
	// is false: every byte is written.
	Holes bool
}

// config is Options with defaults applied.
type config struct {
	workers   int
	auto      bool // workers was not given
	batch     int  // bytes, a multiple of unit
	unit      int
	firstUnit uint64
	progress  func(int64)
	holes     bool
}

func newConfig(unitSize int, o Options) config {
	if unitSize <= 0 {
		panic("sector: unit size must be positive")
	}
	c := config{
		workers:   o.Workers,
		batch:     o.BatchSize,
		unit:      unitSize,
		firstUnit: o.FirstUnit,
		progress:  o.Progress,
		holes:     o.Holes,
	}
	if c.workers <= 0 {
		c.workers, c.auto = runtime.GOMAXPROCS(0), true
	}
	if c.batch <= 0 {
		c.batch = DefaultBatchSize
	}
	c.batch -= c.batch % unitSize
	if c.batch < unitSize {
		c.batch = unitSize
	}
	return c
}

// slots is how many batches may exist at once: one being filled, Workers
// being transformed, Workers done and waiting for their turn to be written
// (or read), which keeps every worker busy while the writer is slow.
func (c config) slots() int { return 2*c.workers + 1 }
