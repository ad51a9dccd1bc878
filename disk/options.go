package disk

import (
	"errors"
	"fmt"
	"runtime"

	"github.com/e2eimage/e2e/luks"
)

// Stage names a phase of a write.
type Stage int

const (
	// StageScan is the first pass of a write to a stream: reading the
	// source to find all-zero blocks, so the layout (tables, refcounts) is
	// known before any byte is written. A write to a regular file has none.
	StageScan Stage = iota
	// StageWrite is the pass that writes the output: to a stream, in order;
	// to a regular file, the one pass (Done and Total count the source).
	StageWrite
)

func (s Stage) String() string {
	if s == StageScan {
		return "scan"
	}
	return "write"
}

// Progress reports how far a write is: Done of Total bytes of the source
// scanned (StageScan) or of the output written (StageWrite).
type Progress struct {
	Stage       Stage
	Done, Total int64
}

// WriteOption configures the writers.
type WriteOption func(*writeOptions) error

type writeOptions struct {
	workers  int
	progress func(Progress)
	luksOpts []luks.Option
}

func newWriteOptions(opts []WriteOption) (*writeOptions, error) {
	o := &writeOptions{workers: runtime.GOMAXPROCS(0)}
	for _, opt := range opts {
		if err := opt(o); err != nil {
			return nil, err
		}
	}
	return o, nil
}

// WithWorkers sets how many goroutines read, scan and encrypt blocks in
// parallel; the output order never depends on it. The default is
// runtime.GOMAXPROCS(0).
func WithWorkers(n int) WriteOption {
	return func(o *writeOptions) error {
		if n < 1 {
			return fmt.Errorf("disk: workers must be at least 1, got %d", n)
		}
		o.workers = n
		return nil
	}
}

// WithProgress calls fn as the write advances: during the scan from the
// worker goroutines, during the write from the goroutine writing dst. Calls
// never overlap, and a slow fn slows the write. The default is no
// reporting.
func WithProgress(fn func(Progress)) WriteOption {
	return func(o *writeOptions) error {
		o.progress = fn
		return nil
	}
}

func (o *writeOptions) report(s Stage, done, total int64) {
	if o.progress != nil {
		o.progress(Progress{Stage: s, Done: done, Total: total})
	}
}

// Errors of the writers.
var (
	// ErrEmpty is returned when asked to write a disk of size zero.
	ErrEmpty = errors.New("disk: source disk is empty")
	// ErrTooLarge is returned when the disk exceeds what the output format
	// can address (VHD: 2040 GiB; qcow2: 64 TiB, the reading limit too).
	ErrTooLarge = errors.New("disk: source disk too large for the output format")
)

// WithLUKSOptions passes options to the LUKS header WriteQCOW2LUKS makes,
// e.g. luks.WithIterTime or luks.WithIterations (PBKDF2 cost) or
// luks.WithKeySize(256). The version (LUKS1) and layout (QEMU's) are fixed,
// as QEMU requires. The default is the luks package's defaults.
func WithLUKSOptions(opts ...luks.Option) WriteOption {
	return func(o *writeOptions) error {
		o.luksOpts = append(o.luksOpts, opts...)
		return nil
	}
}
