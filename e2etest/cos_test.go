package e2etest_test

import (
	"bytes"
	"crypto/rand"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/IBM/ibm-cos-sdk-go/aws"
	"github.com/IBM/ibm-cos-sdk-go/aws/awserr"
	"github.com/IBM/ibm-cos-sdk-go/aws/credentials"
	"github.com/IBM/ibm-cos-sdk-go/aws/credentials/ibmiam"
	"github.com/IBM/ibm-cos-sdk-go/aws/credentials/ibmiam/token"
	"github.com/IBM/ibm-cos-sdk-go/aws/session"
	v4 "github.com/IBM/ibm-cos-sdk-go/aws/signer/v4"
	"github.com/IBM/ibm-cos-sdk-go/service/s3"

	"github.com/e2eimage/e2e/e2etest"
)

func cosCloud(t *testing.T, opts ...e2etest.Options) *e2etest.Cloud {
	t.Helper()
	c, err := e2etest.Start(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func cosClient(t *testing.T, c *e2etest.Cloud, creds *credentials.Credentials) *s3.S3 {
	t.Helper()
	sess, err := session.NewSession(&aws.Config{
		Endpoint:         aws.String(c.COSURL),
		Region:           aws.String(c.Region),
		S3ForcePathStyle: aws.Bool(true),
		Credentials:      creds,
		MaxRetries:       aws.Int(1),
	})
	if err != nil {
		t.Fatal(err)
	}
	return s3.New(sess)
}

func cosIAMClient(t *testing.T, c *e2etest.Cloud) *s3.S3 {
	return cosClient(t, c, ibmiam.NewStaticCredentials(aws.NewConfig(), c.TokenURL(), c.APIKey, c.COSInstanceID))
}

func cosHMACClient(t *testing.T, c *e2etest.Cloud) *s3.S3 {
	return cosClient(t, c, credentials.NewStaticCredentials(c.HMACAccessKeyID, c.HMACSecretAccessKey, ""))
}

// cosErrCode returns the S3 error code and HTTP status of an SDK error.
func cosErrCode(t *testing.T, err error) (string, int) {
	t.Helper()
	if err == nil {
		t.Fatal("expected an error, got nil")
	}
	var rf awserr.RequestFailure
	if !errors.As(err, &rf) {
		t.Fatalf("error %v (%T) is not an awserr.RequestFailure", err, err)
	}
	return rf.Code(), rf.StatusCode()
}

func cosRandom(t testing.TB, n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

func cosCreateBucket(t *testing.T, cl *s3.S3, name, loc string) error {
	t.Helper()
	_, err := cl.CreateBucket(&s3.CreateBucketInput{
		Bucket:                    aws.String(name),
		CreateBucketConfiguration: &s3.CreateBucketConfiguration{LocationConstraint: aws.String(loc)},
	})
	return err
}

func TestCOSWithIAMAndHMAC(t *testing.T) {
	c := cosCloud(t)
	for _, tc := range []struct {
		name string
		cl   func(*testing.T, *e2etest.Cloud) *s3.S3
	}{{"iam", cosIAMClient}, {"hmac", cosHMACClient}} {
		t.Run(tc.name, func(t *testing.T) {
			cl := tc.cl(t, c)
			bucket := "images-" + tc.name
			if err := cosCreateBucket(t, cl, bucket, "us-south-standard"); err != nil {
				t.Fatalf("CreateBucket: %v", err)
			}
			loc, err := cl.GetBucketLocation(&s3.GetBucketLocationInput{Bucket: aws.String(bucket)})
			if err != nil {
				t.Fatalf("GetBucketLocation: %v", err)
			}
			if got := aws.StringValue(loc.LocationConstraint); got != "us-south-standard" {
				t.Errorf("location = %q, want us-south-standard", got)
			}
			data := cosRandom(t, 100_000)
			if _, err := cl.PutObject(&s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String("dir/a b+c.img"),
				Body: bytes.NewReader(data)}); err != nil {
				t.Fatalf("PutObject: %v", err)
			}
			out, err := cl.GetObject(&s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("dir/a b+c.img"),
				Range: aws.String("bytes=10-19")})
			if err != nil {
				t.Fatalf("GetObject: %v", err)
			}
			got, _ := io.ReadAll(out.Body)
			out.Body.Close()
			if !bytes.Equal(got, data[10:20]) {
				t.Errorf("ranged GET = %x, want %x", got, data[10:20])
			}
			head, err := cl.HeadObject(&s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String("dir/a b+c.img")})
			if err != nil {
				t.Fatalf("HeadObject: %v", err)
			}
			if aws.Int64Value(head.ContentLength) != int64(len(data)) {
				t.Errorf("size = %d, want %d", aws.Int64Value(head.ContentLength), len(data))
			}
			list, err := cl.ListObjectsV2(&s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String("dir/")})
			if err != nil {
				t.Fatalf("ListObjectsV2: %v", err)
			}
			if len(list.Contents) != 1 || aws.StringValue(list.Contents[0].Key) != "dir/a b+c.img" {
				t.Errorf("list = %v", list.Contents)
			}
			objs := c.Objects(bucket)
			if len(objs) != 1 || objs[0].Size != int64(len(data)) {
				t.Errorf("Objects = %+v", objs)
			}
			if _, err := cl.DeleteObject(&s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String("dir/a b+c.img")}); err != nil {
				t.Fatalf("DeleteObject: %v", err)
			}
			if n := len(c.Objects(bucket)); n != 0 {
				t.Errorf("%d objects left after delete", n)
			}
		})
	}
	var creates int
	for _, ev := range c.Events() {
		if ev.Action == "cloud-object-storage.bucket.create" || ev.Action == "cloud-object-storage.object.create" {
			creates++
			if !strings.HasPrefix(ev.Target.ID, "crn:v1:bluemix:public:cloud-object-storage:") {
				t.Errorf("event target %q is not a COS CRN", ev.Target.ID)
			}
		}
	}
	if creates != 4 {
		t.Errorf("%d bucket/object create events, want 4", creates)
	}
}

