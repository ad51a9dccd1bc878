package storage_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"testing"
	"testing/iotest"

	"github.com/e2eimage/e2e/e2etest"
	"github.com/e2eimage/e2e/storage"
)

// multipartETagOf is S3's ETag of data uploaded in parts of partSize: the
// MD5 of the parts' MD5s, a dash and the number of parts.
func multipartETagOf(data []byte, partSize int) string {
	h := md5.New()
	n := 0
	for off := 0; off < len(data); off += partSize {
		sum := md5.Sum(data[off:min(off+partSize, len(data))])
		h.Write(sum[:])
		n++
	}
	return fmt.Sprintf("%x-%d", h.Sum(nil), n)
}

// A CompleteMultipartUpload that worked but whose answer was a 5xx: the
// SDK resends it, the resend finds no upload, and Upload reported a
// failure with "nothing left behind" while the object was stored.
func TestUploadCompleteAnswerLost(t *testing.T) {
	c := startCloud(t)
	bucket := bucketIn(t, c, "complete-lost")
	cl := hmacClient(t, c)
	data := randomBytes(t, storage.MinPartSize+10)
	lost := e2etest.Fault{Status: http.StatusServiceUnavailable, AfterHandling: true, Code: "ServiceUnavailable"}

	c.InjectFault(e2etest.ServiceCOS, "CompleteMultipartUpload", lost)
	// The emulator's ETag of a multipart object is its MD5 (COS's is the
	// multipart ETag, checked against versitygw): WithMD5 makes it checkable.
	res, err := cl.Upload(context.Background(), bucket, "o", bytes.NewReader(data), storage.WithPartSize(storage.MinPartSize), storage.WithMD5())
	if err != nil {
		t.Fatalf("Upload whose Complete answer was lost: %v", err)
	}
	sum := md5.Sum(data)
	if res.Size != int64(len(data)) || res.Parts != 2 || res.ETag != `"`+hex.EncodeToString(sum[:])+`"` {
		t.Fatalf("result %+v", res)
	}
	if got, err := c.Object(bucket, "o"); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("stored object: %v", err)
	}

	if n := len(c.MultipartUploads(bucket)); n != 0 {
		t.Fatalf("%d multipart uploads left", n)
	}

	// A Complete that really failed while an identical object is stored:
	// the content is there, and the upload's parts are not left behind.
	c.InjectFault(e2etest.ServiceCOS, "CompleteMultipartUpload", e2etest.Fault{Status: http.StatusInternalServerError, Times: 10})
	if _, err := cl.Upload(context.Background(), bucket, "o", bytes.NewReader(data), storage.WithPartSize(storage.MinPartSize), storage.WithMD5()); err != nil {
		t.Fatalf("Upload of the same content again: %v", err)
	}
	if n := len(c.MultipartUploads(bucket)); n != 0 {
		t.Fatalf("%d multipart uploads left after a failed Complete", n)
	}
	c.ClearFaults()

	// An object that is not ours is not taken for it: an earlier object of
	// another size stays, and the failure is reported.
	if err := c.PutObject(bucket, "other", []byte("older and shorter")); err != nil {
		t.Fatal(err)
	}
	c.InjectFault(e2etest.ServiceCOS, "CompleteMultipartUpload", e2etest.Fault{Status: http.StatusBadRequest, Code: "MalformedXML"})
	_, err = cl.Upload(context.Background(), bucket, "other", bytes.NewReader(data), storage.WithPartSize(storage.MinPartSize), storage.WithMD5())
	var ue *storage.UploadError
	if !errors.As(err, &ue) || !ue.Aborted {
		t.Fatalf("Upload with a refused Complete: %v, want an aborted *UploadError", err)
	}
}

// A CreateMultipartUpload that worked but answered 5xx: the SDK's retry
// started a second upload and the first stayed behind, an orphan.
func TestUploadCreateAnswerLost(t *testing.T) {
	c := startCloud(t)
	bucket := bucketIn(t, c, "create-lost")
	cl := hmacClient(t, c)
	data := randomBytes(t, storage.MinPartSize+10)
	// An upload of another key kept for a resume must survive the clean-up.
	_, err := cl.Upload(context.Background(), bucket, "o2", io.MultiReader(bytes.NewReader(data), iotest.ErrReader(errors.New("boom"))),
		storage.WithPartSize(storage.MinPartSize), storage.WithKeepPartsOnError())
	if err == nil || len(c.MultipartUploads(bucket)) != 1 {
		t.Fatalf("kept upload: %v, %d pending", err, len(c.MultipartUploads(bucket)))
	}
	c.InjectFault(e2etest.ServiceCOS, "CreateMultipartUpload", e2etest.Fault{Status: http.StatusServiceUnavailable, AfterHandling: true, Code: "ServiceUnavailable"})
	if _, err := cl.Upload(context.Background(), bucket, "o", bytes.NewReader(data), storage.WithPartSize(storage.MinPartSize)); err != nil {
		t.Fatal(err)
	}
	if ups := c.MultipartUploads(bucket); len(ups) != 1 {
		t.Fatalf("%d multipart uploads pending, want only the kept one: %+v", len(ups), ups)
	}
	if got, err := c.Object(bucket, "o"); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("stored object: %v", err)
	}
}

// Every CreateMultipartUpload try worked but answered 5xx, so the upload
// fails: the uploads the lost answers started must not stay behind as
// orphans (found by TestChaos seed 136, a vhd run).
func TestUploadCreateAnswersAllLost(t *testing.T) {
	c := startCloud(t)
	bucket := bucketIn(t, c, "create-all-lost")
	cl := hmacClient(t, c)
	data := randomBytes(t, storage.MinPartSize+10)
	c.InjectFault(e2etest.ServiceCOS, "CreateMultipartUpload", e2etest.Fault{Status: http.StatusInternalServerError, AfterHandling: true, Times: 50})
	_, err := cl.Upload(context.Background(), bucket, "o", bytes.NewReader(data), storage.WithPartSize(storage.MinPartSize))
	var ue *storage.UploadError
	if !errors.As(err, &ue) {
		t.Fatalf("Upload with every create answer lost = %v, want an *UploadError", err)
	}
	c.ClearFaults()
	if ups := c.MultipartUploads(bucket); len(ups) != 0 {
		t.Fatalf("%d multipart uploads left by the lost answers: %+v", len(ups), ups)
	}
}
