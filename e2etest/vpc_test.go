package e2etest_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/IBM/go-sdk-core/v5/core"
	"github.com/IBM/vpc-go-sdk/vpcv1"

	"github.com/e2eimage/e2e/disk"
	"github.com/e2eimage/e2e/e2etest"
	"github.com/e2eimage/e2e/iam"
	"github.com/e2eimage/e2e/keys"
	"github.com/e2eimage/e2e/luks"
)

const vpcBucket = "vpc-images"

// vpcEnv is an emulated cloud with a root key, a passphrase DEK wrapped
// under it, a qcow2+LUKS image encrypted with that passphrase in COS, and
// the official vpcv1 client.
type vpcEnv struct {
	cloud  *e2etest.Cloud
	keys   *keys.Client
	iam    *iam.Client
	key    *keys.Key
	wdek   string
	image  []byte
	uri    string
	vpc    *vpcv1.VpcV1
	passwd []byte
}

func newVPCEnv(t *testing.T, opts ...e2etest.Options) *vpcEnv {
	t.Helper()
	cloud, err := e2etest.Start(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cloud.Close() })
	ctx := context.Background()
	e := &vpcEnv{cloud: cloud}
	e.keys, err = keys.NewClient(keys.Config{Endpoint: cloud.KMSURL, InstanceID: cloud.KPInstanceID, APIKey: cloud.APIKey, IAMURL: cloud.IAMURL})
	if err != nil {
		t.Fatal(err)
	}
	if e.key, err = e.keys.CreateRootKey(ctx, "vpc-root"); err != nil {
		t.Fatal(err)
	}
	dek, err := keys.NewPassphraseDEK(64)
	if err != nil {
		t.Fatal(err)
	}
	defer dek.Destroy()
	w, err := e.keys.WrapDEK(ctx, e.key.ID, dek)
	if err != nil {
		t.Fatal(err)
	}
	e.wdek = w.String()
	if e.passwd, err = dek.QCOW2Passphrase(); err != nil {
		t.Fatal(err)
	}
	e.image = qcow2LUKS(t, e.passwd)
	if err := cloud.CreateBucket(vpcBucket, ""); err != nil {
		t.Fatal(err)
	}
	e.uri = e.put(t, "ubuntu.qcow2", e.image)
	e.iam, err = iam.NewClient(iam.Config{APIKey: cloud.APIKey, IAMURL: cloud.IAMURL})
	if err != nil {
		t.Fatal(err)
	}
	e.vpc = vpcClient(t, cloud, &core.IamAuthenticator{ApiKey: cloud.APIKey, URL: cloud.IAMURL})
	return e
}