func TestCOSMultipart(t *testing.T) {
	c := cosCloud(t)
	cl := cosHMACClient(t, c)
	if err := cosCreateBucket(t, cl, "mpu-bucket", "us-south-standard"); err != nil {
		t.Fatal(err)
	}
	ups, err := cl.ListMultipartUploads(&s3.ListMultipartUploadsInput{Bucket: aws.String("mpu-bucket")})
	if err != nil {
		t.Fatalf("ListMultipartUploads on a fresh bucket: %v", err)
	}
	if len(ups.Uploads) != 0 {
		t.Fatalf("fresh bucket lists %d uploads", len(ups.Uploads))
	}

	upload := func(key string, sizes ...int) (string, []*s3.CompletedPart, []byte) {
		cr, err := cl.CreateMultipartUpload(&s3.CreateMultipartUploadInput{Bucket: aws.String("mpu-bucket"), Key: aws.String(key)})
		if err != nil {
			t.Fatalf("CreateMultipartUpload: %v", err)
		}
		var parts []*s3.CompletedPart
		var all []byte
		for i, n := range sizes {
			b := cosRandom(t, n)
			all = append(all, b...)
			up, err := cl.UploadPart(&s3.UploadPartInput{Bucket: aws.String("mpu-bucket"), Key: aws.String(key),
				UploadId: cr.UploadId, PartNumber: aws.Int64(int64(i + 1)), Body: bytes.NewReader(b)})
			if err != nil {
				t.Fatalf("UploadPart %d: %v", i+1, err)
			}
			parts = append(parts, &s3.CompletedPart{ETag: up.ETag, PartNumber: aws.Int64(int64(i + 1))})
		}
		return aws.StringValue(cr.UploadId), parts, all
	}

	t.Run("complete", func(t *testing.T) {
		id, parts, data := upload("big.img", 5<<20, 1000)
		if got := c.MultipartUploads("mpu-bucket"); len(got) != 1 || got[0].Parts != 2 || got[0].Size != 5<<20+1000 {
			t.Fatalf("MultipartUploads = %+v", got)
		}
		lp, err := cl.ListParts(&s3.ListPartsInput{Bucket: aws.String("mpu-bucket"), Key: aws.String("big.img"), UploadId: aws.String(id)})
		if err != nil || len(lp.Parts) != 2 {
			t.Fatalf("ListParts = %v, %v", lp, err)
		}
		done, err := cl.CompleteMultipartUpload(&s3.CompleteMultipartUploadInput{Bucket: aws.String("mpu-bucket"),
			Key: aws.String("big.img"), UploadId: aws.String(id), MultipartUpload: &s3.CompletedMultipartUpload{Parts: parts}})
		if err != nil {
			t.Fatalf("CompleteMultipartUpload: %v", err)
		}
		got, err := c.Object("mpu-bucket", "big.img")
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("object differs from the parts (err %v)", err)
		}
		head, err := cl.HeadObject(&s3.HeadObjectInput{Bucket: aws.String("mpu-bucket"), Key: aws.String("big.img")})
		if err != nil || aws.StringValue(head.ETag) != aws.StringValue(done.ETag) {
			t.Errorf("HEAD ETag %q, complete ETag %q (err %v)", aws.StringValue(head.ETag), aws.StringValue(done.ETag), err)
		}
		if n := len(c.MultipartUploads("mpu-bucket")); n != 0 {
			t.Errorf("%d uploads left after complete", n)
		}
	})

	t.Run("part too small", func(t *testing.T) {
		id, parts, _ := upload("small.img", 1000, 1000)
		_, err := cl.CompleteMultipartUpload(&s3.CompleteMultipartUploadInput{Bucket: aws.String("mpu-bucket"),
			Key: aws.String("small.img"), UploadId: aws.String(id), MultipartUpload: &s3.CompletedMultipartUpload{Parts: parts}})
		if code, status := cosErrCode(t, err); code != "EntityTooSmall" || status != http.StatusBadRequest {
			t.Errorf("got %s %d, want EntityTooSmall 400", code, status)
		}
		ups, err := cl.ListMultipartUploads(&s3.ListMultipartUploadsInput{Bucket: aws.String("mpu-bucket")})
		if err != nil || len(ups.Uploads) != 1 || aws.StringValue(ups.Uploads[0].UploadId) != id {
			t.Fatalf("ListMultipartUploads = %v, %v; want the failed upload", ups, err)
		}
		if _, err := cl.AbortMultipartUpload(&s3.AbortMultipartUploadInput{Bucket: aws.String("mpu-bucket"),
			Key: aws.String("small.img"), UploadId: aws.String(id)}); err != nil {
			t.Fatalf("AbortMultipartUpload: %v", err)
		}
		if n := len(c.MultipartUploads("mpu-bucket")); n != 0 {
			t.Errorf("%d uploads left after abort", n)
		}
		_, err = cl.AbortMultipartUpload(&s3.AbortMultipartUploadInput{Bucket: aws.String("mpu-bucket"),
			Key: aws.String("small.img"), UploadId: aws.String(id)})
		if code, _ := cosErrCode(t, err); code != "NoSuchUpload" {
			t.Errorf("second abort: %s, want NoSuchUpload", code)
		}
	})

	t.Run("wrong etag", func(t *testing.T) {
		id, parts, _ := upload("etag.img", 100)
		parts[0].ETag = aws.String(`"00000000000000000000000000000000"`)
		_, err := cl.CompleteMultipartUpload(&s3.CompleteMultipartUploadInput{Bucket: aws.String("mpu-bucket"),
			Key: aws.String("etag.img"), UploadId: aws.String(id), MultipartUpload: &s3.CompletedMultipartUpload{Parts: parts}})
		if code, _ := cosErrCode(t, err); code != "InvalidPart" {
			t.Errorf("got %s, want InvalidPart", code)
		}
	})
}

