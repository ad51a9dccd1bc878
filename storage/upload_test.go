package storage_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"testing"
	"testing/iotest"

	"github.com/IBM/go-sdk-core/v5/core"

	"github.com/e2eimage/e2e/e2etest"
	"github.com/e2eimage/e2e/storage"
)

func TestUploadRoundTrip(t *testing.T) {
	c := startCloud(t)
	bucket := bucketIn(t, c, "roundtrip")
	data := randomBytes(t, 3*storage.MinPartSize+7)
	clients := map[string]*storage.Client{"hmac": hmacClient(t, c), "iam": iamClient(t, c)}
	sizes := []int{0, 1, storage.MinPartSize - 1, storage.MinPartSize, storage.MinPartSize + 1, 3*storage.MinPartSize + 7}
	readers := map[string]func(io.Reader) io.Reader{
		"plain": func(r io.Reader) io.Reader { return r },
		"half":  iotest.HalfReader,
	}
	for cname, cl := range clients {
		for _, size := range sizes {
			for rname, wrap := range readers {
				for _, conc := range []int{1, 3} {
					if (rname == "plain") != (conc == 1) || cname == "iam" && conc != 1 {
						continue // keep the matrix small: readers, concurrency and credentials do not interact
					}
					name := fmt.Sprintf("%s/size=%d/%s/conc=%d", cname, size, rname, conc)
					t.Run(name, func(t *testing.T) {
						key := "img/" + name
						var mu sync.Mutex
						var last storage.Progress
						calls := 0
						res, err := cl.Upload(context.Background(), bucket, key, wrap(bytes.NewReader(data[:size])),
							storage.WithPartSize(storage.MinPartSize), storage.WithConcurrency(conc), storage.WithMD5(),
							storage.WithProgress(func(p storage.Progress) {
								mu.Lock()
								defer mu.Unlock()
								if p.Bytes < last.Bytes {
									t.Errorf("progress went back from %d to %d", last.Bytes, p.Bytes)
								}
								last, calls = p, calls+1
							}))
						if err != nil {
							t.Fatal(err)
						}
						checkResult(t, res, data[:size])
						if res.MD5 == nil {
							t.Error("no MD5 with WithMD5")
						}
						wantParts := max(1, (size+storage.MinPartSize-1)/storage.MinPartSize)
						if res.Parts != wantParts || calls != wantParts {
							t.Errorf("Parts = %d, progress calls = %d, want %d", res.Parts, calls, wantParts)
						}
						if last.Bytes != int64(size) {
							t.Errorf("final progress %d bytes, want %d", last.Bytes, size)
						}
						if res.URI.String() != "cos://us-south/roundtrip/"+key {
							t.Errorf("URI = %s", res.URI)
						}
						got, err := c.Object(bucket, key)
						if err != nil || !bytes.Equal(got, data[:size]) {
							t.Fatalf("stored object differs (len %d, want %d, err %v)", len(got), size, err)
						}
					})
				}
			}
		}
	}
	if n := len(c.MultipartUploads(bucket)); n != 0 {
		t.Errorf("%d multipart uploads left", n)
	}
}

// failAfter returns data[:n] then err.
func failAfter(data []byte, n int, err error) io.Reader {
	return io.MultiReader(bytes.NewReader(data[:n]), iotest.ErrReader(err))
}

// cancelAfter cancels ctx once n bytes were read.
type cancelAfter struct {
	r      io.Reader
	n      int
	cancel context.CancelFunc
}

func (c *cancelAfter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n -= n
	if c.n <= 0 {
		c.cancel()
	}
	return n, err
}