func vpcClient(t *testing.T, cloud *e2etest.Cloud, auth core.Authenticator) *vpcv1.VpcV1 {
	t.Helper()
	v, err := vpcv1.NewVpcV1(&vpcv1.VpcV1Options{URL: cloud.VPCURL, Authenticator: auth})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func (e *vpcEnv) put(t *testing.T, key string, data []byte) string {
	t.Helper()
	if err := e.cloud.PutObject(vpcBucket, key, data); err != nil {
		t.Fatal(err)
	}
	return "cos://" + e.cloud.Region + "/" + vpcBucket + "/" + key
}

// authorize creates the policies VPC needs: is/image → COS and → KMS, Reader.
func (e *vpcEnv) authorize(t *testing.T, cos, kms bool) {
	t.Helper()
	var as []iam.Authorization
	if cos {
		as = append(as, iam.ImageToCOS(e.cloud.COSInstanceID))
	}
	if kms {
		as = append(as, iam.Authorization{Source: "is", SourceResourceType: "image", Target: "kms", TargetInstance: e.cloud.KPInstanceID})
	}
	for _, a := range as {
		if _, _, err := e.iam.EnsureAuthorization(context.Background(), a); err != nil {
			t.Fatal(err)
		}
	}
}

// qcow2LUKS is a small qcow2+LUKS image (fast KDF) of a random payload.
func qcow2LUKS(t *testing.T, passphrase []byte) []byte {
	t.Helper()
	raw := make([]byte, 1<<20)
	_, _ = rand.Read(raw[:128<<10])
	src, err := disk.Open(bytes.NewReader(raw), int64(len(raw)))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var buf bytes.Buffer
	if _, err := disk.WriteQCOW2LUKS(context.Background(), &buf, src, passphrase, disk.WithLUKSOptions(luks.WithIterations(1000))); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func (e *vpcEnv) prototype(name, uri string) *vpcv1.ImagePrototypeImageByFile {
	return &vpcv1.ImagePrototypeImageByFile{
		Name:             core.StringPtr(name),
		File:             &vpcv1.ImageFilePrototype{Href: core.StringPtr(uri)},
		OperatingSystem:  &vpcv1.OperatingSystemIdentityByName{Name: core.StringPtr("ubuntu-24-04-amd64")},
		EncryptedDataKey: core.StringPtr(e.wdek),
		EncryptionKey:    &vpcv1.EncryptionKeyIdentityByCRN{CRN: core.StringPtr(e.key.CRN)},
	}
}

func (e *vpcEnv) create(t *testing.T, p *vpcv1.ImagePrototypeImageByFile) *vpcv1.Image {
	t.Helper()
	im, resp, err := e.vpc.CreateImage(e.vpc.NewCreateImageOptions(p))
	if err != nil {
		t.Fatalf("CreateImage: %v", err)
	}
	if resp.StatusCode != http.StatusCreated || *im.Status != vpcv1.ImageStatusPendingConst {
		t.Fatalf("CreateImage answered %d with status %s; want 201 pending", resp.StatusCode, *im.Status)
	}
	return im
}

// settle polls an image until it leaves pending.
func (e *vpcEnv) settle(t *testing.T, id string) *vpcv1.Image {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		im, _, err := e.vpc.GetImage(e.vpc.NewGetImageOptions(id))
		if err != nil {
			t.Fatalf("GetImage: %v", err)
		}
		if *im.Status != vpcv1.ImageStatusPendingConst {
			return im
		}
		if time.Now().After(deadline) {
			t.Fatal("the import is still pending after 10 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestVPCImportEncrypted(t *testing.T) {
	e := newVPCEnv(t)
	e.authorize(t, true, true)
	created := e.create(t, e.prototype("encrypted-ubuntu", e.uri))
	if *created.Encryption != vpcv1.ImageEncryptionUserManagedConst || *created.EncryptionKey.CRN != e.key.CRN {
		t.Errorf("encryption %s key %v; want user_managed with the root key", *created.Encryption, created.EncryptionKey)
	}
	im := e.settle(t, *created.ID)
	if *im.Status != vpcv1.ImageStatusAvailableConst || len(im.StatusReasons) != 0 {
		t.Fatalf("status %s %v; want available", *im.Status, reasons(im))
	}
	if len(im.Zones) != 3 || im.MinimumProvisionedSize == nil || *im.OperatingSystem.Name != "ubuntu-24-04-amd64" || *im.CRN == "" {
		t.Errorf("available image lacks zones, size, OS or CRN: %+v", im)
	}

	list, _, err := e.vpc.ListImages(&vpcv1.ListImagesOptions{Name: core.StringPtr("encrypted-ubuntu")})
	if err != nil {
		t.Fatal(err)
	}
	if *list.TotalCount != 1 || *list.Images[0].ID != *im.ID {
		t.Errorf("ListImages by name: %d images", *list.TotalCount)
	}
	got := e.cloud.VPCImages()
	if len(got) != 1 || got[0].Status != "available" || got[0].Encryption != "user_managed" || got[0].FileHref != e.uri {
		t.Errorf("VPCImages: %+v", got)
	}

	evs := e.cloud.Events()
	create := slices.IndexFunc(evs, func(ev e2etest.Event) bool { return ev.Action == "is.image.image.create" })
	if create < 0 || evs[create].Outcome != "success" || evs[create].Target.ID != *im.CRN {
		t.Errorf("no successful is.image.image.create event for %s", *im.CRN)
	}
	if !slices.ContainsFunc(evs, func(ev e2etest.Event) bool {
		return ev.Action == "kms.secrets.unwrap" && ev.Outcome == "success" && ev.Target.ID == e.key.CRN
	}) {
		t.Error("the import's unwrap of the WDEK is not in the audit trail")
	}
	for _, ev := range evs {
		if strings.Contains(ev.Message, string(e.passwd)) {
			t.Fatalf("event %s carries the passphrase", ev.Action)
		}
	}

	resp, err := e.vpc.DeleteImage(e.vpc.NewDeleteImageOptions(*im.ID))
	if err != nil || resp.StatusCode != http.StatusAccepted {
		t.Fatalf("DeleteImage: %v", err)
	}
	_, resp, err = e.vpc.GetImage(e.vpc.NewGetImageOptions(*im.ID))
	if err == nil || resp == nil || resp.StatusCode != http.StatusNotFound || vpcCode(resp) != "image_not_found" {
		t.Fatalf("GetImage after delete: %v; want 404 image_not_found", err)
	}
}

func reasons(im *vpcv1.Image) []string {
	var out []string
	for _, r := range im.StatusReasons {
		out = append(out, *r.Code+": "+*r.Message)
	}
	return out
}

// vpcCode is the first error code of a VPC error envelope.
func vpcCode(resp *core.DetailedResponse) string {
	m, _ := resp.Result.(map[string]any)
	errs, _ := m["errors"].([]any)
	if len(errs) == 0 {
		return ""
	}
	first, _ := errs[0].(map[string]any)
	code, _ := first["code"].(string)
	return code
}

// TestVPCImportChecks: each check IBM makes fails the import with its reason.
func TestVPCImportChecks(t *testing.T) {
	e := newVPCEnv(t, e2etest.Options{TimeScale: 0.0001}) // imports take 60 ms
	other, err := keys.NewPassphraseDEK(64)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Destroy()
	otherWDEK, err := e.keys.WrapDEK(context.Background(), e.key.ID, other)
	if err != nil {
		t.Fatal(err)
	}
	plain := func(t *testing.T) []byte {
		raw := make([]byte, 1<<20)
		src, err := disk.Open(bytes.NewReader(raw), int64(len(raw)))
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if _, err := disk.Convert(context.Background(), &buf, src, disk.QCOW2); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	cases := []struct {
		name     string
		cos, kms bool
		edit     func(t *testing.T, p *vpcv1.ImagePrototypeImageByFile)
		before   func(t *testing.T)
		code     string
	}{
		{name: "no-cos-authorization", kms: true, code: "image_file_authorization_missing"},
		{name: "no-kms-authorization", cos: true, code: "encryption_key_authorization_missing"},
		{name: "object-missing", cos: true, kms: true, code: "image_file_not_found",
			edit: func(t *testing.T, p *vpcv1.ImagePrototypeImageByFile) {
				p.File.Href = core.StringPtr("cos://us-south/" + vpcBucket + "/absent.qcow2")
			}},
		{name: "key-suspended", cos: true, kms: true, code: "encryption_key_not_usable",
			before: func(t *testing.T) {
				if err := e.cloud.SetKeyState(e.key.ID, e2etest.KeySuspended); err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { _ = e.cloud.SetKeyState(e.key.ID, e2etest.KeyActive) })
			}},
		{name: "wdek-garbage", cos: true, kms: true, code: "encrypted_data_key_invalid",
			edit: func(t *testing.T, p *vpcv1.ImagePrototypeImageByFile) {
				p.EncryptedDataKey = core.StringPtr("bm90IGEgd2RlawJ1c3QgZ2FyYmFnZQ==")
			}},
		{name: "wrong-passphrase", cos: true, kms: true, code: "image_data_corrupted",
			edit: func(t *testing.T, p *vpcv1.ImagePrototypeImageByFile) {
				p.EncryptedDataKey = core.StringPtr(otherWDEK.String())
			}},
		{name: "truncated-object", cos: true, kms: true, code: "image_data_corrupted",
			edit: func(t *testing.T, p *vpcv1.ImagePrototypeImageByFile) {
				p.File.Href = core.StringPtr(e.put(t, "truncated.qcow2", e.image[:4096]))
			}},
		{name: "not-encrypted", cos: true, kms: true, code: "image_data_corrupted",
			edit: func(t *testing.T, p *vpcv1.ImagePrototypeImageByFile) {
				p.File.Href = core.StringPtr(e.put(t, "plain.qcow2", plain(t)))
			}},
		{name: "empty-object", cos: true, kms: true, code: "image_data_corrupted",
			edit: func(t *testing.T, p *vpcv1.ImagePrototypeImageByFile) {
				p.File.Href = core.StringPtr(e.put(t, "empty.qcow2", nil))
			}},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, p := range e.cloud.Policies() {
				if err := e.iam.DeletePolicy(context.Background(), p.ID); err != nil {
					t.Fatal(err)
				}
			}
			e.authorize(t, tc.cos, tc.kms)
			if tc.before != nil {
				tc.before(t)
			}
			p := e.prototype("check-"+string(rune('a'+i)), e.uri)
			if tc.edit != nil {
				tc.edit(t, p)
			}
			im := e.settle(t, *e.create(t, p).ID)
			if *im.Status != vpcv1.ImageStatusFailedConst || len(im.StatusReasons) != 1 || *im.StatusReasons[0].Code != tc.code {
				t.Fatalf("status %s %v; want failed with %s", *im.Status, reasons(im), tc.code)
			}
			if strings.Contains(*im.StatusReasons[0].Message, string(e.passwd)) {
				t.Fatal("the status reason carries the passphrase")
			}
			evs := e.cloud.Events()
			if !slices.ContainsFunc(evs, func(ev e2etest.Event) bool {
				return ev.Action == "is.image.image.create" && ev.Outcome == "failure" && ev.Target.ID == *im.CRN
			}) {
				t.Error("no failed is.image.image.create event")
			}
		})
	}
}

// TestVPCCreateRefused: requests the VPC API refuses at once, in its envelope.
func TestVPCCreateRefused(t *testing.T) {
	e := newVPCEnv(t)
	e.authorize(t, true, true)
	e.create(t, e.prototype("taken", e.uri))
	cases := []struct {
		name   string
		edit   func(p *vpcv1.ImagePrototypeImageByFile)
		status int
		code   string
	}{
		{"bad-name", func(p *vpcv1.ImagePrototypeImageByFile) { p.Name = core.StringPtr("Not_Valid") }, 400, "validation_invalid_name"},
		{"duplicate-name", func(p *vpcv1.ImagePrototypeImageByFile) { p.Name = core.StringPtr("taken") }, 409, "image_name_duplicate"},
		{"not-cos", func(p *vpcv1.ImagePrototypeImageByFile) { p.File.Href = core.StringPtr("https://example.com/x.qcow2") }, 400, "validation_invalid_file_href"},
		{"encrypted-vhd", func(p *vpcv1.ImagePrototypeImageByFile) {
			p.File.Href = core.StringPtr("cos://us-south/" + vpcBucket + "/x.vhd")
		}, 400, "validation_invalid_file_format"},
		{"key-without-wdek", func(p *vpcv1.ImagePrototypeImageByFile) { p.EncryptedDataKey = nil }, 400, "validation_encryption_fields"},
		{"bad-key-crn", func(p *vpcv1.ImagePrototypeImageByFile) {
			p.EncryptionKey = &vpcv1.EncryptionKeyIdentityByCRN{CRN: core.StringPtr("crn:v1:bluemix:public:kms:us-south:a/x:y")}
		}, 400, "validation_invalid_encryption_key"},
		{"unknown-os", func(p *vpcv1.ImagePrototypeImageByFile) {
			p.OperatingSystem = &vpcv1.OperatingSystemIdentityByName{Name: core.StringPtr("Windows")}
		}, 400, "validation_invalid_operating_system"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := e.prototype("refused-"+tc.name, e.uri)
			tc.edit(p)
			_, resp, err := e.vpc.CreateImage(e.vpc.NewCreateImageOptions(p))
			if err == nil || resp == nil || resp.StatusCode != tc.status || vpcCode(resp) != tc.code {
				t.Fatalf("CreateImage: %v; want %d %s", err, tc.status, tc.code)
			}
		})
	}
	if n := len(e.cloud.VPCImages()); n != 1 {
		t.Errorf("%d images after refused creates; want the one", n)
	}
	failures := 0
	for _, ev := range e.cloud.Events() {
		if ev.Action == "is.image.image.create" && ev.Outcome == "failure" {
			failures++
		}
	}
	if failures != len(cases) {
		t.Errorf("%d failed create events; want %d", failures, len(cases))
	}

	// Every call must carry the version query parameter, as vpcv1 does.
	req, _ := http.NewRequest(http.MethodGet, e.cloud.VPCURL+"/images", nil)
	req.Header.Set("Authorization", "Bearer "+e.cloud.NewToken())
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "missing_version") || !strings.Contains(string(body), `"trace"`) {
		t.Errorf("no version: %d %s", res.StatusCode, body)
	}
}