func TestCOSAuthFailures(t *testing.T) {
	c := cosCloud(t)
	if err := c.CreateBucket("auth-bucket", ""); err != nil {
		t.Fatal(err)
	}
	if err := c.PutObject("auth-bucket", "k", []byte("hello")); err != nil {
		t.Fatal(err)
	}
	get := func(cl *s3.S3) error {
		_, err := cl.HeadObject(&s3.HeadObjectInput{Bucket: aws.String("auth-bucket"), Key: aws.String("k")})
		return err
	}
	cases := []struct {
		name   string
		creds  *credentials.Credentials
		code   string
		status int
	}{
		{"wrong secret", credentials.NewStaticCredentials(c.HMACAccessKeyID, c.HMACSecretAccessKey+"x", ""), "SignatureDoesNotMatch", 403},
		{"unknown key", credentials.NewStaticCredentials("nope", c.HMACSecretAccessKey, ""), "InvalidAccessKeyId", 403},
		{"anonymous", credentials.AnonymousCredentials, "AccessDenied", 403},
		{"forged token", cosBearer("e30.e30.AAAA"), "InvalidToken", 401},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := cosClient(t, c, tc.creds).GetObject(&s3.GetObjectInput{Bucket: aws.String("auth-bucket"), Key: aws.String("k")})
			if code, status := cosErrCode(t, err); code != tc.code || status != tc.status {
				t.Errorf("got %s %d, want %s %d", code, status, tc.code, tc.status)
			}
		})
	}
	t.Run("unknown API key", func(t *testing.T) {
		cl := cosClient(t, c, ibmiam.NewStaticCredentials(aws.NewConfig(), c.TokenURL(), "not-a-key", c.COSInstanceID))
		if err := get(cl); err == nil {
			t.Fatal("an unknown API key was accepted")
		}
	})
	t.Run("expired token", func(t *testing.T) {
		short := cosCloud(t, e2etest.Options{TokenLifetime: time.Nanosecond})
		if err := short.CreateBucket("auth-bucket", ""); err != nil {
			t.Fatal(err)
		}
		_, err := cosClient(t, short, cosBearer(short.NewToken())).ListObjects(&s3.ListObjectsInput{Bucket: aws.String("auth-bucket")})
		if code, status := cosErrCode(t, err); code != "ExpiredToken" || status != http.StatusUnauthorized {
			t.Errorf("got %s %d, want ExpiredToken 401", code, status)
		}
	})
	t.Run("instance id required to create a bucket", func(t *testing.T) {
		cl := cosClient(t, c, ibmiam.NewStaticCredentials(aws.NewConfig(), c.TokenURL(), c.APIKey, ""))
		if code, _ := cosErrCode(t, cosCreateBucket(t, cl, "noinstance", "us-south-standard")); code != "InvalidArgument" {
			t.Errorf("got %s, want InvalidArgument", code)
		}
	})
}

