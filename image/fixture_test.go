package image_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"testing"
	"time"

	"github.com/IBM/go-sdk-core/v5/core"
	kp "github.com/IBM/keyprotect-go-client"
	"github.com/IBM/platform-services-go-sdk/iampolicymanagementv1"

	"github.com/e2eimage/e2e/disk"
	"github.com/e2eimage/e2e/e2etest"
	"github.com/e2eimage/e2e/image"
	"github.com/e2eimage/e2e/luks"
)

func init() {
	kp.RetryMax, kp.RetryWaitMax = 1, 20*time.Millisecond
}

const bucket = "images"

// fixture is an emulated cloud with a root key, a DEK wrapped under it, a
// bucket, and an image client — set up with the official clients.
type fixture struct {
	cloud  *e2etest.Cloud
	kp     *kp.Client
	keyID  string
	keyCRN string
	dek    []byte // raw
	dekB64 []byte // base64 text: the LUKS passphrase
	wdek   string
	images *image.Client
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	cloud, err := e2etest.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cloud.Close() })
	ctx := context.Background()
	k, err := kp.New(kp.ClientConfig{BaseURL: cloud.KMSURL, APIKey: cloud.APIKey, TokenURL: cloud.OIDCTokenURL(), InstanceID: cloud.KPInstanceID}, kp.DefaultTransport())
	if err != nil {
		t.Fatal(err)
	}
	key, err := k.CreateRootKey(ctx, "image-root", nil)
	if err != nil {
		t.Fatal(err)
	}
	pt, ct, err := k.WrapCreateDEK(ctx, key.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	dek, err := base64.StdEncoding.DecodeString(string(pt))
	if err != nil {
		t.Fatal(err)
	}
	if err := cloud.CreateBucket(bucket, ""); err != nil {
		t.Fatal(err)
	}
	images, err := image.NewClient(image.Config{Endpoint: cloud.SoftLayerURL, APIKey: cloud.APIKey, RetryWait: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{cloud: cloud, kp: k, keyID: key.ID, keyCRN: key.CRN, dek: dek, dekB64: pt, wdek: string(ct), images: images}
}

// authorize creates the server-protect → kms Reader policy IBM requires.
func (f *fixture) authorize(t *testing.T) {
	t.Helper()
	f.authorizeService(t, "kms", f.cloud.KPInstanceID)
}

// authorizeService lets server-protect read keys of a kms or hs-crypto instance.
func (f *fixture) authorizeService(t *testing.T, service, instance string) {
	t.Helper()
	svc, err := iampolicymanagementv1.NewIamPolicyManagementV1(&iampolicymanagementv1.IamPolicyManagementV1Options{
		URL:           f.cloud.IAMURL,
		Authenticator: &core.IamAuthenticator{ApiKey: f.cloud.APIKey, URL: f.cloud.IAMURL},
	})
	if err != nil {
		t.Fatal(err)
	}
	s := core.StringPtr
	_, _, err = svc.CreatePolicy(svc.NewCreatePolicyOptions("authorization",
		[]iampolicymanagementv1.PolicySubject{{Attributes: []iampolicymanagementv1.SubjectAttribute{
			{Name: s("accountId"), Value: s(f.cloud.AccountID)}, {Name: s("serviceName"), Value: s("server-protect")}}}},
		[]iampolicymanagementv1.PolicyRole{{RoleID: s("crn:v1:bluemix:public:iam::::serviceRole:Reader")}},
		[]iampolicymanagementv1.PolicyResource{{Attributes: []iampolicymanagementv1.ResourceAttribute{
			{Name: s("accountId"), Value: s(f.cloud.AccountID)}, {Name: s("serviceName"), Value: s(service)},
			{Name: s("serviceInstance"), Value: s(instance)}}}}))
	if err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) put(t *testing.T, key string, data []byte) string {
	t.Helper()
	if err := f.cloud.PutObject(bucket, key, data); err != nil {
		t.Fatal(err)
	}
	return "cos://" + f.cloud.Region + "/" + bucket + "/" + key
}

func (f *fixture) request(uri string) image.ImportRequest {
	return image.ImportRequest{
		Name: "encrypted-ubuntu", OSReferenceCode: "UBUNTU_22_64", URI: uri, IBMAPIKey: f.cloud.APIKey,
		RootKeyCRN: f.keyCRN, WrappedDEK: f.wdek, CloudInit: true, BootMode: "HVM",
	}
}

// fast polls the emulator (imports take ~600 ms at the default time scale).
var fast = []image.WaitOption{image.WithPollInterval(20 * time.Millisecond), image.WithMaxPollInterval(50 * time.Millisecond)}

// luksImage is a small LUKS1 image (fast KDF) of a random payload, opened
// by passphrase.
func luksImage(t *testing.T, passphrase []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := luks.NewWriter(&buf, passphrase, luks.WithIterations(1000))
	if err != nil {
		t.Fatal(err)
	}
	payload := make([]byte, 64<<10)
	_, _ = rand.Read(payload)
	if _, err := w.Write(payload); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// encryptedVHD is a small dynamic VHD encrypted the blktap way with key.
func encryptedVHD(t *testing.T, key []byte) []byte {
	t.Helper()
	raw := make([]byte, 4<<20)
	_, _ = rand.Read(raw[:64<<10])
	src, err := disk.Open(bytes.NewReader(raw), int64(len(raw)))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var buf bytes.Buffer
	if _, err := disk.WriteEncryptedVHD(context.Background(), &buf, src, key); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
