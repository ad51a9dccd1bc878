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

// pbkdf2Rate measures PBKDF2 iterations per millisecond for this hash and
// output length, the way cryptsetup benchmarks before choosing a count:
// run with growing counts until one run takes long enough to time.
func pbkdf2Rate(hashName string, keyLen int) (float64, error) {
	h, err := hashFunc(hashName)
	if err != nil {
		return 0, err
	}
	pass := []byte("luks-calibration")
	salt := make([]byte, 32)
	for iter := 1000; ; iter *= 2 {
		start := time.Now()
		pbkdf2.Key(pass, salt, iter, keyLen, h)
		el := time.Since(start)
		if el >= 20*time.Millisecond || iter >= 1<<26 {
			ms := float64(el) / float64(time.Millisecond)
			if ms <= 0 {
				ms = 0.001
			}
			return float64(iter) / ms, nil
		}
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