func TestCOSBucketLocations(t *testing.T) {
	c := cosCloud(t)
	cl := cosIAMClient(t, c)
	for _, loc := range []string{"eu-de-standard", "us-south", "us-south-bogus"} {
		if code, status := cosErrCode(t, cosCreateBucket(t, cl, "wrong-region", loc)); code != "InvalidLocationConstraint" || status != 400 {
			t.Errorf("%s: got %s %d, want InvalidLocationConstraint 400", loc, code, status)
		}
	}
	if err := cosCreateBucket(t, cl, "vault", "us-south-vault"); err != nil {
		t.Fatal(err)
	}
	if code, status := cosErrCode(t, cosCreateBucket(t, cl, "vault", "us-south-standard")); code != "BucketAlreadyExists" || status != 409 {
		t.Errorf("duplicate: got %s %d", code, status)
	}
	if code, _ := cosErrCode(t, cosCreateBucket(t, cl, "Bad_Name", "")); code != "InvalidBucketName" {
		t.Errorf("bad name: got %s", code)
	}
	// A bucket of another region, planted for tests of region checks.
	if err := c.CreateBucket("frankfurt", "eu-de-standard"); err != nil {
		t.Fatal(err)
	}
	loc, err := cl.GetBucketLocation(&s3.GetBucketLocationInput{Bucket: aws.String("frankfurt")})
	if err != nil || aws.StringValue(loc.LocationConstraint) != "eu-de-standard" {
		t.Errorf("GetBucketLocation = %v, %v", loc, err)
	}
	ext, err := cl.ListBucketsExtended(&s3.ListBucketsExtendedInput{})
	if err != nil || len(ext.Buckets) != 2 {
		t.Fatalf("ListBucketsExtended = %v, %v", ext, err)
	}
	for _, b := range ext.Buckets {
		want := map[string]string{"frankfurt": "eu-de-standard", "vault": "us-south-vault"}[aws.StringValue(b.Name)]
		if aws.StringValue(b.LocationConstraint) != want || aws.TimeValue(b.CreationDate).IsZero() {
			t.Errorf("extended listing: %v", b)
		}
	}
	lb, err := cl.ListBuckets(&s3.ListBucketsInput{})
	if err != nil || len(lb.Buckets) != 2 {
		t.Errorf("ListBuckets = %v, %v", lb, err)
	}
	_, err = cl.GetBucketLocation(&s3.GetBucketLocationInput{Bucket: aws.String("missing")})
	if code, status := cosErrCode(t, err); code != "NoSuchBucket" || status != 404 {
		t.Errorf("missing bucket: got %s %d", code, status)
	}
	want := []e2etest.BucketInfo{{"frankfurt", "eu-de-standard"}, {"vault", "us-south-vault"}}
	if got := c.Buckets(); len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("Buckets = %+v, want %+v", got, want)
	}
	if _, err := cl.DeleteBucket(&s3.DeleteBucketInput{Bucket: aws.String("vault")}); err != nil {
		t.Fatal(err)
	}
	if got := c.Buckets(); len(got) != 1 {
		t.Errorf("after delete: %+v", got)
	}
}

