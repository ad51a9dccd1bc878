package luks

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Option configures NewWriter, FormatHeader, Decrypt and the key
// management functions. Options that do not apply to a call are ignored.
type Option func(*options) error

// Layout selects where LUKS1 key material and the payload go.
type Layout int

const (
	// LayoutCryptsetup is cryptsetup 2.x's: key slots on 4 KiB boundaries
	// and the payload aligned to 1 MiB (sector 4096).
	LayoutCryptsetup Layout = iota
	// LayoutQEMU is QEMU's: the same key slots, the payload right after the
	// last one (sector 4040 for a 512-bit key). qcow2+LUKS uses it.
	LayoutQEMU
)

type options struct {
	version      int
	keyBits      int
	hash         string
	iterTime     time.Duration
	iterations   int
	pbkdf        string
	argonTime    uint32
	argonMemory  uint32
	argonThreads uint32
	sectorSize   int
	label        string
	workers      int
	batchSize    int
	progress     func(int64)
	volumeKey    []byte
	layout       Layout
	uuid         string

	// PBKDF2 calibration, measured once per header (see pbkdf2Rate).
	blockRate float64 // iterations per ms for one output block of rateHash
	rateHash  string
}

func defaultOptions() options {
	return options{
		version:    1,
		keyBits:    512,
		hash:       "sha256",
		iterTime:   defaultIterTime,
		pbkdf:      "argon2id",
		sectorSize: sectorSize,
		batchSize:  defaultBatch,
	}
}

func buildOptions(opts []Option) (options, error) {
	o := defaultOptions()
	for _, fn := range opts {
		if fn == nil {
			continue
		}
		if err := fn(&o); err != nil {
			return o, err
		}
	}
	return o, nil
}

// WithVersion selects LUKS1 or LUKS2. The default is 1, what IBM's 2018
// flow and QEMU use.
func WithVersion(v int) Option {
	return func(o *options) error {
		if v != 1 && v != 2 {
			return fmt.Errorf("luks: version %d: want 1 or 2", v)
		}
		o.version = v
		return nil
	}
}

// WithKeySize sets the volume key size in bits: 512 (AES-256-XTS) or 256
// (AES-128-XTS). The default is 512.
func WithKeySize(bits int) Option {
	return func(o *options) error {
		if bits != 256 && bits != 512 {
			return fmt.Errorf("luks: key size %d bits: want 256 or 512", bits)
		}
		o.keyBits = bits
		return nil
	}
}

// WithHash sets the hash for PBKDF2, the anti-forensic splitter and the
// volume key digest: "sha1", "sha256" or "sha512". The default is "sha256".
func WithHash(name string) Option {
	return func(o *options) error {
		name = strings.ToLower(name)
		if name != "sha1" && name != "sha256" && name != "sha512" {
			return fmt.Errorf("luks: hash %q: want sha1, sha256 or sha512", name)
		}
		o.hash = name
		return nil
	}
}

// WithIterTime sets how long unlocking a key slot should take on this
// machine; the KDF cost is calibrated to it as cryptsetup's --iter-time
// does. The volume key digest gets 125 ms of PBKDF2 as in cryptsetup, or
// d/8 when that is shorter, as in QEMU (at least 1000 iterations). It is
// ignored when WithIterations or WithArgon2 fix the cost. The default is 2s.
func WithIterTime(d time.Duration) Option {
	return func(o *options) error {
		if d <= 0 {
			return fmt.Errorf("luks: iteration time %v must be positive", d)
		}
		o.iterTime = d
		return nil
	}
}

// WithIterations forces the PBKDF2 iteration count (at least 1000) of the
// key slot, or the Argon2 time cost of a LUKS2 argon2 key slot (whose
// memory is then the default 1 GiB, at most half the RAM, unless
// WithArgon2 sets it). Forcing a cost also
// sets the volume key digest to the minimum 1000 iterations, as
// cryptsetup's --pbkdf-force-iterations does. The default is to calibrate
// (WithIterTime).
func WithIterations(n int) Option {
	return func(o *options) error {
		if n < 1 || n > maxKDFIterations {
			return fmt.Errorf("luks: %d iterations out of range", n)
		}
		o.iterations = n
		return nil
	}
}

