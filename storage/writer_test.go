package storage_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"
	"testing/iotest"
	"time"

	"github.com/e2eimage/e2e/e2etest"
	"github.com/e2eimage/e2e/storage"
)

func TestObjectWriter(t *testing.T) {
	c := startCloud(t)
	bucket := bucketIn(t, c, "writer")
	cl := hmacClient(t, c)
	data := randomBytes(t, 2*storage.MinPartSize+99)
	for _, size := range []int{0, 1000, len(data)} {
		for _, chunk := range []int{1 << 10, 1 << 20, 3<<20 + 1} {
			if size < len(data) && chunk != 1<<10 {
				continue
			}
			t.Run(fmt.Sprintf("size=%d/write=%d", size, chunk), func(t *testing.T) {
				key := fmt.Sprintf("w-%d-%d", size, chunk)
				w := cl.NewObjectWriter(context.Background(), bucket, key, storage.WithPartSize(storage.MinPartSize))
				if w.Result() != nil {
					t.Error("Result before Close")
				}
				for off := 0; off < size; off += chunk {
					if _, err := w.Write(data[off:min(off+chunk, size)]); err != nil {
						t.Fatal(err)
					}
				}
				if err := w.Close(); err != nil {
					t.Fatal(err)
				}
				res := w.Result()
				if res == nil {
					t.Fatal("no Result after Close")
				}
				checkResult(t, res, data[:size])
				if got, err := c.Object(bucket, key); err != nil || !bytes.Equal(got, data[:size]) {
					t.Fatalf("stored object differs: %v", err)
				}
				if _, err := w.Write([]byte("late")); !errors.Is(err, storage.ErrClosed) {
					t.Errorf("write after close: %v", err)
				}
				if err := w.Close(); err != nil {
					t.Errorf("second Close: %v", err)
				}
			})
		}
	}

	t.Run("CloseWithError aborts", func(t *testing.T) {
		w := cl.NewObjectWriter(context.Background(), bucket, "abandoned", storage.WithPartSize(storage.MinPartSize))
		if _, err := w.Write(data); err != nil {
			t.Fatal(err)
		}
		boom := errors.New("encoder failed")
		err := w.CloseWithError(boom)
		var ue *storage.UploadError
		if !errors.Is(err, boom) || !errors.As(err, &ue) || !ue.Aborted {
			t.Fatalf("got %v, want an aborted UploadError wrapping the cause", err)
		}
		if n := len(c.MultipartUploads(bucket)); n != 0 {
			t.Errorf("%d uploads left", n)
		}
		if _, err := c.Object(bucket, "abandoned"); err == nil {
			t.Error("an abandoned object was stored")
		}
	})

	t.Run("failed upload fails writes", func(t *testing.T) {
		w := cl.NewObjectWriter(context.Background(), "no-such-bucket", "k", storage.WithPartSize(storage.MinPartSize))
		var err error
		for i := 0; i < 10 && err == nil; i++ {
			_, err = w.Write(data)
		}
		if !errors.Is(err, storage.ErrNoSuchBucket) {
			t.Errorf("write: %v", err)
		}
		if err := w.Close(); !errors.Is(err, storage.ErrNoSuchBucket) {
			t.Errorf("close: %v", err)
		}
	})
}

