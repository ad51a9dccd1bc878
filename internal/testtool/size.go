package testtool

import (
	"os"
	"strconv"
	"strings"
	"testing"
)

// BenchSizeEnv names the benchmarks' data size: bytes, or KiB, MiB, GiB
// with a K, M or G suffix ("512M", "2G").
const BenchSizeEnv = "E2E_BENCH_SIZE"

// BenchSize is the size BenchSizeEnv asks for, def when it is unset; a
// value that is not a positive size of at most 1 TiB fails tb.
func BenchSize(tb testing.TB, def int64) int64 {
	tb.Helper()
	s := os.Getenv(BenchSizeEnv)
	if s == "" {
		return def
	}
	shift := 0
	switch {
	case strings.HasSuffix(s, "K"):
		shift = 10
	case strings.HasSuffix(s, "M"):
		shift = 20
	case strings.HasSuffix(s, "G"):
		shift = 30
	}
	n, err := strconv.ParseInt(strings.TrimRight(s, "KMG"), 10, 64)
	if err != nil || n <= 0 || n > 1<<40>>shift {
		tb.Fatalf("bad %s %q", BenchSizeEnv, s)
	}
	return n << shift
}
