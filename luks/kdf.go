package luks

import (
	"bufio"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"fmt"
	"hash"
	"os"
	"strings"
	"time"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/pbkdf2"
	//lint:ignore SA1019 cryptsetup accepts ripemd160 hash specs and old images use them
	"golang.org/x/crypto/ripemd160"
)

// Key-derivation limits and defaults, as cryptsetup 2.6 sets them.
const (
	minIterations     = 1000                   // LUKS_MKD_ITERATIONS_MIN and the PBKDF2 slot minimum
	digestIterTime    = 125 * time.Millisecond // LUKS_MKD_ITERATIONS_MS
	defaultIterTime   = 2 * time.Second
	argon2MinTime     = 4
	argon2MinMemory   = 32 * 1024   // KiB
	argon2MaxMemory   = 1024 * 1024 // KiB: cryptsetup's default cap
	argon2MaxThreads  = 4
	maxKDFIterations  = 1 << 31 // guards against absurd counts in a hostile header
	maxArgon2MemoryKB = 4 * 1024 * 1024
)

// hashFunc maps a LUKS hash-spec to its implementation.
func hashFunc(name string) (func() hash.Hash, error) {
	switch strings.ToLower(name) {
	case "sha1":
		return sha1.New, nil
	case "sha224":
		return sha256.New224, nil
	case "sha256":
		return sha256.New, nil
	case "sha384":
		return sha512.New384, nil
	case "sha512":
		return sha512.New, nil
	case "ripemd160":
		return ripemd160.New, nil
	}
	return nil, unsupported("hash " + name)
}

// kdf describes how a key slot turns a passphrase into its key.
type kdf struct {
	Type       string // "pbkdf2", "argon2id" or "argon2i"
	Hash       string // pbkdf2 only
	Iterations uint32 // pbkdf2 iterations or argon2 time cost
	MemoryKiB  uint32 // argon2 only
	Threads    uint32 // argon2 only
	Salt       []byte
}

func (k *kdf) validate() error {
	switch k.Type {
	case "pbkdf2":
		if _, err := hashFunc(k.Hash); err != nil {
			return err
		}
		if k.Iterations < 1 || k.Iterations > maxKDFIterations {
			return corrupt(fmt.Sprintf("pbkdf2 iterations %d", k.Iterations))
		}
	case "argon2id", "argon2i":
		if k.Iterations < 1 || k.Iterations > maxKDFIterations {
			return corrupt(fmt.Sprintf("argon2 time cost %d", k.Iterations))
		}
		if k.Threads < 1 || k.Threads > 255 {
			return corrupt(fmt.Sprintf("argon2 threads %d", k.Threads))
		}
		if k.MemoryKiB < 8*k.Threads || k.MemoryKiB > maxArgon2MemoryKB {
			return corrupt(fmt.Sprintf("argon2 memory %d KiB", k.MemoryKiB))
		}
	default:
		return unsupported("kdf " + k.Type)
	}
	return nil
}

// derive returns keyLen bytes derived from the passphrase.
func (k *kdf) derive(pass []byte, keyLen int) ([]byte, error) {
	if err := k.validate(); err != nil {
		return nil, err
	}
	switch k.Type {
	case "pbkdf2":
		h, _ := hashFunc(k.Hash)
		return pbkdf2.Key(pass, k.Salt, int(k.Iterations), keyLen, h), nil
	case "argon2i":
		return argon2.Key(pass, k.Salt, k.Iterations, k.MemoryKiB, uint8(k.Threads), uint32(keyLen)), nil
	default:
		return argon2.IDKey(pass, k.Salt, k.Iterations, k.MemoryKiB, uint8(k.Threads), uint32(keyLen)), nil
	}
}