func TestVPCAuthAndFaults(t *testing.T) {
	e := newVPCEnv(t)
	e.authorize(t, true, true)

	expired, err := e2etest.Start(e2etest.Options{TokenLifetime: time.Nanosecond})
	if err != nil {
		t.Fatal(err)
	}
	defer expired.Close()
	v := vpcClient(t, expired, &core.BearerTokenAuthenticator{BearerToken: expired.NewToken()})
	_, resp, err := v.ListImages(&vpcv1.ListImagesOptions{})
	if err == nil || resp.StatusCode != http.StatusUnauthorized || vpcCode(resp) != "token_expired" {
		t.Errorf("expired token: %v; want 401 token_expired", err)
	}
	v = vpcClient(t, e.cloud, &core.BearerTokenAuthenticator{BearerToken: "not.a.token"})
	if _, resp, err = v.ListImages(&vpcv1.ListImagesOptions{}); err == nil || resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("forged token: %v; want 401", err)
	}

	e.cloud.InjectFault(e2etest.ServiceVPC, "CreateImage", e2etest.Fault{Status: http.StatusInternalServerError})
	_, resp, err = e.vpc.CreateImage(e.vpc.NewCreateImageOptions(e.prototype("faulty", e.uri)))
	if err == nil || resp.StatusCode != http.StatusInternalServerError || !strings.Contains(err.Error(), "injected fault") {
		t.Errorf("injected 500: %v", err)
	}
	if n := len(e.cloud.VPCImages()); n != 0 {
		t.Errorf("a failed create left %d images", n)
	}
	e.cloud.InjectFault(e2etest.ServiceVPC, "GetImage", e2etest.Fault{Status: http.StatusTooManyRequests})
	_, resp, err = e.vpc.GetImage(e.vpc.NewGetImageOptions("r006-none"))
	if err == nil || resp.StatusCode != http.StatusTooManyRequests || resp.Headers.Get("Retry-After") == "" {
		t.Errorf("injected 429: %v", err)
	}
	// net/http retries an idempotent request once on a reused connection.
	e.cloud.InjectFault(e2etest.ServiceVPC, "ListImages", e2etest.Fault{Drop: true, Times: 2})
	if _, _, err = e.vpc.ListImages(&vpcv1.ListImagesOptions{}); err == nil {
		t.Error("a dropped connection succeeded")
	}
	e.cloud.ClearFaults()
	im := e.settle(t, *e.create(t, e.prototype("after-faults", e.uri)).ID)
	if *im.Status != vpcv1.ImageStatusAvailableConst {
		t.Errorf("after the faults: %s %v", *im.Status, reasons(im))
	}
}

func TestVPCListPages(t *testing.T) {
	e := newVPCEnv(t)
	e.authorize(t, true, true)
	for _, n := range []string{"a", "b", "c"} {
		e.create(t, e.prototype("page-"+n, e.uri))
	}
	var names []string
	opts := &vpcv1.ListImagesOptions{Limit: core.Int64Ptr(2)}
	pager, err := e.vpc.NewImagesPager(opts)
	if err != nil {
		t.Fatal(err)
	}
	all, err := pager.GetAll()
	if err != nil {
		t.Fatal(err)
	}
	for _, im := range all {
		names = append(names, *im.Name)
	}
	if !slices.Equal(names, []string{"page-a", "page-b", "page-c"}) {
		t.Errorf("pages gave %v", names)
	}
	_, resp, err := e.vpc.ListImages(&vpcv1.ListImagesOptions{Limit: core.Int64Ptr(1000)})
	if err == nil || resp.StatusCode != http.StatusBadRequest {
		t.Errorf("limit 1000: %v; want 400", err)
	}
}
