package image_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/IBM/go-sdk-core/v5/core"

	"github.com/e2eimage/e2e/disk"
	"github.com/e2eimage/e2e/e2etest"
	"github.com/e2eimage/e2e/iam"
	"github.com/e2eimage/e2e/image"
	"github.com/e2eimage/e2e/keys"
	"github.com/e2eimage/e2e/luks"
)

// vpcFixture is an emulated cloud with a root key, a passphrase DEK wrapped
// under it, a qcow2+LUKS image encrypted with the passphrase in COS, and a
// VPC client.
type vpcFixture struct {
	cloud *e2etest.Cloud
	iam   *iam.Client
	key   *keys.Key
	wdek  keys.WDEK
	pass  []byte
	uri   string
	vpc   *image.VPCClient
}

func newVPCFixture(t *testing.T, opts ...e2etest.Options) *vpcFixture {
	t.Helper()
	cloud, err := e2etest.Start(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cloud.Close() })
	ctx := context.Background()
	ts, err := iam.NewTokenSource(cloud.APIKey, cloud.IAMURL)
	if err != nil {
		t.Fatal(err)
	}
	kc, err := keys.NewClient(keys.Config{Endpoint: cloud.KMSURL, InstanceID: cloud.KPInstanceID, Authenticator: ts})
	if err != nil {
		t.Fatal(err)
	}
	f := &vpcFixture{cloud: cloud}
	if f.key, err = kc.CreateRootKey(ctx, "vpc-root"); err != nil {
		t.Fatal(err)
	}
	dek, err := keys.NewPassphraseDEK(64)
	if err != nil {
		t.Fatal(err)
	}
	defer dek.Destroy()
	if f.wdek, err = kc.WrapDEK(ctx, f.key.ID, dek); err != nil {
		t.Fatal(err)
	}
	if f.pass, err = dek.QCOW2Passphrase(); err != nil {
		t.Fatal(err)
	}
	if err := cloud.CreateBucket("vpc-images", ""); err != nil {
		t.Fatal(err)
	}
	if err := cloud.PutObject("vpc-images", "ubuntu.qcow2", vpcQCOW2(t, f.pass)); err != nil {
		t.Fatal(err)
	}
	f.uri = "cos://" + cloud.Region + "/vpc-images/ubuntu.qcow2"
	if f.iam, err = iam.NewClient(iam.Config{Authenticator: ts, URL: cloud.IAMURL}); err != nil {
		t.Fatal(err)
	}
	f.vpc = newVPC(t, cloud, ts)
	return f
}