// pbkdf2Rate returns PBKDF2 iterations per millisecond for this hash and
// output length, the way cryptsetup benchmarks before choosing a count. The
// cost of PBKDF2 is iterations × output blocks, so one measurement on a
// single block serves every output length: it is made once per o (a header
// needs a rate for the digest and one for the key slot) and scaled.
func pbkdf2Rate(o *options, hashName string, keyLen int) (float64, error) {
	h, err := hashFunc(hashName)
	if err != nil {
		return 0, err
	}
	size := h().Size()
	if o.rateHash != hashName || o.blockRate <= 0 {
		o.blockRate, o.rateHash = pbkdf2BlockRate(h, size, calibrationTime(o.iterTime)), hashName
	}
	blocks := (keyLen + size - 1) / size
	return o.blockRate / float64(max(blocks, 1)), nil
}

// calibrationTime is how long the PBKDF2 benchmark runs: 20 ms, or half of
// a shorter iteration time, since a measurement need not take longer than
// the thing it calibrates (at least 4 ms, long enough to time precisely).
func calibrationTime(iterTime time.Duration) time.Duration {
	return min(max(iterTime/2, 4*time.Millisecond), 20*time.Millisecond)
}

// pbkdf2BlockRate times PBKDF2 with one output block: a small first run,
// then runs aimed straight at enough (growing at most 16-fold a step, so
// a hiccup in the tiny first run cannot overshoot) until one lasts that
// long. This costs about enough, where doubling from 1000 cost twice that.
func pbkdf2BlockRate(h func() hash.Hash, size int, enough time.Duration) float64 {
	pass := []byte("luks-calibration")
	salt := make([]byte, 32)
	for iter := 1000; ; {
		start := time.Now()
		pbkdf2.Key(pass, salt, iter, size, h)
		el := time.Since(start)
		if el >= enough || iter >= 1<<26 {
			ms := float64(el) / float64(time.Millisecond)
			if ms <= 0 {
				ms = 0.001
			}
			return float64(iter) / ms
		}
		grow := 16.0
		if el > 0 {
			grow = min(max(1.25*float64(enough)/float64(el), 2), 16)
		}
		iter = int(float64(iter) * grow)
	}
}

// iterationsFor scales a measured rate to a duration, never below the
// LUKS minimum of 1000.
func iterationsFor(rate float64, d time.Duration) uint32 {
	n := rate * float64(d) / float64(time.Millisecond)
	if n < minIterations {
		return minIterations
	}
	if n > maxKDFIterations {
		return maxKDFIterations
	}
	return uint32(n)
}

// calibrateArgon2 picks the time cost (and, when even the minimum time cost
// is too slow, a smaller memory cost) so that one derivation takes about d,
// as cryptsetup does. Argon2's cost is about linear in memory × passes once
// the memory is well out of cache, so two passes over 64 MiB are timed
// (the faster of two runs, against noise from other work) and
// extrapolated, instead of allocating a GiB to measure.
func calibrateArgon2(d time.Duration, memoryKiB, threads uint32, keyLen int) (timeCost, memory uint32) {
	const probe, passes = 64 * 1024, 2 // KiB, time cost
	best := time.Duration(1<<63 - 1)
	for range 2 {
		start := time.Now()
		argon2.IDKey([]byte("luks-calibration"), make([]byte, 32), passes, probe, uint8(threads), uint32(keyLen))
		best = min(best, time.Since(start))
	}
	perKiBPass := max(float64(best)/(probe*passes), 1e-3) // ns
	memory = memoryKiB
	t := float64(d) / (perKiBPass * float64(memory))
	if t < argon2MinTime {
		t = argon2MinTime
		m := float64(d) / (perKiBPass * argon2MinTime)
		memory = uint32(max(min(m, float64(memoryKiB)), argon2MinMemory))
	}
	return uint32(min(t, maxKDFIterations)), memory
}

// defaultArgon2Memory is cryptsetup's: 1 GiB, at most half the RAM.
func defaultArgon2Memory() uint32 {
	m := uint32(argon2MaxMemory)
	if total := memTotalKiB(); total > 0 && total/2 < uint64(m) {
		m = uint32(max(total/2, argon2MinMemory))
	}
	return m
}

func memTotalKiB() uint64 {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		var kb uint64
		if n, _ := fmt.Sscanf(s.Text(), "MemTotal: %d kB", &kb); n == 1 {
			return kb
		}
	}
	return 0
}
