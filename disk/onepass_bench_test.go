package disk_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/e2eimage/e2e/disk"
	"github.com/e2eimage/e2e/luks"
)

// BenchmarkOnePassFile encrypts the raw image named by E2E_BENCH_DISK to a
// qcow2+LUKS file in E2E_BENCH_DIR (default: the test's temporary
// directory; use a tmpfs such as /dev/shm to measure the writer rather
// than the disk), the way `e2eimage encrypt --format qcow2 --iter-time
// 10ms` does, and removes it after each round.
func BenchmarkOnePassFile(b *testing.B) {
	path := os.Getenv("E2E_BENCH_DISK")
	if path == "" {
		b.Skip("E2E_BENCH_DISK not set")
	}
	dir := os.Getenv("E2E_BENCH_DIR")
	if dir == "" {
		dir = b.TempDir()
	}
	d, err := disk.OpenFile(path)
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	out := filepath.Join(dir, "onepass-bench.qcow2")
	defer os.Remove(out)
	for _, w := range []int{runtime.GOMAXPROCS(0), runtime.GOMAXPROCS(0) + 1, 2 * runtime.GOMAXPROCS(0)} {
		b.Run(fmt.Sprint("workers=", w), func(b *testing.B) { benchOnePassFile(b, d, out, w) })
	}
}

func benchOnePassFile(b *testing.B, d disk.Disk, out string, workers int) {
	b.SetBytes(d.Size())
	for b.Loop() {
		f, err := os.Create(out)
		if err != nil {
			b.Fatal(err)
		}
		_, err = disk.WriteQCOW2LUKS(context.Background(), f, d, testPassphrase,
			disk.WithLUKSOptions(luks.WithIterTime(10*time.Millisecond)), disk.WithWorkers(workers))
		f.Close()
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		os.Remove(out)
		b.StartTimer()
	}
}