func TestCOSFaultsAndConditions(t *testing.T) {
	c := cosCloud(t)
	cl := cosHMACClient(t, c)
	if err := c.CreateBucket("fault-bucket", ""); err != nil {
		t.Fatal(err)
	}
	data := cosRandom(t, 1<<20)
	if err := c.PutObject("fault-bucket", "obj", data); err != nil {
		t.Fatal(err)
	}

	c.InjectFault(e2etest.ServiceCOS, "GetObject", e2etest.Fault{Drop: true, DropAfter: 1000})
	out, err := cl.GetObject(&s3.GetObjectInput{Bucket: aws.String("fault-bucket"), Key: aws.String("obj")})
	if err != nil {
		t.Fatalf("GetObject: %v", err)
	}
	got, err := io.ReadAll(out.Body)
	out.Body.Close()
	if err == nil || len(got) >= len(data) {
		t.Errorf("a dropped body read %d bytes without error", len(got))
	}

	c.InjectFault(e2etest.ServiceCOS, "PutObject", e2etest.Fault{Status: 503, Times: 5})
	_, err = cl.PutObject(&s3.PutObjectInput{Bucket: aws.String("fault-bucket"), Key: aws.String("x"), Body: bytes.NewReader(data[:10])})
	if code, status := cosErrCode(t, err); code != "ServiceUnavailable" || status != 503 {
		t.Errorf("got %s %d, want ServiceUnavailable 503", code, status)
	}
	c.ClearFaults()

	head, err := cl.HeadObject(&s3.HeadObjectInput{Bucket: aws.String("fault-bucket"), Key: aws.String("obj")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cl.GetObject(&s3.GetObjectInput{Bucket: aws.String("fault-bucket"), Key: aws.String("obj"),
		IfMatch: head.ETag, Range: aws.String("bytes=0-9")}); err != nil {
		t.Errorf("GET If-Match current ETag: %v", err)
	}
	_, err = cl.GetObject(&s3.GetObjectInput{Bucket: aws.String("fault-bucket"), Key: aws.String("obj"),
		IfMatch: aws.String(`"0123"`)})
	if code, status := cosErrCode(t, err); code != "PreconditionFailed" || status != 412 {
		t.Errorf("GET If-Match stale ETag: %s %d", code, status)
	}
	_, err = cl.GetObject(&s3.GetObjectInput{Bucket: aws.String("fault-bucket"), Key: aws.String("missing")})
	if code, status := cosErrCode(t, err); code != "NoSuchKey" || status != 404 {
		t.Errorf("missing key: %s %d", code, status)
	}
}

// bearer returns credentials that send a fixed IAM token.
func cosBearer(token string) *credentials.Credentials {
	return credentials.NewCredentials(cosStaticToken(token))
}

type cosStaticToken string

func (s cosStaticToken) Retrieve() (credentials.Value, error) {
	v := credentials.Value{ProviderName: "static-token", ProviderType: "oauth"}
	v.Token = token.Token{TokenType: "Bearer", AccessToken: string(s)}
	return v, nil
}
func (cosStaticToken) IsExpired() bool { return false }

// TestCOSSigV4Tampering signs raw requests with the SDK's SigV4 signer and
// then changes them, as a man in the middle would.
func TestCOSSigV4Tampering(t *testing.T) {
	c := cosCloud(t)
	if err := c.CreateBucket("sig-bucket", ""); err != nil {
		t.Fatal(err)
	}
	signer := v4.NewSigner(credentials.NewStaticCredentials(c.HMACAccessKeyID, c.HMACSecretAccessKey, ""))
	send := func(t *testing.T, path string, body []byte, at time.Time, tamper func(*http.Request)) (int, string) {
		t.Helper()
		req, err := http.NewRequest(http.MethodPut, c.COSURL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := signer.Sign(req, bytes.NewReader(body), "s3", c.Region, at); err != nil {
			t.Fatal(err)
		}
		req.ContentLength = int64(len(body))
		if tamper != nil {
			tamper(req)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		var e struct{ Code string }
		_ = xml.Unmarshal(b, &e)
		return resp.StatusCode, e.Code
	}
	body := []byte("original body")
	if status, code := send(t, "/sig-bucket/ok", body, time.Now(), nil); status != 200 {
		t.Fatalf("untampered request: %d %s", status, code)
	}
	cases := []struct {
		name   string
		at     time.Time
		tamper func(*http.Request)
		status int
		code   string
	}{
		{"body swapped", time.Now(), func(r *http.Request) {
			r.Body = io.NopCloser(bytes.NewReader([]byte("tampered body")))
		}, 400, "XAmzContentSHA256Mismatch"},
		{"path changed", time.Now(), func(r *http.Request) {
			r.URL.Path = "/sig-bucket/other"
		}, 403, "SignatureDoesNotMatch"},
		{"signed header changed", time.Now(), func(r *http.Request) {
			r.Header.Set("X-Amz-Date", time.Now().Add(time.Second).UTC().Format("20060102T150405Z"))
		}, 403, "SignatureDoesNotMatch"},
		{"old request", time.Now().Add(-time.Hour), nil, 403, "RequestTimeTooSkewed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, code := send(t, "/sig-bucket/"+strings.ReplaceAll(tc.name, " ", "-"), body, tc.at, tc.tamper)
			if status != tc.status || code != tc.code {
				t.Errorf("got %d %s, want %d %s", status, code, tc.status, tc.code)
			}
		})
	}
	if objs := c.Objects("sig-bucket"); len(objs) != 1 || objs[0].Key != "ok" {
		t.Errorf("objects %+v, want only the untampered one", objs)
	}
}