// A cancelled ctx must abort the upload even when the writer goes quiet:
// the upload goroutine waited on the pipe forever, the multipart upload
// left behind.
func TestObjectWriterCancelWhileIdle(t *testing.T) {
	c := startCloud(t)
	bucket := bucketIn(t, c, "writer-cancel")
	cl := hmacClient(t, c)
	ctx, cancel := context.WithCancel(context.Background())
	w := cl.NewObjectWriter(ctx, bucket, "quiet", storage.WithPartSize(storage.MinPartSize))
	if _, err := w.Write(randomBytes(t, storage.MinPartSize+1)); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(c.MultipartUploads(bucket)) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the multipart upload did not start")
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel() // and never write or close
	for len(c.MultipartUploads(bucket)) != 0 {
		if time.Now().After(deadline) {
			t.Fatal("the multipart upload was not aborted after ctx was cancelled")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if _, err := w.Write([]byte("late")); !errors.Is(err, context.Canceled) {
		t.Errorf("Write after cancel: %v, want context.Canceled", err)
	}
	if err := w.Close(); !errors.Is(err, context.Canceled) {
		t.Errorf("Close after cancel: %v, want context.Canceled", err)
	}
}

// ReadFrom reads straight into the part buffers; mixed with Write, over
// part boundaries and with readers that return little at a time, the
// object is the stream.
func TestObjectWriterReadFrom(t *testing.T) {
	c := startCloud(t)
	bucket := bucketIn(t, c, "readfrom")
	cl := hmacClient(t, c)
	data := randomBytes(t, 2*storage.MinPartSize+99)
	readers := map[string]func(io.Reader) io.Reader{
		"plain":    func(r io.Reader) io.Reader { return r },
		"half":     iotest.HalfReader,
		"data+EOF": iotest.DataErrReader,
	}
	for _, size := range []int{0, 1, storage.MinPartSize, storage.MinPartSize + 1, len(data)} {
		for rname, wrap := range readers {
			for _, prefix := range []int{0, 7} { // bytes written with Write first
				if prefix > size || prefix > 0 && rname != "plain" {
					continue
				}
				t.Run(fmt.Sprintf("size=%d/%s/prefix=%d", size, rname, prefix), func(t *testing.T) {
					key := fmt.Sprintf("rf-%d-%s-%d", size, rname, prefix)
					w := cl.NewObjectWriter(context.Background(), bucket, key, storage.WithPartSize(storage.MinPartSize), storage.WithMD5())
					if _, err := w.Write(data[:prefix]); err != nil {
						t.Fatal(err)
					}
					n, err := w.ReadFrom(wrap(bytes.NewReader(data[prefix:size])))
					if err != nil || n != int64(size-prefix) {
						t.Fatalf("ReadFrom = %d, %v; want %d, nil", n, err, size-prefix)
					}
					if err := w.Close(); err != nil {
						t.Fatal(err)
					}
					checkResult(t, w.Result(), data[:size])
					if want := max(1, (size+storage.MinPartSize-1)/storage.MinPartSize); w.Result().Parts != want {
						t.Errorf("Parts = %d, want %d", w.Result().Parts, want)
					}
					if got, err := c.Object(bucket, key); err != nil || !bytes.Equal(got, data[:size]) {
						t.Fatalf("stored object differs: %v", err)
					}
				})
			}
		}
	}

	t.Run("io.Copy takes ReadFrom", func(t *testing.T) {
		w := cl.NewObjectWriter(context.Background(), bucket, "copied", storage.WithPartSize(storage.MinPartSize))
		// A struct hides bytes.Reader's WriterTo, so io.Copy must use ReadFrom.
		src := struct{ io.Reader }{bytes.NewReader(data)}
		if n, err := io.Copy(w, src); err != nil || n != int64(len(data)) {
			t.Fatalf("io.Copy = %d, %v", n, err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		checkResult(t, w.Result(), data)
	})

	t.Run("reader error leaves the writer to abandon", func(t *testing.T) {
		w := cl.NewObjectWriter(context.Background(), bucket, "broken-source", storage.WithPartSize(storage.MinPartSize))
		boom := errors.New("disk read failed")
		n, err := w.ReadFrom(failAfter(data, storage.MinPartSize+10, boom))
		if !errors.Is(err, boom) || n != storage.MinPartSize+10 {
			t.Fatalf("ReadFrom = %d, %v; want %d, the reader's error", n, err, storage.MinPartSize+10)
		}
		var ue *storage.UploadError
		if err := w.CloseWithError(err); !errors.Is(err, boom) || !errors.As(err, &ue) || !ue.Aborted {
			t.Fatalf("CloseWithError = %v, want an aborted UploadError wrapping the cause", err)
		}
		if n := len(c.MultipartUploads(bucket)); n != 0 {
			t.Errorf("%d uploads left", n)
		}
		if _, err := w.ReadFrom(bytes.NewReader(data)); !errors.Is(err, storage.ErrClosed) {
			t.Errorf("ReadFrom after CloseWithError: %v, want ErrClosed", err)
		}
	})
}

// A writer whose upload fails mid-stream (every part refused) fails its
// next Write or Close with the upload's error, sticky, and leaves nothing.
func TestObjectWriterUploadFails(t *testing.T) {
	c := startCloud(t)
	bucket := bucketIn(t, c, "writer-fails")
	cl := newClient(t, storage.Config{Endpoint: c.COSURL, Region: c.Region, PathStyle: true, MaxRetries: -1,
		AccessKeyID: c.HMACAccessKeyID, SecretAccessKey: c.HMACSecretAccessKey})
	c.InjectFault(e2etest.ServiceCOS, "UploadPart", e2etest.Fault{Status: http.StatusInternalServerError, Times: 1000})
	defer c.ClearFaults()
	w := cl.NewObjectWriter(context.Background(), bucket, "refused", storage.WithPartSize(storage.MinPartSize), storage.WithConcurrency(1))
	chunk := randomBytes(t, 1<<20)
	var werr error
	for i := 0; i < 100 && werr == nil; i++ { // 100 MiB: far more than the 2 buffers hold
		_, werr = w.Write(chunk)
	}
	var re *storage.RequestError
	if !errors.As(werr, &re) || re.Op != "UploadPart" || re.StatusCode != http.StatusInternalServerError {
		t.Fatalf("Write = %v, want the refused UploadPart", werr)
	}
	if _, err := w.Write(chunk); !errors.As(err, &re) {
		t.Errorf("the next Write = %v, want the same error (sticky)", err)
	}
	var ue *storage.UploadError
	if err := w.Close(); !errors.As(err, &ue) || !ue.Aborted || !errors.As(err, &re) {
		t.Errorf("Close = %v, want the aborted upload's error", err)
	}
	if n := len(c.MultipartUploads(bucket)); n != 0 {
		t.Errorf("%d uploads left", n)
	}
}

// Cancelling ctx while Write waits for a buffer (every slot taken by a
// part the server is slow to take) returns from Write with ctx's error and
// aborts the upload.
func TestObjectWriterCancelWhileBlocked(t *testing.T) {
	c := startCloud(t)
	bucket := bucketIn(t, c, "writer-blocked")
	cl := hmacClient(t, c)
	c.InjectFault(e2etest.ServiceCOS, "UploadPart", e2etest.Fault{Latency: time.Minute, Times: 1000})
	defer c.ClearFaults()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w := cl.NewObjectWriter(ctx, bucket, "slow", storage.WithPartSize(storage.MinPartSize), storage.WithConcurrency(1))
	data := randomBytes(t, 4*storage.MinPartSize) // 2 buffers: the third part cannot start
	errc := make(chan error, 1)
	go func() {
		_, err := w.Write(data)
		errc <- err
	}()
	select {
	case err := <-errc:
		t.Fatalf("Write of more than the buffers hold returned while parts were stuck: %v", err)
	case <-time.After(200 * time.Millisecond):
	}
	cancel()
	select {
	case err := <-errc:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Write = %v, want context.Canceled", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Write still blocked 20 s after ctx was cancelled")
	}
	if err := w.Close(); !errors.Is(err, context.Canceled) {
		t.Errorf("Close = %v, want context.Canceled", err)
	}
	if n := len(c.MultipartUploads(bucket)); n != 0 {
		t.Errorf("%d uploads left", n)
	}
}

// An ObjectWriter resumes a kept upload like Upload does: the stream again
// from its start, only the parts the server lacks are sent.
func TestObjectWriterResume(t *testing.T) {
	c := startCloud(t)
	bucket := bucketIn(t, c, "writer-resume")
	t.Setenv("AWS_CA_BUNDLE", "") // see TestUploadResume
	counter := &partCounter{rt: http.DefaultTransport}
	cl := newClient(t, storage.Config{Endpoint: c.COSURL, Region: c.Region, PathStyle: true,
		AccessKeyID: c.HMACAccessKeyID, SecretAccessKey: c.HMACSecretAccessKey, HTTPClient: &http.Client{Transport: counter}})
	ctx := context.Background()
	data := randomBytes(t, 3*storage.MinPartSize+5)
	opts := []storage.UploadOption{storage.WithPartSize(storage.MinPartSize), storage.WithConcurrency(1)}

	w := cl.NewObjectWriter(ctx, bucket, "disk.img", append(opts, storage.WithKeepPartsOnError())...)
	if _, err := w.Write(data[:2*storage.MinPartSize+1]); err != nil {
		t.Fatal(err)
	}
	var ue *storage.UploadError
	if err := w.CloseWithError(errors.New("killed")); !errors.As(err, &ue) || ue.Aborted || ue.UploadID == "" {
		t.Fatalf("CloseWithError = %v, want a kept upload", err)
	}
	if ups := c.MultipartUploads(bucket); len(ups) != 1 || ups[0].Parts != 2 {
		t.Fatalf("kept uploads %+v, want one with the 2 full parts", ups)
	}

	counter.n.Store(0)
	w = cl.NewObjectWriter(ctx, bucket, "disk.img", append(opts, storage.WithResume(ue.UploadID))...)
	if _, err := w.ReadFrom(bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	checkResult(t, w.Result(), data)
	if n := counter.n.Load(); n != 2 {
		t.Errorf("resume sent %d parts, want the 2 missing ones", n)
	}
	if got, _ := c.Object(bucket, "disk.img"); !bytes.Equal(got, data) {
		t.Fatal("resumed object differs")
	}
	if n := len(c.MultipartUploads(bucket)); n != 0 {
		t.Errorf("%d uploads left", n)
	}
}

// What an ObjectWriter allocates is its pool of Concurrency+1 part buffers
// and little else, however long the stream: a full part goes to the upload
// as it is, never copied.
func TestObjectWriterMemoryBound(t *testing.T) {
	srv := &discardS3{}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	cl := newClient(t, storage.Config{Endpoint: ts.URL, Region: "us-south", PathStyle: true,
		AccessKeyID: "test", SecretAccessKey: "test-secret"})
	const conc, parts = 2, 12
	chunk := randomBytes(t, 1<<20)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	w := cl.NewObjectWriter(context.Background(), "bucket", "big.img", storage.WithPartSize(storage.MinPartSize), storage.WithConcurrency(conc))
	for range parts * storage.MinPartSize / len(chunk) {
		if _, err := w.Write(chunk); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	if got := srv.bytes.Load(); w.Result().Size != parts*storage.MinPartSize || got < parts*storage.MinPartSize {
		t.Fatalf("stored %d bytes, the server got %d, want %d", w.Result().Size, got, parts*storage.MinPartSize)
	}
	if w.Result().Parts != parts {
		t.Errorf("Parts = %d, want %d", w.Result().Parts, parts)
	}
	// 16 MiB of slack for the SDK and HTTP, well under the 60 MiB stream.
	limit := uint64((conc+1)*storage.MinPartSize + 16<<20)
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > limit {
		t.Errorf("allocated %d MiB for a %d MiB stream, want at most %d MiB", alloc>>20, parts*storage.MinPartSize>>20, limit>>20)
	} else {
		t.Logf("allocated %.1f MiB for a %d MiB stream", float64(alloc)/(1<<20), parts*storage.MinPartSize>>20)
	}
}