// WithPBKDF selects the LUKS2 key slot KDF: "argon2id", "argon2i" or
// "pbkdf2". LUKS1 always uses pbkdf2. The default is "argon2id".
func WithPBKDF(name string) Option {
	return func(o *options) error {
		switch name {
		case "argon2id", "argon2i", "pbkdf2":
			o.pbkdf = name
			return nil
		}
		return fmt.Errorf("luks: pbkdf %q: want argon2id, argon2i or pbkdf2", name)
	}
}

// WithArgon2 fixes the Argon2 costs of a LUKS2 key slot: time cost
// (passes), memory in KiB and threads. The default is calibrated like
// cryptsetup: 1 GiB (at most half the RAM), up to 4 threads, and the time
// cost that takes WithIterTime (at least 4).
func WithArgon2(timeCost, memoryKiB, threads uint32) Option {
	return func(o *options) error {
		if timeCost < 1 || threads < 1 || threads > 255 || memoryKiB < 8*threads || memoryKiB > maxArgon2MemoryKB {
			return fmt.Errorf("luks: argon2 time %d, memory %d KiB, threads %d out of range", timeCost, memoryKiB, threads)
		}
		o.argonTime, o.argonMemory, o.argonThreads = timeCost, memoryKiB, threads
		return nil
	}
}

// WithSectorSize sets the LUKS2 encryption sector size: 512 or 4096. LUKS1
// is always 512. The default is 512.
func WithSectorSize(n int) Option {
	return func(o *options) error {
		if n != 512 && n != 4096 {
			return fmt.Errorf("luks: sector size %d: want 512 or 4096", n)
		}
		o.sectorSize = n
		return nil
	}
}

// WithLabel sets the LUKS2 label (at most 47 bytes). The default is none.
func WithLabel(s string) Option {
	return func(o *options) error {
		if len(s) > 47 || strings.IndexByte(s, 0) >= 0 {
			return errors.New("luks: label longer than 47 bytes or containing NUL")
		}
		o.label = s
		return nil
	}
}

// WithUUID sets the header UUID (canonical text form). The default is a
// random version 4 UUID.
func WithUUID(s string) Option {
	return func(o *options) error {
		if len(s) != 36 || strings.Count(s, "-") != 4 {
			return fmt.Errorf("luks: UUID %q is not in canonical form", s)
		}
		o.uuid = s
		return nil
	}
}

// WithWorkers sets how many goroutines encrypt or decrypt sectors in
// parallel. The default is GOMAXPROCS, plus one when the output is a
// regular file, which the workers write themselves (see Writer).
func WithWorkers(n int) Option {
	return func(o *options) error {
		if n < 1 {
			return fmt.Errorf("luks: %d workers", n)
		}
		o.workers = n
		return nil
	}
}

// WithBatchSize sets how many bytes one worker encrypts at a time; it is
// rounded up to whole sectors. Memory in flight is about 2×workers×batch.
// The default is 256 KiB.
func WithBatchSize(n int) Option {
	return func(o *options) error {
		if n < 1 || n > 1<<30 {
			return fmt.Errorf("luks: batch size %d", n)
		}
		o.batchSize = n
		return nil
	}
}

// WithProgress registers fn, called with the payload bytes written so far
// after each batch, from the goroutine writing to dst: it must be fast.
// The default is none.
func WithProgress(fn func(written int64)) Option {
	return func(o *options) error {
		o.progress = fn
		return nil
	}
}

// WithVolumeKey uses key (32 or 64 bytes; it sets the key size) as the
// volume key instead of a random one, for tests and re-encryption. The key
// is copied. The default is a fresh random key.
func WithVolumeKey(key []byte) Option {
	return func(o *options) error {
		if len(key) != 32 && len(key) != 64 {
			return fmt.Errorf("luks: volume key of %d bytes: want 32 or 64", len(key))
		}
		o.volumeKey = append([]byte(nil), key...)
		o.keyBits = len(key) * 8
		return nil
	}
}

// WithLayout selects the LUKS1 key-slot layout. The default is
// LayoutCryptsetup.
func WithLayout(l Layout) Option {
	return func(o *options) error {
		if l != LayoutCryptsetup && l != LayoutQEMU {
			return fmt.Errorf("luks: layout %d", l)
		}
		o.layout = l
		return nil
	}
}
