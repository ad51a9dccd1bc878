package storage_test

import (
	"bytes"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"testing"

	"github.com/e2eimage/e2e/e2etest"
	"github.com/e2eimage/e2e/storage"
)

func startCloud(t testing.TB, opts ...e2etest.Options) *e2etest.Cloud {
	t.Helper()
	c, err := e2etest.Start(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// hmacClient returns a client with the cloud's HMAC keys.
func hmacClient(t testing.TB, c *e2etest.Cloud) *storage.Client {
	t.Helper()
	return newClient(t, storage.Config{Endpoint: c.COSURL, Region: c.Region, PathStyle: true,
		AccessKeyID: c.HMACAccessKeyID, SecretAccessKey: c.HMACSecretAccessKey})
}

// iamClient returns a client with the account owner's API key.
func iamClient(t testing.TB, c *e2etest.Cloud) *storage.Client {
	t.Helper()
	return newClient(t, storage.Config{Endpoint: c.COSURL, Region: c.Region, PathStyle: true,
		APIKey: c.APIKey, IAMURL: c.IAMURL, ServiceInstanceID: c.COSInstanceID})
}

func newClient(t testing.TB, cfg storage.Config) *storage.Client {
	t.Helper()
	cl, err := storage.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return cl
}

// bucketIn creates a bucket in the emulated cloud.
func bucketIn(t testing.TB, c *e2etest.Cloud, name string) string {
	t.Helper()
	if err := c.CreateBucket(name, ""); err != nil {
		t.Fatal(err)
	}
	return name
}

func randomBytes(t testing.TB, n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// checkResult compares an upload result with the data it should describe.
func checkResult(t testing.TB, res *storage.UploadResult, data []byte) {
	t.Helper()
	sha := sha256.Sum256(data)
	sum := md5.Sum(data)
	if res.Size != int64(len(data)) {
		t.Errorf("Size = %d, want %d", res.Size, len(data))
	}
	if !bytes.Equal(res.SHA256, sha[:]) {
		t.Errorf("SHA256 = %x, want %x", res.SHA256, sha)
	}
	if res.MD5 != nil && !bytes.Equal(res.MD5, sum[:]) {
		t.Errorf("MD5 = %x, want %x", res.MD5, sum)
	}
	if res.ETag == "" {
		t.Error("empty ETag")
	}
}
