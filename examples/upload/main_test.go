package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/e2eimage/e2e/e2etest"
	"github.com/e2eimage/e2e/keys"
	"github.com/e2eimage/e2e/luks"
	"github.com/e2eimage/e2e/storage"
)

func settings(cloud *e2etest.Cloud, extra ...string) func(string) string {
	m := map[string]string{
		"IBMCLOUD_API_KEY": cloud.APIKey, "IBMCLOUD_REGION": cloud.Region, "E2E_IAM_URL": cloud.IAMURL,
		"E2E_COS_URL": cloud.COSURL, "COS_INSTANCE_ID": cloud.COSInstanceID, "E2E_ITER_TIME": "10ms",
	}
	for i := 0; i+1 < len(extra); i += 2 {
		m[extra[i]] = extra[i+1]
	}
	return func(k string) string { return m[k] }
}

func startCloud(t *testing.T) *e2etest.Cloud {
	t.Helper()
	cloud, err := e2etest.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cloud.Close() })
	return cloud
}

// A 6 MiB source with a marker becomes an 8 MiB LUKS object in a regional
// bucket, encrypted, with no upload left pending.
func TestRunUploadsEncrypted(t *testing.T) {
	cloud := startCloud(t)
	marker := []byte("PLAINTEXT-MARKER-0123456789abcdef")
	src := bytes.Repeat(marker, 6<<20/len(marker)+1)[:6<<20]
	path := filepath.Join(t.TempDir(), "in.raw")
	if err := os.WriteFile(path, src, 0o600); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := run(context.Background(), &out, settings(cloud, "E2E_SOURCE", path, "E2E_BUCKET", "my-images", "E2E_OBJECT", "dir/disk.luks")); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	t.Log(out.String())
	if bs := cloud.Buckets(); len(bs) != 1 || bs[0].Name != "my-images" || bs[0].Location != cloud.Region+"-standard" {
		t.Errorf("buckets: %+v", bs)
	}
	obj, err := cloud.Object("my-images", "dir/disk.luks")
	if err != nil {
		t.Fatal(err)
	}
	h, err := luks.ReadHeader(bytes.NewReader(obj))
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(obj)) != h.PayloadOffset+int64(len(src)) {
		t.Errorf("object is %d bytes, want header %d + %d", len(obj), h.PayloadOffset, len(src))
	}
	if bytes.Contains(obj, marker) {
		t.Error("the object holds plaintext")
	}
	if ups := cloud.MultipartUploads("my-images"); len(ups) != 0 {
		t.Errorf("pending uploads: %+v", ups)
	}
	if !strings.Contains(out.String(), "stored cos://"+cloud.Region+"/my-images/dir/disk.luks") || !strings.Contains(out.String(), "unlocks with the DEK") {
		t.Errorf("output:\n%s", out.String())
	}
}

func TestRunDefault(t *testing.T) {
	var out bytes.Buffer
	env := func(k string) string {
		if k == "E2E_ITER_TIME" {
			return "10ms"
		}
		return ""
	}
	if err := run(context.Background(), &out, env); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "stored cos://us-south/e2e-example-images/example.luks") {
		t.Errorf("output:\n%s", out.String())
	}
}

// A refused upload fails the run with a clear error and leaves nothing
// behind: no object, no pending multipart upload.
func TestRunUploadFails(t *testing.T) {
	cloud := startCloud(t)
	for _, op := range []string{"PutObject", "CreateMultipartUpload", "UploadPart"} {
		cloud.InjectFault(e2etest.ServiceCOS, op, e2etest.Fault{Status: 403, Code: "AccessDenied", Times: 100})
	}
	err := run(context.Background(), new(bytes.Buffer), settings(cloud, "E2E_BUCKET", "bucket-one"))
	if !errors.Is(err, storage.ErrAccessDenied) {
		t.Fatalf("got %v, want storage.ErrAccessDenied", err)
	}
	var ue *storage.UploadError
	if !errors.As(err, &ue) {
		t.Errorf("not a *storage.UploadError: %T %v", err, err)
	}
	cloud.ClearFaults()
	if objs := cloud.Objects("bucket-one"); len(objs) != 0 {
		t.Errorf("objects left: %+v", objs)
	}
	if ups := cloud.MultipartUploads("bucket-one"); len(ups) != 0 {
		t.Errorf("pending uploads: %+v", ups)
	}
}

func TestRunBadSettings(t *testing.T) {
	cloud := startCloud(t)
	if err := cloud.CreateBucket("far-away", "eu-de-standard"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		env  func(string) string
		want error
	}{
		{"wrong API key", settings(cloud, "IBMCLOUD_API_KEY", "not-a-key"), storage.ErrAccessDenied},
		{"bad bucket name", settings(cloud, "E2E_BUCKET", "Not_A_Bucket"), nil},
		{"bucket in another region", settings(cloud, "E2E_BUCKET", "far-away"), nil},
		{"missing source", settings(cloud, "E2E_SOURCE", filepath.Join(t.TempDir(), "nope")), os.ErrNotExist},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := run(context.Background(), new(bytes.Buffer), tc.env)
			if err == nil || (tc.want != nil && !errors.Is(err, tc.want)) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			t.Log(err)
		})
	}
	var rm *storage.RegionMismatchError
	if err := run(context.Background(), new(bytes.Buffer), settings(cloud, "E2E_BUCKET", "far-away")); !errors.As(err, &rm) {
		t.Errorf("bucket in eu-de: %v", err)
	}
}

// With E2E_WDEK the object is encrypted with the DEK Key Protect wrapped:
// it opens with that DEK's passphrase, which is what the import needs.
func TestRunWithWDEK(t *testing.T) {
	cloud := startCloud(t)
	ctx := context.Background()
	kc, err := keys.NewClient(keys.Config{Endpoint: cloud.KMSURL, InstanceID: cloud.KPInstanceID, APIKey: cloud.APIKey, IAMURL: cloud.IAMURL})
	if err != nil {
		t.Fatal(err)
	}
	root, err := kc.CreateRootKey(ctx, "root")
	if err != nil {
		t.Fatal(err)
	}
	dek, wdek, err := kc.GenerateDEK(ctx, root.ID)
	if err != nil {
		t.Fatal(err)
	}
	defer dek.Destroy()
	env := settings(cloud, "E2E_KMS_URL", cloud.KMSURL, "KP_INSTANCE_ID", cloud.KPInstanceID,
		"E2E_ROOT_KEY_ID", root.ID, "E2E_WDEK", wdek.String())
	var out bytes.Buffer
	if err := run(ctx, &out, env); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	obj, err := cloud.Object("e2e-example-images", "example.luks")
	if err != nil {
		t.Fatal(err)
	}
	pass := dek.LUKSPassphrase()
	defer clear(pass)
	vol, err := luks.Open(bytes.NewReader(obj), pass)
	if err != nil {
		t.Fatalf("the object does not open with the DEK of E2E_WDEK: %v", err)
	}
	vol.Close()

	other, err := kc.CreateRootKey(ctx, "other")
	if err != nil {
		t.Fatal(err)
	}
	env = settings(cloud, "E2E_KMS_URL", cloud.KMSURL, "KP_INSTANCE_ID", cloud.KPInstanceID,
		"E2E_ROOT_KEY_ID", other.ID, "E2E_WDEK", wdek.String())
	if err := run(ctx, new(bytes.Buffer), env); !errors.Is(err, keys.ErrWrongKey) {
		t.Errorf("a WDEK of another root key: %v", err)
	}
}
