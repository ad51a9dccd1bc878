//go:build unix

package storage_test

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/e2eimage/e2e/storage"
)

// BenchmarkObjectWriterClient writes benchSize bytes into an ObjectWriter
// against discardS3: the client's own cost (copies, the per-part MD5s, the
// whole-object SHA-256, the SDK) with the server out of the way. "cpu" has
// no network delay, so it is bound by the client's CPU; "net" adds 200 ms
// per part, a network of 4 × 16 MiB / 200 ms = 335 MB/s with the defaults
// that the client could outrun: hashing must hide behind the parts in
// flight for the rate to reach it. Use E2E_BENCH_SIZE=256M or more, so that
// most parts wait for a slot.
func BenchmarkObjectWriterClient(b *testing.B) {
	for _, bc := range []struct {
		name  string
		delay time.Duration
	}{{"cpu", 0}, {"net", 200 * time.Millisecond}} {
		b.Run(bc.name, func(b *testing.B) {
			srv := &discardS3{partDelay: bc.delay}
			ts := httptest.NewServer(srv)
			defer ts.Close()
			cl, err := storage.NewClient(storage.Config{Endpoint: ts.URL, Region: "us-south", PathStyle: true,
				AccessKeyID: "bench", SecretAccessKey: "bench-secret"})
			if err != nil {
				b.Fatal(err)
			}
			size := benchSize(b)
			b.SetBytes(size)
			b.ReportAllocs()
			for b.Loop() {
				srv.bytes.Store(0)
				w := cl.NewObjectWriter(context.Background(), "bench", "client.img")
				if err := generate(w, size); err != nil {
					b.Fatal(w.CloseWithError(err))
				}
				if err := w.Close(); err != nil {
					b.Fatal(err)
				}
				if got := srv.bytes.Load(); w.Result().Size != size || got < size {
					b.Fatalf("stored %d bytes, server got %d, want %d", w.Result().Size, got, size)
				}
			}
		})
	}
}
