//go:build unix

package storage_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"io"
	"net/http"
	"testing"

	"github.com/IBM/ibm-cos-sdk-go/aws"
	"github.com/IBM/ibm-cos-sdk-go/aws/credentials"
	"github.com/IBM/ibm-cos-sdk-go/aws/session"
	"github.com/IBM/ibm-cos-sdk-go/service/s3"
	"github.com/IBM/ibm-cos-sdk-go/service/s3/s3manager"

	"github.com/e2eimage/e2e/internal/testtool"
	"github.com/e2eimage/e2e/storage"
)

// benchSize is the object size of the upload benchmarks: E2E_BENCH_SIZE
// bytes (suffixes K, M, G for KiB, MiB, GiB), 64 MiB by default.
func benchSize(b *testing.B) int64 { return testtool.BenchSize(b, 64<<20) }

// generate writes size bytes to w, as an encryptor would: a random block
// repeated with its first bytes set to the offset, so no two chunks match.
func generate(w io.Writer, size int64) error {
	block := make([]byte, 1<<20)
	if _, err := rand.Read(block); err != nil {
		return err
	}
	for off := int64(0); off < size; {
		chunk := block[:min(int64(len(block)), size-off)]
		for i := range min(8, len(chunk)) {
			chunk[i] = byte(off >> (8 * i))
		}
		n, err := w.Write(chunk)
		if err != nil {
			return err
		}
		off += int64(n)
	}
	return nil
}

// BenchmarkUploadVersityGW uploads to a real S3 server on loopback: "stream"
// is Upload from a pipe fed by a generator, "writer" the generator writing
// into an ObjectWriter (the pipeline's use), "memory" is the
// COS SDK's s3manager.Uploader sending the same bytes from memory with the
// same part size and concurrency (the baseline). Run the two separately to
// read each one's peak RSS (scripts/bench-storage.sh does).
func BenchmarkUploadVersityGW(b *testing.B) {
	gw := startVersityGW(b)
	ctx := context.Background()
	cl := gw.client(b, gw.SecretKey)
	const bucket = "bench"
	if err := cl.EnsureBucket(ctx, bucket, storage.WithLocationConstraint(versityRegion)); err != nil {
		b.Fatal(err)
	}
	size := benchSize(b)

	b.Run("stream", func(b *testing.B) {
		b.SetBytes(size)
		cpu0 := testtool.CPUTime()
		for b.Loop() {
			pr, pw := io.Pipe()
			go func() { pw.CloseWithError(generate(pw, size)) }()
			res, err := cl.Upload(ctx, bucket, "stream.img", pr)
			if err != nil {
				b.Fatal(err)
			}
			if res.Size != size {
				b.Fatalf("stored %d bytes, want %d", res.Size, size)
			}
		}
		b.ReportMetric((testtool.CPUTime()-cpu0).Seconds()/float64(b.N), "client-cpu-s/op")
		b.ReportMetric(testtool.PeakRSSMiB(), "peak-RSS-MiB")
	})

	// "writer" is the pipeline's path: an encoder writing into an
	// ObjectWriter, which copies into the part buffers directly.
	b.Run("writer", func(b *testing.B) {
		b.SetBytes(size)
		cpu0 := testtool.CPUTime()
		for b.Loop() {
			w := cl.NewObjectWriter(ctx, bucket, "writer.img")
			if err := generate(w, size); err != nil {
				b.Fatal(w.CloseWithError(err))
			}
			if err := w.Close(); err != nil {
				b.Fatal(err)
			}
			if w.Result().Size != size {
				b.Fatalf("stored %d bytes, want %d", w.Result().Size, size)
			}
		}
		b.ReportMetric((testtool.CPUTime()-cpu0).Seconds()/float64(b.N), "client-cpu-s/op")
		b.ReportMetric(testtool.PeakRSSMiB(), "peak-RSS-MiB")
	})

	b.Run("memory", func(b *testing.B) {
		var buf bytes.Buffer
		buf.Grow(int(size))
		if err := generate(&buf, size); err != nil {
			b.Fatal(err)
		}
		data := buf.Bytes()
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConnsPerHost = 64
		sess := session.Must(session.NewSession(&aws.Config{
			Endpoint: aws.String(gw.Endpoint), Region: aws.String(versityRegion), S3ForcePathStyle: aws.Bool(true),
			Credentials: credentials.NewStaticCredentials(gw.AccessKey, gw.SecretKey, ""),
			HTTPClient:  &http.Client{Transport: t},
		}))
		up := s3manager.NewUploaderWithClient(s3.New(sess), func(u *s3manager.Uploader) {
			u.PartSize = storage.DefaultPartSize
			u.Concurrency = storage.DefaultConcurrency
		})
		b.SetBytes(size)
		cpu0 := testtool.CPUTime()
		for b.Loop() {
			if _, err := up.UploadWithContext(ctx, &s3manager.UploadInput{Bucket: aws.String(bucket),
				Key: aws.String("memory.img"), Body: bytes.NewReader(data)}); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric((testtool.CPUTime()-cpu0).Seconds()/float64(b.N), "client-cpu-s/op")
		b.ReportMetric(testtool.PeakRSSMiB(), "peak-RSS-MiB")
	})
}