func TestUploadAbortsOnFailure(t *testing.T) {
	c := startCloud(t)
	bucket := bucketIn(t, c, "failures")
	cl := hmacClient(t, c)
	data := randomBytes(t, 4*storage.MinPartSize)
	boom := errors.New("encoder exploded")
	opts := []storage.UploadOption{storage.WithPartSize(storage.MinPartSize), storage.WithConcurrency(2)}

	cases := []struct {
		name  string
		setup func() (context.Context, io.Reader)
		is    error
	}{
		{"reader error mid-way", func() (context.Context, io.Reader) {
			return context.Background(), failAfter(data, 2*storage.MinPartSize+100, boom)
		}, boom},
		{"reader error in the first part", func() (context.Context, io.Reader) {
			return context.Background(), failAfter(data, 100, boom)
		}, boom},
		{"context cancelled mid-way", func() (context.Context, io.Reader) {
			ctx, cancel := context.WithCancel(context.Background())
			return ctx, &cancelAfter{r: bytes.NewReader(data), n: 2*storage.MinPartSize + 1, cancel: cancel}
		}, context.Canceled},
		{"part refused", func() (context.Context, io.Reader) {
			c.InjectFault(e2etest.ServiceCOS, "UploadPart", e2etest.Fault{Status: 500, Times: 100})
			return context.Background(), bytes.NewReader(data)
		}, nil},
		{"complete refused", func() (context.Context, io.Reader) {
			c.InjectFault(e2etest.ServiceCOS, "CompleteMultipartUpload", e2etest.Fault{Status: 400, Code: "InvalidPart", Times: 1})
			return context.Background(), bytes.NewReader(data)
		}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			defer c.ClearFaults()
			ctx, r := tc.setup()
			key := "obj-" + tc.name
			res, err := cl.Upload(ctx, bucket, key, r, opts...)
			if err == nil {
				t.Fatalf("upload succeeded: %+v", res)
			}
			var ue *storage.UploadError
			if !errors.As(err, &ue) {
				t.Fatalf("error %v is not an *UploadError", err)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("error %v does not wrap %v", err, tc.is)
			}
			if ue.UploadID != "" && !ue.Aborted {
				t.Errorf("upload %s not aborted: %v", ue.UploadID, ue.AbortErr)
			}
			if ups := c.MultipartUploads(bucket); len(ups) != 0 {
				t.Errorf("orphan uploads left: %+v", ups)
			}
			if _, err := c.Object(bucket, key); err == nil {
				t.Error("a failed upload left an object")
			}
			t.Log(err)
		})
	}
	t.Run("part refused is a RequestError", func(t *testing.T) {
		defer c.ClearFaults()
		c.InjectFault(e2etest.ServiceCOS, "UploadPart", e2etest.Fault{Status: 503, Times: 100})
		noRetry := newClient(t, storage.Config{Endpoint: c.COSURL, Region: c.Region, PathStyle: true, MaxRetries: -1,
			AccessKeyID: c.HMACAccessKeyID, SecretAccessKey: c.HMACSecretAccessKey})
		_, err := noRetry.Upload(context.Background(), bucket, "x", bytes.NewReader(data), opts...)
		var re *storage.RequestError
		if !errors.As(err, &re) || re.Op != "UploadPart" || re.StatusCode != 503 {
			t.Errorf("error %v: want a RequestError of UploadPart with status 503", err)
		}
	})
	t.Run("transient fault is retried", func(t *testing.T) {
		defer c.ClearFaults()
		c.InjectFault(e2etest.ServiceCOS, "UploadPart", e2etest.Fault{Status: 503, Times: 1})
		res, err := cl.Upload(context.Background(), bucket, "retried", bytes.NewReader(data), opts...)
		if err != nil {
			t.Fatal(err)
		}
		checkResult(t, res, data)
	})
	t.Run("already cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := cl.Upload(ctx, bucket, "never", bytes.NewReader(data), opts...)
		if !errors.Is(err, context.Canceled) {
			t.Errorf("got %v, want context.Canceled", err)
		}
	})
}

