package image_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	kp "github.com/IBM/keyprotect-go-client"

	"github.com/e2eimage/e2e/e2etest"
	"github.com/e2eimage/e2e/image"
)

func randomBytes(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// importFails imports req and waits for the ImportError whose message must
// contain want.
func importFails(t *testing.T, f *fixture, req image.ImportRequest, want string) {
	t.Helper()
	ctx := context.Background()
	tmpl, err := f.images.ImportEncrypted(ctx, req)
	if err != nil {
		t.Fatalf("ImportEncrypted: %v", err)
	}
	if tmpl.ID == 0 || tmpl.GlobalIdentifier == "" {
		t.Fatalf("pending template = %+v", tmpl)
	}
	_, err = f.images.Wait(ctx, tmpl.ID, fast...)
	var ie *image.ImportError
	if !errors.As(err, &ie) || !errors.Is(err, image.ErrImportFailed) {
		t.Fatalf("Wait: want an ImportError, got %v", err)
	}
	if ie.TemplateID != tmpl.ID || !strings.Contains(ie.Message, want) {
		t.Fatalf("ImportError = %+v, want template %d and a message containing %q", ie, tmpl.ID, want)
	}
	if strings.Contains(err.Error(), f.cloud.APIKey) {
		t.Fatal("the error leaks the API key")
	}
	var failed bool
	for _, ev := range f.cloud.Events() {
		if ev.Action == "audit-log.vsi-image-template.create" && ev.Outcome == "failure" && strings.HasSuffix(ev.Target.ID, ":"+strconv.Itoa(tmpl.ID)) {
			failed = true
		}
	}
	if !failed {
		t.Fatal("no failed audit-log.vsi-image-template.create event")
	}
}

func TestImportFailures(t *testing.T) {
	t.Run("ObjectMissing", func(t *testing.T) {
		f := newFixture(t)
		f.authorize(t)
		importFails(t, f, f.request("cos://us-south/images/missing.img"), "object")
	})
	t.Run("NoAuthorization", func(t *testing.T) {
		f := newFixture(t)
		uri := f.put(t, "disk.img", randomBytes(t, 4096))
		importFails(t, f, f.request(uri), "authorization")
	})
	t.Run("WDEKUnderAnotherKey", func(t *testing.T) {
		f := newFixture(t)
		f.authorize(t)
		other, err := f.kp.CreateRootKey(context.Background(), "other-root", nil)
		if err != nil {
			t.Fatal(err)
		}
		_, ct, err := f.kp.WrapCreateDEK(context.Background(), other.ID, nil)
		if err != nil {
			t.Fatal(err)
		}
		req := f.request(f.put(t, "disk.img", randomBytes(t, 4096)))
		req.WrappedDEK = string(ct) // wrapped by other, named as f.keyCRN
		importFails(t, f, req, "unwrap")
	})
	t.Run("ImageDoesNotOpen", func(t *testing.T) {
		f := newFixture(t)
		f.authorize(t)
		importFails(t, f, f.request(f.put(t, "disk.img", randomBytes(t, 8192))), "does not open")
	})
	t.Run("WrongPassphrase", func(t *testing.T) {
		f := newFixture(t)
		f.authorize(t)
		other := []byte(base64.StdEncoding.EncodeToString(randomBytes(t, 32)))
		importFails(t, f, f.request(f.put(t, "disk.img", luksImage(t, other))), "wrong passphrase")
	})
	t.Run("BadCOSKey", func(t *testing.T) {
		f := newFixture(t)
		f.authorize(t)
		req := f.request(f.put(t, "disk.img", randomBytes(t, 4096)))
		req.IBMAPIKey = "not-a-key"
		importFails(t, f, req, "cos-credentials")
	})
}

func TestImportValidation(t *testing.T) {
	f := newFixture(t)
	good := f.request("cos://us-south/images/disk.img")
	cases := []struct {
		field string
		edit  func(r *image.ImportRequest)
	}{
		{"Name", func(r *image.ImportRequest) { r.Name = "" }},
		{"Name", func(r *image.ImportRequest) { r.Name = strings.Repeat("n", 101) }},
		{"OSReferenceCode", func(r *image.ImportRequest) { r.OSReferenceCode = "" }},
		{"OSReferenceCode", func(r *image.ImportRequest) { r.OSReferenceCode = "ubuntu 22" }},
		{"URI", func(r *image.ImportRequest) { r.URI = "s3://us-south/images/disk.img" }},
		{"URI", func(r *image.ImportRequest) { r.URI = "cos://us-south/images" }},
		{"URI", func(r *image.ImportRequest) { r.URI = "cos://us-south/Bad_Bucket/disk.img" }},
		{"URI", func(r *image.ImportRequest) { r.URI = "cos://us-south/images/disks/" }}, // a folder
		// A cross-region bucket is a valid URI, but an encrypted import needs
		// the bucket in the key's region: the key is what is refused.
		{"RootKeyCRN", func(r *image.ImportRequest) { r.URI = "cos://us/images/disk.img" }},
		{"URI", func(r *image.ImportRequest) { r.Format = image.EncryptedVHD }},
		{"IBMAPIKey", func(r *image.ImportRequest) { r.IBMAPIKey = "" }},
		{"IBMAPIKey", func(r *image.ImportRequest) { r.HMACAccessKeyID, r.HMACSecretAccessKey = "a", "b" }},
		{"HMACSecretAccessKey", func(r *image.ImportRequest) { r.IBMAPIKey, r.HMACAccessKeyID = "", "a" }},
		{"RootKeyCRN", func(r *image.ImportRequest) { r.RootKeyCRN = "" }},
		{"RootKeyCRN", func(r *image.ImportRequest) { r.RootKeyCRN = "crn:v1:bluemix:public:kms:us-south:a/x" }},
		{"RootKeyCRN", func(r *image.ImportRequest) { r.RootKeyCRN = strings.Replace(r.RootKeyCRN, ":kms:", ":cos:", 1) }},
		{"RootKeyCRN", func(r *image.ImportRequest) { r.RootKeyCRN = strings.Replace(r.RootKeyCRN, ":us-south:", ":eu-de:", 1) }},
		{"WrappedDEK", func(r *image.ImportRequest) { r.WrappedDEK = "" }},
		{"WrappedDEK", func(r *image.ImportRequest) { r.WrappedDEK = "%%%not base64" }},
		{"BootMode", func(r *image.ImportRequest) { r.BootMode = "UEFI" }},
		{"Size", func(r *image.ImportRequest) { r.Size = image.MaxImageSize + 1 }},
		{"Format", func(r *image.ImportRequest) { r.Format = "qcow2" }},
	}
	for _, tc := range cases {
		req := good
		tc.edit(&req)
		_, err := f.images.ImportEncrypted(context.Background(), req)
		var ve *image.ValidationError
		if !errors.As(err, &ve) || !errors.Is(err, image.ErrInvalidRequest) || ve.Field != tc.field {
			t.Errorf("%s: got %v, want a ValidationError on %s", tc.field, err, tc.field)
		}
		if err != nil && strings.Contains(err.Error(), f.cloud.APIKey) {
			t.Errorf("%s: the error leaks the API key", tc.field)
		}
	}
	if _, err := f.images.Import(context.Background(), good); !errors.Is(err, image.ErrInvalidRequest) {
		t.Errorf("Import with a root key: got %v, want ErrInvalidRequest", err)
	}
	plain := image.ImportRequest{Name: "p", OSReferenceCode: "DEBIAN_12_64", URI: "cos://us-south/images/disk.img", IBMAPIKey: "k"}
	var ve *image.ValidationError
	if _, err := f.images.Import(context.Background(), plain); !errors.As(err, &ve) || ve.Field != "URI" {
		t.Errorf("Import of a .img object: got %v, want a ValidationError on URI", err)
	}
	if n := len(f.cloud.Templates()); n != 0 {
		t.Fatalf("invalid requests reached the API: %d templates", n)
	}
}

// TestUnencryptedImportExportDelete imports a plain image, lists it by
// name, exports it and deletes it.
func TestUnencryptedImportExportDelete(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	uri := f.put(t, "plain.vhd", randomBytes(t, 4096))
	var seen []image.Progress
	tmpl, err := f.images.Import(ctx, image.ImportRequest{Name: "plain", OSReferenceCode: "DEBIAN_12_64", URI: uri,
		HMACAccessKeyID: f.cloud.HMACAccessKeyID, HMACSecretAccessKey: f.cloud.HMACSecretAccessKey})
	if err != nil {
		t.Fatal(err)
	}
	done, err := f.images.Wait(ctx, tmpl.ID, append(fast, image.WithProgress(func(p image.Progress) { seen = append(seen, p) }))...)
	if err != nil {
		t.Fatal(err)
	}
	if !done.Active() || done.GlobalIdentifier != tmpl.GlobalIdentifier || len(done.Datacenters) != 1 || done.Datacenters[0] != "dal10" {
		t.Fatalf("template = %+v", done)
	}
	if len(seen) < 2 || seen[0].Transaction == "" || seen[len(seen)-1].Status.KeyName != image.StatusActive {
		t.Fatalf("progress = %+v", seen)
	}
	list, err := f.images.List(ctx, "plain")
	if err != nil || len(list) != 1 || list[0].ID != tmpl.ID {
		t.Fatalf("List = %+v, %v", list, err)
	}
	if list, err := f.images.List(ctx, "nothing-by-this-name"); err != nil || len(list) != 0 {
		t.Fatalf("List(nothing) = %+v, %v", list, err)
	}
	if err := f.images.Export(ctx, tmpl.ID, image.ExportRequest{URI: "cos://us-south/images/export.vhd", IBMAPIKey: f.cloud.APIKey}); err != nil {
		t.Fatal(err)
	}
	if got, err := f.images.Get(ctx, tmpl.ID); err != nil || got.Transaction == "" {
		t.Fatalf("after Export: %+v, %v; want a running transaction", got, err)
	}
	if _, err := f.images.Wait(ctx, tmpl.ID, fast...); err != nil {
		t.Fatal(err)
	}
	src, _ := f.cloud.Object(bucket, "plain.vhd")
	if exported, err := f.cloud.Object(bucket, "export.vhd"); err != nil || !bytes.Equal(exported, src) {
		t.Fatalf("exported object: %d bytes, %v; want the %d source bytes", len(exported), err, len(src))
	}
	if err := f.images.Export(ctx, tmpl.ID, image.ExportRequest{URI: "cos://us-south/no-such-bucket/x.vhd", IBMAPIKey: f.cloud.APIKey}); err == nil {
		t.Fatal("export to a missing bucket accepted")
	}
	if err := f.images.Delete(ctx, tmpl.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.images.Get(ctx, tmpl.ID); !errors.Is(err, image.ErrNotFound) {
		t.Fatalf("Get after Delete: %v, want ErrNotFound", err)
	}
	if err := f.images.Delete(ctx, tmpl.ID); !errors.Is(err, image.ErrNotFound) {
		t.Fatalf("second Delete: %v, want ErrNotFound", err)
	}
}

func TestWaitSurvivesTransportErrorsAndRateLimits(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	tmpl, err := f.images.Import(ctx, image.ImportRequest{Name: "plain", OSReferenceCode: "DEBIAN_12_64",
		URI: f.put(t, "plain.vhd", randomBytes(t, 4096)), IBMAPIKey: f.cloud.APIKey})
	if err != nil {
		t.Fatal(err)
	}
	op := "SoftLayer_Virtual_Guest_Block_Device_Template_Group::getObject"
	f.cloud.InjectFault(e2etest.ServiceSoftLayer, op, e2etest.Fault{Drop: true, Times: 2})
	f.cloud.InjectFault(e2etest.ServiceSoftLayer, op, e2etest.Fault{Drop: true, DropAfter: 10})
	f.cloud.InjectFault(e2etest.ServiceSoftLayer, op, e2etest.Fault{Status: http.StatusTooManyRequests, Times: 3})
	if _, err := f.images.Wait(ctx, tmpl.ID, fast...); err != nil {
		t.Fatalf("Wait through faults: %v", err)
	}

	// Without retries and with a low failure budget the faults surface, typed.
	strict, err := image.NewClient(image.Config{Endpoint: f.cloud.SoftLayerURL, APIKey: f.cloud.APIKey, Retries: 1, RetryWait: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	f.cloud.InjectFault(e2etest.ServiceSoftLayer, op, e2etest.Fault{Status: http.StatusTooManyRequests, Times: 10})
	_, err = strict.Wait(ctx, tmpl.ID, append(fast, image.WithMaxFailures(2))...)
	var ae *image.APIError
	if !errors.Is(err, image.ErrRateLimited) || !errors.As(err, &ae) || ae.Exception != "SoftLayer_Exception_WebService_RateLimitExceeded" {
		t.Fatalf("Wait under rate limiting: %v", err)
	}
	f.cloud.ClearFaults()
}

func TestImportIsNotRetried(t *testing.T) {
	f := newFixture(t)
	f.cloud.InjectFault(e2etest.ServiceSoftLayer, "SoftLayer_Virtual_Guest_Block_Device_Template_Group::createFromIcos",
		e2etest.Fault{Status: http.StatusTooManyRequests})
	_, err := f.images.Import(context.Background(), image.ImportRequest{Name: "plain", OSReferenceCode: "DEBIAN_12_64",
		URI: f.put(t, "plain.vhd", randomBytes(t, 4096)), IBMAPIKey: f.cloud.APIKey})
	if !errors.Is(err, image.ErrRateLimited) {
		t.Fatalf("got %v, want ErrRateLimited", err)
	}
	if n := len(f.cloud.Templates()); n != 0 {
		t.Fatalf("%d templates after a refused import", n)
	}
}

func TestWaitCancelStopsWaitingNotImport(t *testing.T) {
	f := newFixture(t)
	tmpl, err := f.images.Import(context.Background(), image.ImportRequest{Name: "plain", OSReferenceCode: "DEBIAN_12_64",
		URI: f.put(t, "plain.vhd", randomBytes(t, 4096)), IBMAPIKey: f.cloud.APIKey})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	if _, err := f.images.Wait(ctx, tmpl.ID, image.WithPollInterval(time.Second)); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Wait: %v, want DeadlineExceeded", err)
	}
	if _, err := f.images.Wait(context.Background(), tmpl.ID, fast...); err != nil {
		t.Fatalf("the import did not go on: %v", err)
	}
}

func TestAuthentication(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	for name, cfg := range map[string]image.Config{
		"classic": {Username: f.cloud.Username, ClassicAPIKey: f.cloud.APIKey},
		"token":   {Token: func(context.Context) (string, error) { return f.cloud.NewToken(), nil }},
	} {
		cfg.Endpoint = f.cloud.SoftLayerURL
		c, err := image.NewClient(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.List(ctx, ""); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	// A refused token is fetched again once; the call then goes through.
	calls := 0
	refreshing, err := image.NewClient(image.Config{Endpoint: f.cloud.SoftLayerURL, Token: func(context.Context) (string, error) {
		calls++
		if calls == 1 {
			return "Bearer a.b.c", nil
		}
		return f.cloud.NewToken(), nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := refreshing.List(ctx, ""); err != nil || calls != 2 {
		t.Errorf("token refresh: %v after %d token calls", err, calls)
	}
	failing, err := image.NewClient(image.Config{Endpoint: f.cloud.SoftLayerURL, Token: func(context.Context) (string, error) {
		return "", errors.New("iam down")
	}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := failing.List(ctx, ""); !errors.Is(err, image.ErrUnauthorized) || !strings.Contains(err.Error(), "iam down") {
		t.Errorf("failing token source: %v", err)
	}
	bad := map[string]image.Config{
		"wrong key":      {APIKey: "wrong"},
		"wrong username": {Username: "someone", ClassicAPIKey: f.cloud.APIKey},
		"bad token":      {Token: func(context.Context) (string, error) { return "Bearer a.b.c", nil }},
	}
	for name, cfg := range bad {
		cfg.Endpoint = f.cloud.SoftLayerURL
		c, err := image.NewClient(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.List(ctx, ""); !errors.Is(err, image.ErrUnauthorized) {
			t.Errorf("%s: got %v, want ErrUnauthorized", name, err)
		}
	}
	for name, cfg := range map[string]image.Config{
		"none":     {},
		"two":      {APIKey: "a", Username: "u", ClassicAPIKey: "k"},
		"half":     {Username: "u"},
		"endpoint": {APIKey: "a", Endpoint: "ftp://x"},
		"xmlrpc":   {APIKey: "a", Endpoint: "https://api.softlayer.com/xmlrpc/v3.1"},
	} {
		if _, err := image.NewClient(cfg); !errors.Is(err, image.ErrConfig) {
			t.Errorf("%s: got %v, want ErrConfig", name, err)
		}
	}
}

// TestErrorIn200 checks the answer of createFromIcos even on HTTP 200, as
// IBM has been seen to answer an exception with it.
func TestErrorIn200(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"error":"The image could not be imported.","code":"SoftLayer_Exception_Public"}`))
	}))
	defer srv.Close()
	c, err := image.NewClient(image.Config{Endpoint: srv.URL + "/rest/v3.1", APIKey: "k"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Import(context.Background(), image.ImportRequest{Name: "x", OSReferenceCode: "UBUNTU_22_64", URI: "cos://us-south/images/x.vhd", IBMAPIKey: "k"})
	var ae *image.APIError
	if !errors.As(err, &ae) || ae.Exception != "SoftLayer_Exception_Public" || !strings.Contains(ae.Message, "could not be imported") {
		t.Fatalf("got %v, want the exception in the 200 body", err)
	}
}

// TestImportEncrypted is the happy path: a LUKS image whose passphrase is
// the base64 text of a Key Protect DEK, with the server-protect → kms
// authorization, becomes an active template; the audit trail records it.
func TestImportEncrypted(t *testing.T) {
	f := newFixture(t)
	f.authorize(t)
	ctx := context.Background()
	req := f.request(f.put(t, "ubuntu.vhd", luksImage(t, f.dekB64)))
	req.Note = "LUKS, passphrase from Key Protect"
	tmpl, err := f.images.ImportEncrypted(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	done, err := f.images.Wait(ctx, tmpl.ID, fast...)
	if err != nil {
		t.Fatal(err)
	}
	if !done.Active() || done.Name != req.Name || done.Note != req.Note || done.GlobalIdentifier != tmpl.GlobalIdentifier {
		t.Fatalf("template = %+v", done)
	}
	got := f.cloud.Templates()
	if len(got) != 1 || !got[0].Encrypted || got[0].Format != "LUKS" || got[0].RootKeyCRN != f.keyCRN || got[0].Status != "ACTIVE" {
		t.Fatalf("cloud templates = %+v", got)
	}
	ok := false
	for _, ev := range f.cloud.Events() {
		ok = ok || (ev.Action == "audit-log.vsi-image-template.create" && ev.Outcome == "success" && ev.Target.ID == got[0].CRN)
	}
	if !ok {
		t.Fatal("no successful audit-log.vsi-image-template.create event")
	}
}

func TestSecretsNotPrinted(t *testing.T) {
	cfg := image.Config{APIKey: "sekrit-api-key", Username: "u", ClassicAPIKey: "sekrit-classic"}
	req := image.ImportRequest{Name: "n", IBMAPIKey: "sekrit-api-key", HMACSecretAccessKey: "sekrit-hmac"}
	exp := image.ExportRequest{URI: "cos://us-south/b/o", IBMAPIKey: "sekrit-api-key"}
	for _, format := range []string{"%v", "%+v", "%#v", "%s"} {
		for _, v := range []any{cfg, &cfg, req, &req, exp} {
			if s := fmt.Sprintf(format, v); strings.Contains(s, "sekrit") {
				t.Errorf("%s prints a secret: %s", format, s)
			}
		}
	}
}

// TestImportEncryptedVHD: a blktap encrypted VHD whose XTS key is the raw
// DEK imports; one encrypted under another key fails with IBM's message.
func TestImportEncryptedVHD(t *testing.T) {
	f := newFixture(t)
	f.authorize(t)
	ctx := context.Background()
	req := f.request(f.put(t, "ubuntu.vhd-0.vhd", encryptedVHD(t, f.dek)))
	req.Format = image.EncryptedVHD
	tmpl, err := f.images.ImportEncrypted(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.images.Wait(ctx, tmpl.ID, fast...); err != nil {
		t.Fatal(err)
	}
	if got := f.cloud.Templates(); len(got) != 1 || got[0].Format != "EncryptedVHD" {
		t.Fatalf("cloud templates = %+v", got)
	}
	req = f.request(f.put(t, "other.vhd-0.vhd", encryptedVHD(t, randomBytes(t, 32))))
	req.Format = image.EncryptedVHD
	importFails(t, f, req, "wrong key")
}

func FuzzParseCOSURI(f *testing.F) {
	for _, s := range []string{"cos://us-south/images/ubuntu.vhd-0.vhd", "cos://eu-de/b.c-d/dir/obj", "cos://us-south/images", "s3://x/y/z", "cos://US/b/o",
		"cos://us/images/x.vhd", "cos://ams03/images/x.vhd", "cos://us-south/images/dir/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, err := image.ParseCOSURI(s)
		if err != nil {
			if !errors.Is(err, image.ErrInvalidRequest) {
				t.Fatalf("%q: untyped error %v", s, err)
			}
			return
		}
		if u.String() != s {
			t.Fatalf("%q parsed as %+v, which prints %q", s, u, u.String())
		}
		if strings.HasSuffix(u.Object, "/") {
			t.Fatalf("%q: accepted a folder %q as an image object", s, u.Object)
		}
	})
}

// TestImportWithHPCSKey: a root key in Hyper Protect Crypto Services needs
// the server-protect → hs-crypto authorization, not the kms one.
func TestImportWithHPCSKey(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	hpcs, err := kp.New(kp.ClientConfig{BaseURL: f.cloud.KMSURL, APIKey: f.cloud.APIKey, TokenURL: f.cloud.OIDCTokenURL(), InstanceID: f.cloud.HPCSInstanceID}, kp.DefaultTransport())
	if err != nil {
		t.Fatal(err)
	}
	key, err := hpcs.CreateRootKey(ctx, "hpcs-root", nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(key.CRN, ":hs-crypto:") {
		t.Fatalf("HPCS key CRN %s", key.CRN)
	}
	pt, ct, err := hpcs.WrapCreateDEK(ctx, key.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	req := f.request(f.put(t, "disk.img", luksImage(t, pt)))
	req.RootKeyCRN, req.WrappedDEK = key.CRN, string(ct)
	f.authorize(t) // kms only: not enough
	importFails(t, f, req, "hs-crypto")
	f.authorizeService(t, "hs-crypto", f.cloud.HPCSInstanceID)
	tmpl, err := f.images.ImportEncrypted(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.images.Wait(ctx, tmpl.ID, fast...); err != nil {
		t.Fatal(err)
	}
}

// A deletion that went through but whose answer was a 5xx: the retry found
// the template gone and Delete reported ErrNotFound.
func TestDeleteAnswerLost(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	tmpl, err := f.images.Import(ctx, image.ImportRequest{Name: "doomed", OSReferenceCode: "DEBIAN_12_64",
		URI: f.put(t, "doomed.vhd", randomBytes(t, 4096)), IBMAPIKey: f.cloud.APIKey})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.images.Wait(ctx, tmpl.ID, fast...); err != nil {
		t.Fatal(err)
	}
	f.cloud.InjectFault(e2etest.ServiceSoftLayer, "SoftLayer_Virtual_Guest_Block_Device_Template_Group::deleteObject",
		e2etest.Fault{Status: http.StatusInternalServerError, AfterHandling: true})
	if err := f.images.Delete(ctx, tmpl.ID); err != nil {
		t.Fatalf("Delete whose answer was lost: %v", err)
	}
	if err := f.images.Delete(ctx, tmpl.ID); !errors.Is(err, image.ErrNotFound) {
		t.Fatalf("second Delete: %v, want ErrNotFound", err)
	}
}
