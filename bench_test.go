//go:build unix

package e2e_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/e2eimage/e2e"
	"github.com/e2eimage/e2e/e2etest"
	"github.com/e2eimage/e2e/iam"
	"github.com/e2eimage/e2e/internal/demo"
	"github.com/e2eimage/e2e/luks"
	"github.com/e2eimage/e2e/storage"
)

// The pipeline's speed and memory proof (scripts/bench-pipeline.sh runs it
// at 1 GiB): BenchmarkEncryptUpload encrypts a plain image into LUKS and
// streams it into a COS multipart upload through Pipeline.EncryptUpload;
// BenchmarkUploadOnly uploads the same number of bytes, already "encrypted",
// with storage.Upload reading them straight into its part buffers. Both use
// the storage defaults (16 MiB parts, 4 at once) and count the stored object
// bytes, so their MB/s compare directly: the ratio shows how much of the
// encryption the upload hides.
//
// Environment:
//
//	E2E_BENCH_SIZE      plain image size, suffix K, M or G; default 64M
//	E2E_BENCH_CLOUD     the -json file of a running cmd/e2ecloud; default an
//	                    in-process e2etest (then CPU and RSS are not reported:
//	                    they would include the emulated COS holding the object)
//	E2E_BENCH_ITERTIME  LUKS key-slot PBKDF2 time; default 10ms (the default
//	                    of real runs is 2s, a fixed cost before the first byte)
//	E2E_BENCH_WORKERS   encryption workers; default GOMAXPROCS

// benchHeaderSize is the LUKS1 header area before the payload with
// cryptsetup's layout (4096 sectors); BenchmarkEncryptUpload checks it.
const benchHeaderSize = 4096 * 512

func benchEnvSize(b *testing.B) int64 {
	s := os.Getenv("E2E_BENCH_SIZE")
	if s == "" {
		return 64 << 20
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
		b.Fatalf("bad E2E_BENCH_SIZE %q", s)
	}
	return n << shift
}

// benchCloud returns the cloud to benchmark against and whether it runs in
// another process (so this process's CPU time and RSS are the client's).
func benchCloud(b *testing.B) (cloud *e2etest.Cloud, external bool) {
	if f := os.Getenv("E2E_BENCH_CLOUD"); f != "" {
		data, err := os.ReadFile(f)
		if err != nil {
			b.Fatalf("E2E_BENCH_CLOUD: %v", err)
		}
		// cmd/e2ecloud prints e2etest.Cloud's exported fields: only those
		// are read here, never its methods.
		cloud = new(e2etest.Cloud)
		if err := json.Unmarshal(data, cloud); err != nil || cloud.COSURL == "" {
			b.Fatalf("E2E_BENCH_CLOUD %s is not cmd/e2ecloud's JSON (%v)", f, err)
		}
		return cloud, true
	}
	cloud, err := e2etest.Start()
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { cloud.Close() })
	return cloud, false
}

// benchConfig is the demo configuration reduced to the upload: no server,
// no audit, storage's default part size and concurrency.
func benchConfig(b *testing.B, cloud *e2etest.Cloud) e2e.Config {
	cfg := demo.Config(cloud)
	cfg.Server, cfg.Audit = nil, false
	cfg.COS.Bucket, cfg.COS.Object = "bench", "bench-pipeline.img"
	iter, workers := benchLUKSSettings(b)
	cfg.Encrypt.IterTime, cfg.Encrypt.Workers = e2e.Duration(iter), workers
	return cfg
}

// benchLUKSSettings reads E2E_BENCH_ITERTIME (default 10ms) and
// E2E_BENCH_WORKERS (default 0: GOMAXPROCS).
func benchLUKSSettings(b *testing.B) (iterTime time.Duration, workers int) {
	iterTime = 10 * time.Millisecond
	if s := os.Getenv("E2E_BENCH_ITERTIME"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d <= 0 {
			b.Fatalf("bad E2E_BENCH_ITERTIME %q", s)
		}
		iterTime = d
	}
	if s := os.Getenv("E2E_BENCH_WORKERS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			b.Fatalf("bad E2E_BENCH_WORKERS %q", s)
		}
		workers = n
	}
	return iterTime, workers
}

// benchSource yields size bytes that look like disk data without costing
// CPU to make: a random 1 MiB block, each MiB stamped with its offset so no
// two are alike. It records when it is first read.
type benchSource struct {
	block     []byte
	size, off int64
	first     time.Time
}

func newBenchSource(block []byte, size int64) *benchSource {
	return &benchSource{block: block, size: size}
}

func (s *benchSource) Read(p []byte) (int, error) {
	if s.first.IsZero() {
		s.first = time.Now()
	}
	if s.off >= s.size {
		return 0, io.EOF
	}
	n := 0
	for n < len(p) && s.off < s.size {
		i := s.off % int64(len(s.block))
		if i == 0 {
			for j := range 8 {
				s.block[j] = byte(s.off >> (8 * j))
			}
		}
		c := copy(p[n:], s.block[i:min(int64(len(s.block)), i+s.size-s.off)])
		n += c
		s.off += int64(c)
	}
	return n, nil
}

func benchBlock(b *testing.B) []byte {
	block := make([]byte, 1<<20)
	if _, err := rand.Read(block); err != nil {
		b.Fatal(err)
	}
	return block
}