func newVPC(t *testing.T, cloud *e2etest.Cloud, auth core.Authenticator) *image.VPCClient {
	t.Helper()
	c, err := image.NewVPCClient(image.VPCConfig{Endpoint: cloud.VPCURL, Region: cloud.Region, Authenticator: auth, RetryWait: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// authorize creates what VPC requires: is/image → COS Reader, and (kms)
// is/image → the Key Protect instance, Reader.
func (f *vpcFixture) authorize(t *testing.T, kms bool) {
	t.Helper()
	as := []iam.Authorization{iam.ImageToCOS(f.cloud.COSInstanceID)}
	if kms {
		as = append(as, iam.Authorization{Source: "is", SourceResourceType: "image", Target: "kms", TargetInstance: f.cloud.KPInstanceID})
	}
	for _, a := range as {
		if _, _, err := f.iam.EnsureAuthorization(context.Background(), a); err != nil {
			t.Fatal(err)
		}
	}
}

func (f *vpcFixture) request(name string) image.VPCImportRequest {
	return image.VPCImportRequest{Name: name, URI: f.uri, OSName: "ubuntu-24-04-amd64", RootKeyCRN: f.key.CRN, WrappedDEK: f.wdek.String()}
}

// vpcQCOW2 is a small qcow2+LUKS image (fast KDF) of a random payload.
func vpcQCOW2(t *testing.T, pass []byte) []byte {
	t.Helper()
	raw := make([]byte, 1<<20)
	_, _ = rand.Read(raw[:128<<10])
	src, err := disk.Open(bytes.NewReader(raw), int64(len(raw)))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var buf bytes.Buffer
	if _, err := disk.WriteQCOW2LUKS(context.Background(), &buf, src, pass, disk.WithLUKSOptions(luks.WithIterations(1000))); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

var vpcFast = []image.WaitOption{image.WithPollInterval(10 * time.Millisecond), image.WithMaxPollInterval(40 * time.Millisecond)}

func TestVPCImportEncrypted(t *testing.T) {
	f := newVPCFixture(t)
	f.authorize(t, true)
	ctx := context.Background()
	im, err := f.vpc.ImportEncrypted(ctx, f.request("encrypted-ubuntu"))
	if err != nil {
		t.Fatal(err)
	}
	if im.Status != image.VPCStatusPending || im.Encryption != "user_managed" || im.EncryptionKeyCRN != f.key.CRN || im.ID == "" {
		t.Fatalf("created %+v; want a pending user_managed image", im)
	}
	var seen []string
	opts := append(slices.Clone(vpcFast), image.WithProgress(func(p image.Progress) { seen = append(seen, p.Status.KeyName) }))
	done, err := f.vpc.Wait(ctx, im.ID, opts...)
	if err != nil {
		t.Fatal(err)
	}
	if !done.Available() || done.MinimumProvisionedSize == 0 || done.OSName != "ubuntu-24-04-amd64" || done.CRN == "" {
		t.Errorf("waited %+v; want available", done)
	}
	if len(seen) < 2 || seen[0] != "pending" || seen[len(seen)-1] != "available" {
		t.Errorf("progress saw %v; want pending … available", seen)
	}
	if !slices.ContainsFunc(f.cloud.Events(), func(ev e2etest.Event) bool {
		return ev.Action == "is.image.image.create" && ev.Outcome == "success" && ev.Target.ID == done.CRN
	}) {
		t.Error("no is.image.image.create success event")
	}
	got, err := f.vpc.Get(ctx, im.ID)
	if err != nil || got.Status != "available" {
		t.Fatalf("Get: %+v %v", got, err)
	}
	if err := f.vpc.Delete(ctx, im.ID); err != nil {
		t.Fatal(err)
	}
	_, err = f.vpc.Get(ctx, im.ID)
	var ae *image.VPCAPIError
	if !errors.Is(err, image.ErrNotFound) || !errors.As(err, &ae) || ae.Code != "image_not_found" || ae.Trace == "" {
		t.Errorf("Get after Delete: %v; want ErrNotFound with VPC's code and trace", err)
	}
	if err := f.vpc.Delete(ctx, im.ID); !errors.Is(err, image.ErrNotFound) {
		t.Errorf("second Delete: %v; want ErrNotFound", err)
	}
}

func TestVPCImportValidation(t *testing.T) {
	f := newVPCFixture(t)
	good := f.request("good")
	cases := []struct {
		name  string
		edit  func(r *image.VPCImportRequest)
		field string
	}{
		{"no-name", func(r *image.VPCImportRequest) { r.Name = "" }, "Name"},
		{"upper-name", func(r *image.VPCImportRequest) { r.Name = "Ubuntu" }, "Name"},
		{"dash-end", func(r *image.VPCImportRequest) { r.Name = "ubuntu-" }, "Name"},
		{"long-name", func(r *image.VPCImportRequest) { r.Name = "a" + strings.Repeat("b", 63) }, "Name"},
		{"no-os", func(r *image.VPCImportRequest) { r.OSName = "" }, "OSName"},
		{"bad-os", func(r *image.VPCImportRequest) { r.OSName = "UBUNTU_22_64" }, "OSName"},
		{"not-cos", func(r *image.VPCImportRequest) { r.URI = "s3://us-south/vpc-images/ubuntu.qcow2" }, "URI"},
		{"vhd", func(r *image.VPCImportRequest) { r.URI = "cos://us-south/vpc-images/ubuntu.vhd" }, "URI"},
		{"no-object", func(r *image.VPCImportRequest) { r.URI = "cos://us-south/vpc-images/" }, "URI"},
		{"no-key", func(r *image.VPCImportRequest) { r.RootKeyCRN = "" }, "RootKeyCRN"},
		{"not-a-key", func(r *image.VPCImportRequest) { r.RootKeyCRN = "crn:v1:bluemix:public:kms:us-south:a/x" }, "RootKeyCRN"},
		{"cos-crn", func(r *image.VPCImportRequest) {
			r.RootKeyCRN = strings.Replace(r.RootKeyCRN, ":kms:", ":cloud-object-storage:", 1)
		}, "RootKeyCRN"},
		{"no-wdek", func(r *image.VPCImportRequest) { r.WrappedDEK = "" }, "WrappedDEK"},
		{"wdek-not-base64", func(r *image.VPCImportRequest) { r.WrappedDEK = "not base64!" }, "WrappedDEK"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := good
			tc.edit(&r)
			_, err := f.vpc.ImportEncrypted(context.Background(), r)
			var ve *image.ValidationError
			if !errors.Is(err, image.ErrInvalidRequest) || !errors.As(err, &ve) || ve.Field != tc.field {
				t.Fatalf("got %v; want a ValidationError on %s", err, tc.field)
			}
		})
	}
	if n := len(f.cloud.VPCImages()); n != 0 {
		t.Errorf("invalid requests reached the API: %d images", n)
	}
}

// TestVPCImportFails: an import the cloud refuses ends in a VPCImportError
// carrying the status reasons.
func TestVPCImportFails(t *testing.T) {
	f := newVPCFixture(t)
	f.authorize(t, false) // no is/image → kms authorization
	ctx := context.Background()
	im, err := f.vpc.ImportEncrypted(ctx, f.request("unauthorized-key"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := f.vpc.Wait(ctx, im.ID, vpcFast...)
	var ie *image.VPCImportError
	if !errors.Is(err, image.ErrImportFailed) || !errors.As(err, &ie) {
		t.Fatalf("Wait: %v; want a VPCImportError", err)
	}
	if ie.ImageID != im.ID || ie.Status != "failed" || len(ie.Reasons) != 1 || ie.Reasons[0].Code != "encryption_key_authorization_missing" {
		t.Errorf("import error %+v", ie)
	}
	if got == nil || !got.Failed() || !strings.Contains(err.Error(), "encryption_key_authorization_missing") {
		t.Errorf("Wait returned %+v, %v", got, err)
	}
}

func TestVPCAuthErrors(t *testing.T) {
	ctx := context.Background()
	expired, err := e2etest.Start(e2etest.Options{TokenLifetime: time.Nanosecond})
	if err != nil {
		t.Fatal(err)
	}
	defer expired.Close()
	c := newVPC(t, expired, &core.BearerTokenAuthenticator{BearerToken: expired.NewToken()})
	_, err = c.Get(ctx, "r006-x")
	var ae *image.VPCAPIError
	if !errors.Is(err, image.ErrUnauthorized) || !errors.As(err, &ae) || ae.Code != "token_expired" || ae.Temporary() {
		t.Errorf("expired token: %v; want ErrUnauthorized token_expired", err)
	}

	f := newVPCFixture(t)
	const badKey = "not-an-api-key-0123456789"
	bad := newVPC(t, f.cloud, &core.IamAuthenticator{ApiKey: badKey, URL: f.cloud.IAMURL})
	_, err = bad.ImportEncrypted(ctx, f.request("bad-key"))
	if !errors.Is(err, image.ErrUnauthorized) || strings.Contains(err.Error(), badKey) {
		t.Errorf("bad API key: %v; want ErrUnauthorized without the key", err)
	}
	if _, err := image.NewVPCClient(image.VPCConfig{}); !errors.Is(err, image.ErrConfig) {
		t.Errorf("no authenticator: %v; want ErrConfig", err)
	}
	if _, err := image.NewVPCClient(image.VPCConfig{Authenticator: &core.NoAuthAuthenticator{}, Region: "Dallas"}); !errors.Is(err, image.ErrConfig) {
		t.Errorf("bad region: %v; want ErrConfig", err)
	}
}

func TestVPCServerErrors(t *testing.T) {
	f := newVPCFixture(t)
	f.authorize(t, true)
	ctx := context.Background()

	// CreateImage is never retried: the 500 comes back and nothing was created.
	f.cloud.InjectFault(e2etest.ServiceVPC, "CreateImage", e2etest.Fault{Status: http.StatusInternalServerError})
	_, err := f.vpc.ImportEncrypted(ctx, f.request("after-500"))
	var ae *image.VPCAPIError
	if !errors.As(err, &ae) || ae.StatusCode != 500 || ae.Operation != "CreateImage" || !ae.Temporary() {
		t.Fatalf("injected 500: %v", err)
	}
	if n := len(f.cloud.VPCImages()); n != 0 {
		t.Fatalf("the create was retried: %d images", n)
	}
	f.cloud.InjectFault(e2etest.ServiceVPC, "CreateImage", e2etest.Fault{Status: http.StatusTooManyRequests})
	if _, err := f.vpc.ImportEncrypted(ctx, f.request("after-429")); !errors.Is(err, image.ErrRateLimited) || !errors.As(err, &ae) || ae.RetryAfter != time.Second {
		t.Fatalf("injected 429: %v; want ErrRateLimited with Retry-After", err)
	}

	im, err := f.vpc.ImportEncrypted(ctx, f.request("retried-reads"))
	if err != nil {
		t.Fatal(err)
	}
	// Get retries 3 times by default: three 503s are absorbed, four are not.
	f.cloud.InjectFault(e2etest.ServiceVPC, "GetImage", e2etest.Fault{Status: http.StatusServiceUnavailable, Times: 3})
	if _, err := f.vpc.Get(ctx, im.ID); err != nil {
		t.Errorf("Get after three 503s: %v", err)
	}
	f.cloud.InjectFault(e2etest.ServiceVPC, "GetImage", e2etest.Fault{Status: http.StatusServiceUnavailable, Times: 4})
	if _, err := f.vpc.Get(ctx, im.ID); !errors.As(err, &ae) || ae.StatusCode != 503 {
		t.Errorf("Get after four 503s: %v; want the 503", err)
	}
	f.cloud.ClearFaults()

	// Wait tolerates fewer temporary failures in a row than WithMaxFailures,
	// and waits the Retry-After (1 s) a 429 asks for rather than its interval.
	f.cloud.InjectFault(e2etest.ServiceVPC, "GetImage", e2etest.Fault{Status: http.StatusTooManyRequests, Times: 2})
	start := time.Now()
	if got, err := f.vpc.Wait(ctx, im.ID, vpcFast...); err != nil || !got.Available() {
		t.Fatalf("Wait through two 429s: %v", err)
	}
	if d := time.Since(start); d < 2*time.Second {
		t.Errorf("Wait through two 429s took %v; want the two Retry-After seconds", d)
	}
	f.cloud.InjectFault(e2etest.ServiceVPC, "GetImage", e2etest.Fault{Status: http.StatusBadGateway, Times: 3})
	_, err = f.vpc.Wait(ctx, im.ID, append(slices.Clone(vpcFast), image.WithMaxFailures(3))...)
	if !errors.As(err, &ae) || ae.StatusCode != 502 || !strings.Contains(err.Error(), "3 polls in a row failed") {
		t.Errorf("Wait through three 502s with MaxFailures 3: %v", err)
	}
	f.cloud.ClearFaults()
	if _, err := f.vpc.Wait(ctx, "r006-absent", vpcFast...); !errors.Is(err, image.ErrNotFound) {
		t.Errorf("Wait for a missing image: %v; want ErrNotFound at once", err)
	}
}

func TestVPCWaitCancel(t *testing.T) {
	f := newVPCFixture(t, e2etest.Options{TimeScale: 1}) // imports take ten minutes
	f.authorize(t, true)
	im, err := f.vpc.ImportEncrypted(context.Background(), f.request("slow"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = f.vpc.Wait(ctx, im.ID, vpcFast...)
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 5*time.Second {
		t.Errorf("Wait: %v after %v; want DeadlineExceeded soon", err, time.Since(start))
	}
	cctx, cancel2 := context.WithCancel(context.Background())
	cancel2()
	if _, err := f.vpc.ImportEncrypted(cctx, f.request("cancelled")); !errors.Is(err, context.Canceled) {
		t.Errorf("ImportEncrypted with a cancelled ctx: %v", err)
	}
	if _, err := f.vpc.Wait(context.Background(), im.ID, image.WithPollInterval(0)); !errors.Is(err, image.ErrInvalidRequest) {
		t.Errorf("WithPollInterval(0): %v; want ErrInvalidRequest", err)
	}
}

// TestVPCLostAnswer: the CreateImage answer is cut after the image was
// created. The client does not retry; List finds the image, and importing
// the same name again is refused rather than imported twice.
func TestVPCLostAnswer(t *testing.T) {
	f := newVPCFixture(t)
	f.authorize(t, true)
	ctx := context.Background()
	f.cloud.InjectFault(e2etest.ServiceVPC, "CreateImage", e2etest.Fault{Drop: true, DropAfter: 16})
	if _, err := f.vpc.ImportEncrypted(ctx, f.request("lost-answer")); !errors.Is(err, image.ErrTransport) && !errors.Is(err, image.ErrUnexpectedResponse) {
		t.Fatalf("cut answer: %v; want a transport error", err)
	}
	found, err := f.vpc.List(ctx, "lost-answer")
	if err != nil || len(found) != 1 || found[0].Name != "lost-answer" {
		t.Fatalf("List after the lost answer: %+v %v", found, err)
	}
	if _, err := f.vpc.ImportEncrypted(ctx, f.request("lost-answer")); !errors.Is(err, image.ErrNameTaken) {
		t.Fatalf("second import of the name: %v; want ErrNameTaken", err)
	}
	if n := len(f.cloud.VPCImages()); n != 1 {
		t.Fatalf("%d images; want one", n)
	}
	if got, err := f.vpc.Wait(ctx, found[0].ID, vpcFast...); err != nil || !got.Available() {
		t.Fatalf("Wait for the found image: %v", err)
	}
}

func TestVPCListPages(t *testing.T) {
	f := newVPCFixture(t, e2etest.Options{TimeScale: 1})
	f.authorize(t, true)
	ctx := context.Background()
	var want []string
	for i := range 103 { // more than one page of 100
		name := "img-" + strings.Repeat("x", i%3) + string(rune('a'+i%26)) + "-" + strconv.Itoa(i)
		want = append(want, name)
		if _, err := f.vpc.ImportEncrypted(ctx, f.request(name)); err != nil {
			t.Fatal(err)
		}
	}
	all, err := f.vpc.List(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, im := range all {
		got = append(got, im.Name)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("List gave %d images; want %d in creation order", len(got), len(want))
	}
	f.cloud.InjectFault(e2etest.ServiceVPC, "ListImages", e2etest.Fault{Status: http.StatusServiceUnavailable})
	if one, err := f.vpc.List(ctx, want[7]); err != nil || len(one) != 1 || one[0].Name != want[7] {
		t.Errorf("List by name through a 503: %+v %v", one, err)
	}
}
