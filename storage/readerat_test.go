package storage_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/e2eimage/e2e/e2etest"
	"github.com/e2eimage/e2e/storage"
)

func TestReaderAt(t *testing.T) {
	c := startCloud(t)
	bucket := bucketIn(t, c, "readerat")
	data := randomBytes(t, 1<<20+12345)
	if err := c.PutObject(bucket, "disk.img", data); err != nil {
		t.Fatal(err)
	}
	cl := hmacClient(t, c)
	ctx := context.Background()
	r, err := cl.NewReaderAt(ctx, bucket, "disk.img", storage.WithBlockSize(64<<10), storage.WithReadAhead(3))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if r.Size() != int64(len(data)) {
		t.Fatalf("Size = %d, want %d", r.Size(), len(data))
	}

	// Sequential reads across block boundaries, with odd sizes.
	var seq bytes.Buffer
	if _, err := io.Copy(&seq, io.NewSectionReader(r, 0, r.Size())); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(seq.Bytes(), data) {
		t.Fatal("sequential read differs")
	}

	// Concurrent random reads.
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(g), 1))
			for range 50 {
				off := rng.Int64N(int64(len(data)))
				p := make([]byte, rng.IntN(200_000)+1)
				n, err := r.ReadAt(p, off)
				want := data[off:min(off+int64(len(p)), int64(len(data)))]
				if n != len(want) || !bytes.Equal(p[:n], want) {
					t.Errorf("ReadAt(%d, %d) = %d bytes, want %d", len(p), off, n, len(want))
					return
				}
				if (n < len(p)) != (err == io.EOF) {
					t.Errorf("ReadAt(%d, %d): n=%d err=%v", len(p), off, n, err)
					return
				}
			}
		}()
	}
	wg.Wait()

	if n, err := r.ReadAt(make([]byte, 10), int64(len(data))); n != 0 || err != io.EOF {
		t.Errorf("read at end: %d, %v", n, err)
	}
	if _, err := r.ReadAt(make([]byte, 10), -1); err == nil {
		t.Error("negative offset accepted")
	}
}

func TestReaderAtFailures(t *testing.T) {
	c := startCloud(t)
	bucket := bucketIn(t, c, "readerat-fail")
	data := randomBytes(t, 512<<10)
	if err := c.PutObject(bucket, "disk.img", data); err != nil {
		t.Fatal(err)
	}
	cl := hmacClient(t, c)
	ctx := context.Background()

	if _, err := cl.NewReaderAt(ctx, bucket, "missing.img"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("missing object: %v", err)
	}
	if _, err := cl.NewReaderAt(ctx, bucket, "disk.img", storage.WithBlockSize(1)); !errors.Is(err, storage.ErrInvalidOption) {
		t.Errorf("bad block size: %v", err)
	}

	t.Run("body cut mid-way is fetched again", func(t *testing.T) {
		r, err := cl.NewReaderAt(ctx, bucket, "disk.img", storage.WithBlockSize(128<<10), storage.WithReadAhead(0))
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		c.InjectFault(e2etest.ServiceCOS, "GetObject", e2etest.Fault{Drop: true, DropAfter: 1000})
		p := make([]byte, 4096)
		if _, err := r.ReadAt(p, 200_000); err != nil || !bytes.Equal(p, data[200_000:204_096]) {
			t.Fatalf("read after a dropped body: %v", err)
		}
	})

	t.Run("replaced object", func(t *testing.T) {
		r, err := cl.NewReaderAt(ctx, bucket, "disk.img", storage.WithBlockSize(64<<10), storage.WithReadAhead(0))
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		if _, err := r.ReadAt(make([]byte, 10), 0); err != nil {
			t.Fatal(err)
		}
		if err := c.PutObject(bucket, "disk.img", randomBytes(t, len(data))); err != nil {
			t.Fatal(err)
		}
		if _, err := r.ReadAt(make([]byte, 10), 300_000); !errors.Is(err, storage.ErrObjectChanged) {
			t.Errorf("got %v, want ErrObjectChanged", err)
		}
	})

	t.Run("closed", func(t *testing.T) {
		r, err := cl.NewReaderAt(ctx, bucket, "disk.img")
		if err != nil {
			t.Fatal(err)
		}
		r.Close()
		if _, err := r.ReadAt(make([]byte, 10), 0); !errors.Is(err, storage.ErrClosed) {
			t.Errorf("read after close: %v", err)
		}
	})

	t.Run("cancelled", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		r, err := cl.NewReaderAt(cctx, bucket, "disk.img")
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		cancel()
		if _, err := r.ReadAt(make([]byte, 10), 0); !errors.Is(err, context.Canceled) {
			t.Errorf("read after cancel: %v", err)
		}
	})
}
