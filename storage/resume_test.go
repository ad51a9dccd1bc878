package storage_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/e2eimage/e2e/storage"
)

// partCounter counts UploadPart requests.
type partCounter struct {
	n  atomic.Int64
	rt http.RoundTripper
}

func (p *partCounter) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method == http.MethodPut && r.URL.Query().Has("partNumber") {
		p.n.Add(1)
	}
	return p.rt.RoundTrip(r)
}

func TestUploadResume(t *testing.T) {
	c := startCloud(t)
	bucket := bucketIn(t, c, "resume")
	// The SDK applies AWS_CA_BUNDLE to *http.Transport only; this one wraps it.
	t.Setenv("AWS_CA_BUNDLE", "")
	counter := &partCounter{rt: http.DefaultTransport}
	cl := newClient(t, storage.Config{Endpoint: c.COSURL, Region: c.Region, PathStyle: true,
		AccessKeyID: c.HMACAccessKeyID, SecretAccessKey: c.HMACSecretAccessKey, HTTPClient: &http.Client{Transport: counter}})
	ctx := context.Background()
	data := randomBytes(t, 4*storage.MinPartSize+100)
	opts := []storage.UploadOption{storage.WithPartSize(storage.MinPartSize), storage.WithConcurrency(1)}

	var lastID string
	boom := errors.New("process killed")
	_, err := cl.Upload(ctx, bucket, "disk.img", failAfter(data, 2*storage.MinPartSize+10, boom),
		append(opts, storage.WithKeepPartsOnError(), storage.WithProgress(func(p storage.Progress) { lastID = p.UploadID }))...)
	var ue *storage.UploadError
	if !errors.As(err, &ue) || !errors.Is(err, boom) || ue.Aborted || ue.UploadID == "" || ue.UploadID != lastID {
		t.Fatalf("got %v (progress saw upload %q), want a kept multipart upload", err, lastID)
	}
	t.Log(err)
	ups := c.MultipartUploads(bucket)
	if len(ups) != 1 || ups[0].Parts != 2 {
		t.Fatalf("kept uploads %+v, want one with 2 parts", ups)
	}

	counter.n.Store(0)
	res, err := cl.Upload(ctx, bucket, "disk.img", bytes.NewReader(data), append(opts, storage.WithResume(ue.UploadID))...)
	if err != nil {
		t.Fatal(err)
	}
	checkResult(t, res, data)
	if n := counter.n.Load(); n != 3 {
		t.Errorf("resume sent %d parts, want the 3 missing ones", n)
	}
	if got, _ := c.Object(bucket, "disk.img"); !bytes.Equal(got, data) {
		t.Fatal("resumed object differs")
	}
	if n := len(c.MultipartUploads(bucket)); n != 0 {
		t.Errorf("%d uploads left", n)
	}

	t.Run("changed stream re-sends changed parts", func(t *testing.T) {
		_, err := cl.Upload(ctx, bucket, "b.img", failAfter(data, 3*storage.MinPartSize, boom), append(opts, storage.WithKeepPartsOnError())...)
		if !errors.As(err, &ue) {
			t.Fatal(err)
		}
		changed := bytes.Clone(data)
		changed[10] ^= 1 // part 1 differs now
		counter.n.Store(0)
		if _, err := cl.Upload(ctx, bucket, "b.img", bytes.NewReader(changed), append(opts, storage.WithResume(ue.UploadID))...); err != nil {
			t.Fatal(err)
		}
		if n := counter.n.Load(); n != 3 {
			t.Errorf("sent %d parts, want 3 (part 1 changed, parts 4 and 5 missing)", n)
		}
		if got, _ := c.Object(bucket, "b.img"); !bytes.Equal(got, changed) {
			t.Fatal("object differs from the changed stream")
		}
	})

	t.Run("unknown upload", func(t *testing.T) {
		_, err := cl.Upload(ctx, bucket, "c.img", bytes.NewReader(data), append(opts, storage.WithResume("no-such-upload"))...)
		var re *storage.RequestError
		if !errors.As(err, &re) || re.Code != "NoSuchUpload" {
			t.Errorf("got %v, want NoSuchUpload", err)
		}
		if _, err := cl.Upload(ctx, bucket, "c.img", bytes.NewReader(data), storage.WithResume("")); !errors.Is(err, storage.ErrInvalidOption) {
			t.Errorf("empty upload ID: %v", err)
		}
	})
}
