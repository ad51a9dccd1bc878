//go:build unix

package storage_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/e2eimage/e2e/storage"
)

// discardS3 is the least an S3 server can do for a multipart upload: it
// reads every body into io.Discard, counts the bytes and answers, after
// partDelay per part (a network that takes time but no client CPU). What
// it costs is small, so a benchmark against it measures the client.
type discardS3 struct {
	bytes     atomic.Int64
	partDelay time.Duration
}

func (s *discardS3) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	n, err := io.Copy(io.Discard, r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	s.bytes.Add(n)
	switch {
	case r.Method == http.MethodPost && q.Has("uploads"):
		fmt.Fprint(w, `<InitiateMultipartUploadResult><Bucket>b</Bucket><Key>k</Key><UploadId>up</UploadId></InitiateMultipartUploadResult>`)
	case r.Method == http.MethodPut && q.Has("partNumber"):
		time.Sleep(s.partDelay)
		w.Header().Set("ETag", `"`+q.Get("partNumber")+`"`)
	case r.Method == http.MethodPost && q.Has("uploadId"):
		fmt.Fprint(w, `<CompleteMultipartUploadResult><Bucket>b</Bucket><Key>k</Key><ETag>"done-1"</ETag></CompleteMultipartUploadResult>`)
	case r.Method == http.MethodPut:
		w.Header().Set("ETag", `"single"`)
	case r.Method == http.MethodDelete:
		w.WriteHeader(http.StatusNoContent)
	default:
		http.Error(w, "not implemented", http.StatusNotImplemented)
	}
}

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
