package storage_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

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
