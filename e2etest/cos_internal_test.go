package e2etest

import (
	"bytes"
	"crypto/rand"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/IBM/ibm-cos-sdk-go/aws/credentials"
	v4 "github.com/IBM/ibm-cos-sdk-go/aws/signer/v4"
)

func TestCOSObjectForImport(t *testing.T) {
	c, err := Start()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.CreateBucket("images", ""); err != nil {
		t.Fatal(err)
	}
	if err := c.CreateBucket("frankfurt", "eu-de-smart"); err != nil {
		t.Fatal(err)
	}
	data := make([]byte, 100_000)
	rand.Read(data)
	if err := c.PutObject("images", "disk.img", data); err != nil {
		t.Fatal(err)
	}
	if err := c.PutObject("frankfurt", "disk.img", data[:10]); err != nil {
		t.Fatal(err)
	}

	r, size, region, err := c.cosObject("images", "disk.img")
	if err != nil {
		t.Fatal(err)
	}
	if size != int64(len(data)) || region != "us-south" {
		t.Fatalf("size %d region %q, want %d us-south", size, region, len(data))
	}
	got, err := io.ReadAll(io.NewSectionReader(r, 0, size))
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("content differs: %v", err)
	}
	p := make([]byte, 100)
	if n, err := r.ReadAt(p, size-40); n != 40 || err != io.EOF || !bytes.Equal(p[:40], data[size-40:]) {
		t.Errorf("ReadAt across the end: %d, %v", n, err)
	}
	if n, err := r.ReadAt(p, size); n != 0 || err != io.EOF {
		t.Errorf("ReadAt at the end: %d, %v", n, err)
	}
	if _, err := r.ReadAt(p, -1); err == nil {
		t.Error("negative offset accepted")
	}

	if _, _, region, err := c.cosObject("frankfurt", "disk.img"); err != nil || region != "eu-de" {
		t.Errorf("frankfurt: region %q, %v", region, err)
	}
	if _, _, _, err := c.cosObject("nope", "disk.img"); err == nil {
		t.Error("missing bucket accepted")
	}
	if _, _, _, err := c.cosObject("images", "nope"); err == nil {
		t.Error("missing object accepted")
	}

	// A replaced object is not read as a mix of two versions.
	if err := c.PutObject("images", "disk.img", data[:50_000]); err != nil {
		t.Fatal(err)
	}
	if _, err := r.ReadAt(p, 0); err == nil {
		t.Error("read of a replaced object succeeded")
	}
}

func TestS3Operation(t *testing.T) {
	// Covered end to end by the SDK tests; this pins the names faults use.
	cases := map[string]string{
		"GET /":                            "ListBuckets",
		"PUT /b":                           "CreateBucket",
		"GET /b?location":                  "GetBucketLocation",
		"GET /b?list-type=2":               "ListObjectsV2",
		"GET /b?uploads":                   "ListMultipartUploads",
		"POST /b/k?uploads":                "CreateMultipartUpload",
		"PUT /b/k?partNumber=1&uploadId=x": "UploadPart",
		"POST /b/k?uploadId=x":             "CompleteMultipartUpload",
		"DELETE /b/k?uploadId=x":           "AbortMultipartUpload",
		"GET /b/k":                         "GetObject",
		"HEAD /b/k":                        "HeadObject",
		"PUT /b/k":                         "PutObject",
		"DELETE /b/k":                      "DeleteObject",
		"DELETE /b":                        "DeleteBucket",
	}
	for req, want := range cases {
		method, target, _ := strings.Cut(req, " ")
		r, _ := http.NewRequest(method, "http://cos.test"+target, nil)
		if got, _, _ := s3Operation(r); got != want {
			t.Errorf("%s → %s, want %s", req, got, want)
		}
	}
}

// FuzzCOSAuthorization feeds arbitrary Authorization headers to the SigV4
// check: it must never panic, and never accept a header that does not carry
// the request's true signature.
func FuzzCOSAuthorization(f *testing.F) {
	c, err := Start()
	if err != nil {
		f.Fatal(err)
	}
	defer c.Close()
	newReq := func() *http.Request {
		r, _ := http.NewRequest(http.MethodGet, c.COSURL+"/bucket/key?list-type=2&prefix=a%20b", nil)
		r.RequestURI = r.URL.RequestURI()
		r.Host = r.URL.Host
		return r
	}
	signed := newReq()
	signer := v4.NewSigner(credentials.NewStaticCredentials(c.HMACAccessKeyID, c.HMACSecretAccessKey, ""))
	if _, err := signer.Sign(signed, nil, "s3", c.Region, time.Now()); err != nil {
		f.Fatal(err)
	}
	good := signed.Header.Get("Authorization")
	_, sig, _ := strings.Cut(good, "Signature=")
	if _, aerr := c.cosAuthenticate(withHeaders(newReq(), signed.Header), "ListObjectsV2"); aerr != nil {
		f.Fatalf("the SDK's own signature is refused: %+v", aerr)
	}
	f.Add(good)
	f.Add(strings.Replace(good, "Signature=", "Signature=0", 1))
	f.Add("AWS4-HMAC-SHA256 Credential=x/y/z/s3/aws4_request, SignedHeaders=host, Signature=00")
	f.Add("Bearer e30.e30.x")
	f.Fuzz(func(t *testing.T, auth string) {
		r := withHeaders(newReq(), signed.Header)
		r.Header.Set("Authorization", auth)
		if _, aerr := c.cosAuthenticate(r, "ListObjectsV2"); aerr == nil && !strings.Contains(strings.ToLower(auth), sig) {
			t.Fatalf("accepted %q without the signature %s", auth, sig)
		}
	})
}

func withHeaders(r *http.Request, h http.Header) *http.Request {
	r.Header = h.Clone()
	return r
}