func BenchmarkEncryptUpload(b *testing.B) {
	ctx := context.Background()
	cloud, external := benchCloud(b)
	size := benchEnvSize(b)
	store := &e2e.MemoryStore{}
	p, err := e2e.New(benchConfig(b, cloud), e2e.WithStateStore(store))
	if err != nil {
		b.Fatal(err)
	}
	if err := p.EnsureRootKey(ctx); err != nil {
		b.Fatal(err)
	}
	dek, err := p.DataKey(ctx)
	if err != nil {
		b.Fatal(err)
	}
	defer dek.Destroy()
	if err := p.EnsureBucket(ctx); err != nil {
		b.Fatal(err)
	}
	block := benchBlock(b)
	var header time.Duration
	m := startBenchMeter()
	b.SetBytes(size + benchHeaderSize)
	for b.Loop() {
		// Forget the last upload, or EncryptUpload would skip as done.
		st, err := store.Load(ctx)
		if err != nil {
			b.Fatal(err)
		}
		st.ObjectURI = ""
		if err := store.Save(ctx, st); err != nil {
			b.Fatal(err)
		}
		src := newBenchSource(block, size)
		start := time.Now()
		if err := p.EncryptUpload(ctx, e2e.FromReader(src, size), dek); err != nil {
			b.Fatal(err)
		}
		header += src.first.Sub(start)
		if got := p.State().ObjectSize; got != size+benchHeaderSize {
			b.Fatalf("stored %d bytes, want %d (payload %d + LUKS1 header area)", got, size+benchHeaderSize, size)
		}
	}
	// header-s: from the call to the first plain byte read: the key slot's
	// PBKDF2 and the header, a fixed cost nothing overlaps.
	b.ReportMetric(header.Seconds()/float64(b.N), "header-s/op")
	m.report(b, external)
	// What was measured is a LUKS image the DEK opens (untimed).
	if err := p.Verify(ctx, dek); err != nil {
		b.Fatalf("the uploaded object does not open with the DEK: %v", err)
	}
}

// BenchmarkEncryptOnly is the encryption alone, into io.Discard, with the
// pipeline's LUKS settings: how fast the upload would have to be before the
// encryption could no longer hide behind it.
func BenchmarkEncryptOnly(b *testing.B) {
	size := benchEnvSize(b)
	iter, workers := benchLUKSSettings(b)
	opts := []luks.Option{luks.WithIterTime(iter)}
	if workers > 0 {
		opts = append(opts, luks.WithWorkers(workers))
	}
	pass := []byte("YmVuY2htYXJrIHBhc3NwaHJhc2Ugb2YgMzIgYnl0ZXM=")
	block := benchBlock(b)
	b.SetBytes(size + benchHeaderSize)
	for b.Loop() {
		cw := &countWriter{}
		lw, err := luks.NewWriter(cw, pass, opts...)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := lw.ReadFrom(newBenchSource(block, size)); err != nil {
			b.Fatal(err)
		}
		if err := lw.Close(); err != nil {
			b.Fatal(err)
		}
		if cw.n != size+benchHeaderSize {
			b.Fatalf("wrote %d bytes, want %d", cw.n, size+benchHeaderSize)
		}
	}
}

// countWriter discards what it is given and counts it.
type countWriter struct{ n int64 }

func (w *countWriter) Write(p []byte) (int, error) {
	w.n += int64(len(p))
	return len(p), nil
}

func BenchmarkUploadOnly(b *testing.B) {
	ctx := context.Background()
	cloud, external := benchCloud(b)
	size := benchEnvSize(b) + benchHeaderSize
	cfg := benchConfig(b, cloud)
	// Built as the pipeline builds its COS client.
	tokens, err := iam.NewTokenSource(cloud.APIKey, cloud.IAMURL)
	if err != nil {
		b.Fatal(err)
	}
	cl, err := storage.NewClient(storage.Config{Endpoint: cloud.COSURL, Region: cloud.Region, Authenticator: tokens,
		IAMURL: cloud.IAMURL, ServiceInstanceID: cloud.COSInstanceID, PathStyle: true})
	if err != nil {
		b.Fatal(err)
	}
	if err := cl.EnsureBucket(ctx, cfg.COS.Bucket); err != nil {
		b.Fatal(err)
	}
	block := benchBlock(b)
	m := startBenchMeter()
	b.SetBytes(size)
	for b.Loop() {
		res, err := cl.Upload(ctx, cfg.COS.Bucket, "bench-upload-only.img", newBenchSource(block, size), storage.WithSizeHint(size))
		if err != nil {
			b.Fatal(err)
		}
		if res.Size != size {
			b.Fatalf("stored %d bytes, want %d", res.Size, size)
		}
	}
	m.report(b, external)
}

// benchMeter measures this process: CPU time over the benchmark, peak RSS.
type benchMeter struct{ cpu0 time.Duration }

func startBenchMeter() benchMeter { return benchMeter{cpu0: benchCPUTime()} }

func (m benchMeter) report(b *testing.B, external bool) {
	if !external {
		benchInProcessNote.Do(func() {
			b.Log("e2etest runs in this process: client CPU and peak RSS not reported (set E2E_BENCH_CLOUD, see scripts/bench-pipeline.sh)")
		})
		return
	}
	b.ReportMetric((benchCPUTime()-m.cpu0).Seconds()/float64(b.N), "client-cpu-s/op")
	if rss := benchPeakRSS(); rss > 0 {
		b.ReportMetric(rss, "peak-RSS-MiB")
	}
}

var benchInProcessNote sync.Once

// benchPeakRSS is the process's peak resident set size in MiB (Linux's
// VmHWM), 0 where /proc is missing.
func benchPeakRSS() float64 {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 64)
			return kb / 1024
		}
	}
	return 0
}

// benchCPUTime is the CPU time (user + system) the process used so far.
func benchCPUTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
