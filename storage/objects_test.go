package storage_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"

	"github.com/e2eimage/e2e/e2etest"
	"github.com/e2eimage/e2e/storage"
)

func TestDownload(t *testing.T) {
	c := startCloud(t)
	bucket := bucketIn(t, c, "download")
	data := randomBytes(t, 3<<20)
	if err := c.PutObject(bucket, "obj", data); err != nil {
		t.Fatal(err)
	}
	cl := hmacClient(t, c)
	ctx := context.Background()
	read := func() ([]byte, error) {
		rc, err := cl.Download(ctx, bucket, "obj")
		if err != nil {
			return nil, err
		}
		defer rc.Close()
		return io.ReadAll(rc)
	}
	if got, err := read(); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("download: %d bytes, %v", len(got), err)
	}

	c.InjectFault(e2etest.ServiceCOS, "GetObject", e2etest.Fault{Drop: true, DropAfter: 100_000, Times: 2})
	if got, err := read(); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("download with two broken bodies: %d bytes, %v", len(got), err)
	}

	c.InjectFault(e2etest.ServiceCOS, "GetObject", e2etest.Fault{Drop: true, DropAfter: 100_000, Times: 10})
	if _, err := read(); err == nil {
		t.Fatal("a body that always breaks off downloaded fine")
	}
	c.ClearFaults()

	// The object is replaced before a broken download resumes.
	c.InjectFault(e2etest.ServiceCOS, "GetObject", e2etest.Fault{Drop: true, DropAfter: 100_000})
	rc, err := cl.Download(ctx, bucket, "obj")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(rc, make([]byte, 10)); err != nil {
		t.Fatal(err)
	}
	if err := c.PutObject(bucket, "obj", randomBytes(t, len(data))); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadAll(rc); !errors.Is(err, storage.ErrObjectChanged) {
		t.Errorf("resume after replacement: %v, want ErrObjectChanged", err)
	}
	rc.Close()

	if _, err := cl.Download(ctx, bucket, "missing"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("missing object: %v", err)
	}
	if _, err := cl.Download(ctx, "no-such-bucket", "obj"); !errors.Is(err, storage.ErrNoSuchBucket) {
		t.Errorf("missing bucket: %v", err)
	}
}

func TestHeadListDelete(t *testing.T) {
	c := startCloud(t)
	bucket := bucketIn(t, c, "objects")
	cl := iamClient(t, c)
	ctx := context.Background()
	for _, k := range []string{"a/1", "a/2", "b/1"} {
		if _, err := cl.Upload(ctx, bucket, k, bytes.NewReader([]byte(k)), storage.WithContentType("text/plain")); err != nil {
			t.Fatal(err)
		}
	}
	info, err := cl.Head(ctx, bucket, "a/2")
	if err != nil || info.Size != 3 || info.ETag == "" || info.ContentType != "text/plain" {
		t.Fatalf("Head = %+v, %v", info, err)
	}
	if _, err := cl.Head(ctx, bucket, "zzz"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Head missing: %v", err)
	}
	list, err := cl.List(ctx, bucket, "a/")
	if err != nil || len(list) != 2 || list[0].Key != "a/1" || list[1].Key != "a/2" {
		t.Fatalf("List = %+v, %v", list, err)
	}
	if err := cl.Delete(ctx, bucket, "a/1"); err != nil {
		t.Fatal(err)
	}
	if err := cl.Delete(ctx, bucket, "a/1"); err != nil {
		t.Errorf("deleting a missing object: %v", err)
	}
	if list, _ := cl.List(ctx, bucket, ""); len(list) != 2 {
		t.Errorf("after delete: %+v", list)
	}
	if _, err := cl.List(ctx, "no-such-bucket", ""); !errors.Is(err, storage.ErrNoSuchBucket) {
		t.Errorf("List missing bucket: %v", err)
	}
	ups, err := cl.PendingUploads(ctx, bucket, "")
	if err != nil || len(ups) != 0 {
		t.Errorf("PendingUploads = %v, %v", ups, err)
	}
}
