package storage_test

import (
	"context"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/e2eimage/e2e/e2etest"
	"github.com/e2eimage/e2e/storage"
)

// fetchesRunning reports whether a background fetch of an ObjectReaderAt
// is on some goroutine's stack.
func fetchesRunning() bool {
	buf := make([]byte, 1<<20)
	return strings.Contains(string(buf[:runtime.Stack(buf, true)]), "storage.(*ObjectReaderAt).fetch")
}

// Close must not return while read-ahead fetches still run: they held
// connections and buffers after the reader was gone.
func TestReaderAtCloseWaitsForFetches(t *testing.T) {
	c := startCloud(t)
	bucket := bucketIn(t, c, "readerat-close")
	if err := c.PutObject(bucket, "disk.img", randomBytes(t, 1<<20)); err != nil {
		t.Fatal(err)
	}
	cl := hmacClient(t, c)
	r, err := cl.NewReaderAt(context.Background(), bucket, "disk.img", storage.WithBlockSize(64<<10), storage.WithReadAhead(4))
	if err != nil {
		t.Fatal(err)
	}
	// Every GET hangs until its client goes away.
	c.InjectFault(e2etest.ServiceCOS, "GetObject", e2etest.Fault{Latency: time.Minute, Times: 100})
	readDone := make(chan error, 1)
	go func() {
		_, err := r.ReadAt(make([]byte, 10), 0)
		readDone <- err
	}()
	deadline := time.Now().Add(10 * time.Second)
	for !fetchesRunning() {
		if time.Now().After(deadline) {
			t.Fatal("no fetch started")
		}
		time.Sleep(time.Millisecond)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if fetchesRunning() {
		t.Fatal("a fetch still runs after Close returned")
	}
	if err := <-readDone; err == nil {
		t.Fatal("a read interrupted by Close succeeded")
	}
	c.ClearFaults()
}