func TestUploadBadInput(t *testing.T) {
	c := startCloud(t)
	bucket := bucketIn(t, c, "badinput")
	cl := hmacClient(t, c)
	ctx := context.Background()
	small := bytes.NewReader([]byte("x"))

	_, err := cl.Upload(ctx, "missing-bucket", "k", small)
	if !errors.Is(err, storage.ErrNoSuchBucket) {
		t.Errorf("missing bucket: %v", err)
	}
	big := bytes.NewReader(randomBytes(t, storage.MinPartSize+1))
	_, err = cl.Upload(ctx, "missing-bucket", "k", big, storage.WithPartSize(storage.MinPartSize))
	if !errors.Is(err, storage.ErrNoSuchBucket) {
		t.Errorf("missing bucket, multipart: %v", err)
	}
	for _, opt := range []storage.UploadOption{
		storage.WithPartSize(storage.MinPartSize - 1),
		storage.WithPartSize(storage.MaxPartSize + 1),
		storage.WithConcurrency(0),
		storage.WithConcurrency(65),
		storage.WithSizeHint(-1),
	} {
		if _, err := cl.Upload(ctx, bucket, "k", small, opt); !errors.Is(err, storage.ErrInvalidOption) {
			t.Errorf("bad option: got %v, want ErrInvalidOption", err)
		}
	}
	_, err = cl.Upload(ctx, bucket, "k", small, storage.WithPartSize(storage.MinPartSize), storage.WithSizeHint(100e9))
	if !errors.Is(err, storage.ErrTooManyParts) {
		t.Errorf("100 GB in 5 MiB parts: got %v, want ErrTooManyParts", err)
	}
	for _, key := range []string{"", "bad\x00key", string([]byte{0xff})} {
		if _, err := cl.Upload(ctx, bucket, key, small); !errors.Is(err, storage.ErrInvalidURI) {
			t.Errorf("key %q: got %v, want ErrInvalidURI", key, err)
		}
	}
	if _, err := cl.Upload(ctx, "Bad_Bucket", "k", small); !errors.Is(err, storage.ErrInvalidURI) {
		t.Errorf("bad bucket: got %v, want ErrInvalidURI", err)
	}
}

func TestUploadDefaultPartSizeFits100GB(t *testing.T) {
	if storage.DefaultPartSize*storage.MaxParts < 100e9 || storage.DefaultPartSize < storage.MinPartSize {
		t.Fatalf("DefaultPartSize %d does not fit 100 GB in %d parts", storage.DefaultPartSize, storage.MaxParts)
	}
	// A size hint beyond what the default fits grows the parts: 1 TB in 10,000 parts.
	c := startCloud(t)
	bucket := bucketIn(t, c, "hint")
	res, err := hmacClient(t, c).Upload(context.Background(), bucket, "k", bytes.NewReader([]byte("tiny")), storage.WithSizeHint(1e12))
	if err != nil {
		t.Fatal(err)
	}
	checkResult(t, res, []byte("tiny"))
	if res.MD5 != nil {
		t.Error("MD5 computed without WithMD5")
	}
}

func TestUploadWrongCredentials(t *testing.T) {
	c := startCloud(t, e2etest.Options{})
	bucket := bucketIn(t, c, "creds")
	ctx := context.Background()
	expiring := startCloud(t, e2etest.Options{TokenLifetime: 1}) // tokens expire at once
	bucketIn(t, expiring, "creds")

	cases := map[string]storage.Config{
		"wrong HMAC secret": {Endpoint: c.COSURL, Region: c.Region, PathStyle: true,
			AccessKeyID: c.HMACAccessKeyID, SecretAccessKey: "not-the-secret"},
		"unknown HMAC key": {Endpoint: c.COSURL, Region: c.Region, PathStyle: true,
			AccessKeyID: "nobody", SecretAccessKey: c.HMACSecretAccessKey},
		"unknown API key": {Endpoint: c.COSURL, Region: c.Region, PathStyle: true,
			APIKey: "not-a-key", IAMURL: c.IAMURL, ServiceInstanceID: c.COSInstanceID},
		"expired token": {Endpoint: expiring.COSURL, Region: c.Region, PathStyle: true,
			Authenticator: &core.BearerTokenAuthenticator{BearerToken: expiring.NewToken()}},
	}
	for name, cfg := range cases {
		t.Run(name, func(t *testing.T) {
			cl := newClient(t, cfg)
			_, err := cl.Upload(ctx, bucket, "k", bytes.NewReader([]byte("secret image")))
			if !errors.Is(err, storage.ErrAccessDenied) {
				t.Fatalf("got %v, want ErrAccessDenied", err)
			}
			for _, secret := range []string{c.HMACSecretAccessKey, "not-the-secret", "not-a-key", c.APIKey} {
				if bytes.Contains([]byte(err.Error()), []byte(secret)) {
					t.Errorf("error reveals a credential: %v", err)
				}
			}
		})
	}
}
