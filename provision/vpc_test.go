package provision_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
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
	"github.com/e2eimage/e2e/provision"
)

// vpcFixture is an emulated cloud holding an available encrypted VPC
// custom image, and a VPCClient to create instances from it.
type vpcFixture struct {
	cloud   *e2etest.Cloud
	keys    *keys.Client
	iam     *iam.Client
	images  *image.VPCClient
	vpc     *provision.VPCClient
	key     *keys.Key
	wdek    string
	imageID string
	net     e2etest.VPCNetwork
}

// newVPCFixture imports an encrypted image; with serverProtect it also
// authorizes Cloud Block Storage to use the key, as an encrypted boot
// volume needs.
func newVPCFixture(t *testing.T, serverProtect bool, cfg ...provision.VPCConfig) *vpcFixture {
	t.Helper()
	cloud, err := e2etest.Start(e2etest.Options{TimeScale: 0.0005}) // import 300 ms, instance 50 ms
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cloud.Close() })
	ctx := context.Background()
	f := &vpcFixture{cloud: cloud, net: cloud.VPCNetwork()}
	if f.keys, err = keys.NewClient(keys.Config{Endpoint: cloud.KMSURL, InstanceID: cloud.KPInstanceID, APIKey: cloud.APIKey, IAMURL: cloud.IAMURL}); err != nil {
		t.Fatal(err)
	}
	if f.key, err = f.keys.CreateRootKey(ctx, "vpc-root"); err != nil {
		t.Fatal(err)
	}
	dek, err := keys.NewPassphraseDEK(64)
	if err != nil {
		t.Fatal(err)
	}
	defer dek.Destroy()
	w, err := f.keys.WrapDEK(ctx, f.key.ID, dek)
	if err != nil {
		t.Fatal(err)
	}
	f.wdek = w.String()
	pass, err := dek.QCOW2Passphrase()
	if err != nil {
		t.Fatal(err)
	}
	if err := cloud.CreateBucket("vpc-images", ""); err != nil {
		t.Fatal(err)
	}
	if err := cloud.PutObject("vpc-images", "ubuntu.qcow2", qcow2LUKS(t, pass)); err != nil {
		t.Fatal(err)
	}
	if f.iam, err = iam.NewClient(iam.Config{APIKey: cloud.APIKey, IAMURL: cloud.IAMURL}); err != nil {
		t.Fatal(err)
	}
	as := []iam.Authorization{iam.ImageToCOS(cloud.COSInstanceID),
		{Source: "is", SourceResourceType: "image", Target: "kms", TargetInstance: cloud.KPInstanceID}}
	if serverProtect {
		as = append(as, iam.ServerProtectToKMS(cloud.KPInstanceID, false))
	}
	for _, a := range as {
		if _, _, err := f.iam.EnsureAuthorization(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	auth := &core.IamAuthenticator{ApiKey: cloud.APIKey, URL: cloud.IAMURL}
	if f.images, err = image.NewVPCClient(image.VPCConfig{Endpoint: cloud.VPCURL, Authenticator: auth}); err != nil {
		t.Fatal(err)
	}
	im, err := f.images.ImportEncrypted(ctx, image.VPCImportRequest{Name: "ubuntu-enc", URI: "cos://" + cloud.Region + "/vpc-images/ubuntu.qcow2",
		OSName: "ubuntu-24-04-amd64", RootKeyCRN: f.key.CRN, WrappedDEK: f.wdek})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.images.Wait(ctx, im.ID, image.WithPollInterval(20*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	f.imageID = im.ID
	c := provision.VPCConfig{RetryWait: time.Millisecond, FindTimeout: 300 * time.Millisecond}
	if len(cfg) > 0 {
		c = cfg[0]
	}
	c.Endpoint, c.Authenticator = cloud.VPCURL, auth
	if f.vpc, err = provision.NewVPCClient(c); err != nil {
		t.Fatal(err)
	}
	return f
}

func qcow2LUKS(t *testing.T, passphrase []byte) []byte {
	t.Helper()
	raw := make([]byte, 1<<20)
	_, _ = rand.Read(raw[:64<<10])
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

func (f *vpcFixture) vpcAuth() *core.IamAuthenticator {
	return &core.IamAuthenticator{ApiKey: f.cloud.APIKey, URL: f.cloud.IAMURL}
}

func (f *vpcFixture) request(name string) provision.VPCInstanceRequest {
	zone := f.cloud.Region + "-1"
	return provision.VPCInstanceRequest{Name: name, ImageID: f.imageID, Profile: "bx2-2x8", Zone: zone,
		SubnetID: f.net.Subnets[zone], VPCID: f.net.VPCID, KeyIDs: []string{"r006-key-1"}, UserData: "#cloud-config\n"}
}

func TestVPCInstanceRunning(t *testing.T) {
	f := newVPCFixture(t, true)
	ctx := context.Background()
	in, err := f.vpc.CreateInstance(ctx, f.request("web-1"))
	if err != nil {
		t.Fatal(err)
	}
	if in.Status != "pending" || in.ImageID != f.imageID || in.Zone != f.cloud.Region+"-1" || in.VPCID != f.net.VPCID {
		t.Fatalf("created %+v", in)
	}
	var seen []string
	run, err := f.vpc.WaitRunning(ctx, in.ID, append(fast, provision.WithProgress(func(p provision.Progress) {
		if len(seen) == 0 || seen[len(seen)-1] != p.PowerState {
			seen = append(seen, p.PowerState)
		}
	}))...)
	if err != nil {
		t.Fatal(err)
	}
	if !run.Running() || run.PrimaryIP == "" || run.BootVolumeID == "" || run.VCPUs != 2 || run.MemoryGB != 8 || run.Profile != "bx2-2x8" {
		t.Fatalf("running instance %+v", run)
	}
	if seen[len(seen)-1] != "running" {
		t.Fatalf("progress saw %v", seen)
	}
	got := f.cloud.VPCInstances()
	if len(got) != 1 || got[0].BootVolumeEncryptionKeyCRN != f.key.CRN || got[0].UserData != "#cloud-config\n" || len(got[0].KeyIDs) != 1 {
		t.Fatalf("the cloud holds %+v; want one instance whose boot volume uses the image's key", got)
	}

	// A rerun finds the instance instead of creating another.
	again, err := f.vpc.CreateInstance(ctx, f.request("web-1"))
	if err != nil || again.ID != in.ID {
		t.Fatalf("rerun: %+v, %v; want instance %s", again, err, in.ID)
	}
	if n := countEvents(f.cloud, "is.instance.instance.create"); n != 1 || len(f.cloud.VPCInstances()) != 1 {
		t.Fatalf("%d create events, %d instances; want 1 and 1", n, len(f.cloud.VPCInstances()))
	}
	// Same name, other zone: not this request's instance.
	other := f.request("web-1")
	other.Zone, other.SubnetID = f.cloud.Region+"-2", f.net.Subnets[f.cloud.Region+"-2"]
	if _, err := f.vpc.CreateInstance(ctx, other); !errors.Is(err, provision.ErrNameTaken) {
		t.Fatalf("same name in another zone: %v; want ErrNameTaken", err)
	}

	if err := f.vpc.DeleteInstance(ctx, in.ID); err != nil {
		t.Fatal(err)
	}
	if n := countEvents(f.cloud, "is.instance.instance.delete"); n != 1 {
		t.Fatalf("%d delete events; want 1", n)
	}
	// It shows deleting, then is gone.
	deadline := time.Now().Add(5 * time.Second)
	for {
		g, err := f.vpc.GetInstance(ctx, in.ID)
		if errors.Is(err, provision.ErrNotFound) {
			break
		}
		if err != nil || g.Status != "deleting" || time.Now().After(deadline) {
			t.Fatalf("after delete: %+v, %v", g, err)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := f.vpc.DeleteInstance(ctx, in.ID); !errors.Is(err, provision.ErrNotFound) {
		t.Fatalf("deleting a deleted instance: %v; want ErrNotFound", err)
	}
	if _, found, err := f.vpc.FindInstance(ctx, "web-1"); found || err != nil {
		t.Fatalf("FindInstance after delete: %v, %v", found, err)
	}
}

// TestVPCInstanceBootVolumeFails: an encrypted boot volume needs
// server-protect → kms Reader and usable root keys; otherwise the instance
// ends failed with the cloud's reason.
func TestVPCInstanceBootVolumeFails(t *testing.T) {
	cases := []struct {
		name          string
		serverProtect bool
		setup         func(t *testing.T, f *vpcFixture, req *provision.VPCInstanceRequest)
		code, text    string
	}{
		{"no server-protect authorization", false, nil, "cannot_start_storage", "server-protect"},
		{"image key disabled", true, func(t *testing.T, f *vpcFixture, _ *provision.VPCInstanceRequest) {
			if err := f.keys.Disable(context.Background(), f.key.ID); err != nil {
				t.Fatal(err)
			}
		}, "cannot_start_storage", "suspended"},
		{"image key destroyed", true, func(t *testing.T, f *vpcFixture, _ *provision.VPCInstanceRequest) {
			if err := f.cloud.SetKeyState(f.key.ID, e2etest.KeyDestroyed); err != nil {
				t.Fatal(err)
			}
		}, "encryption_key_deleted", "destroyed"},
		{"volume key of another instance", true, func(t *testing.T, f *vpcFixture, req *provision.VPCInstanceRequest) {
			req.BootVolumeEncryptionKeyCRN = strings.Replace(f.key.CRN, f.cloud.KPInstanceID, f.cloud.HPCSInstanceID, 1)
		}, "cannot_start_storage", "server-protect"},
		{"volume key does not exist", true, func(t *testing.T, f *vpcFixture, req *provision.VPCInstanceRequest) {
			req.BootVolumeEncryptionKeyCRN = f.key.CRN[:strings.LastIndexByte(f.key.CRN, ':')+1] + "0b0e0b0e-0000-4000-8000-000000000000"
		}, "encryption_key_deleted", "does not exist"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newVPCFixture(t, tc.serverProtect)
			req := f.request("db-1")
			if tc.setup != nil {
				tc.setup(t, f, &req)
			}
			ctx := context.Background()
			in, err := f.vpc.CreateInstance(ctx, req)
			if err != nil {
				t.Fatal(err) // the cloud accepts the request; the boot volume fails later
			}
			got, err := f.vpc.WaitRunning(ctx, in.ID, fast...)
			var ie *provision.VPCInstanceError
			if !errors.Is(err, provision.ErrInstanceFailed) || !errors.As(err, &ie) {
				t.Fatalf("WaitRunning: %v; want a VPCInstanceError", err)
			}
			if got == nil || got.Status != "failed" || ie.InstanceID != in.ID || len(ie.Reasons) == 0 ||
				ie.Reasons[0].Code != tc.code || !strings.Contains(err.Error(), tc.text) {
				t.Fatalf("failed with %v (%+v); want code %s mentioning %q", err, got, tc.code, tc.text)
			}
		})
	}
}

func TestVPCInstanceImageRefused(t *testing.T) {
	f := newVPCFixture(t, true)
	ctx := context.Background()
	// An image still importing.
	pending, err := f.images.ImportEncrypted(ctx, image.VPCImportRequest{Name: "second", URI: "cos://" + f.cloud.Region + "/vpc-images/ubuntu.qcow2",
		OSName: "ubuntu-24-04-amd64", RootKeyCRN: f.key.CRN, WrappedDEK: f.wdek})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ imageID, code string }{{pending.ID, "image_not_available"}, {"r006-00000000-0000-4000-8000-000000000000", "image_not_found"}} {
		req := f.request("app-1")
		req.ImageID = tc.imageID
		_, err := f.vpc.CreateInstance(ctx, req)
		var ae *provision.VPCAPIError
		if !errors.As(err, &ae) || ae.StatusCode != http.StatusBadRequest || ae.Code != tc.code || errors.Is(err, provision.ErrOutcomeUnknown) {
			t.Fatalf("image %s: %v; want a 400 %s", tc.imageID, err, tc.code)
		}
	}
	// A subnet in another zone is refused too.
	req := f.request("app-1")
	req.SubnetID = f.net.Subnets[f.cloud.Region+"-2"]
	if _, err := f.vpc.CreateInstance(ctx, req); err == nil || !strings.Contains(err.Error(), "subnet_not_found") {
		t.Fatalf("subnet of another zone: %v", err)
	}
	if n := len(f.cloud.VPCInstances()); n != 0 {
		t.Fatalf("%d instances after refused creates", n)
	}
	if n := countEvents(f.cloud, "is.instance.instance.create"); n != 3 {
		t.Fatalf("%d create events; want 3 failures", n)
	}
}

// TestVPCInstanceLostAnswer: a create whose answer is lost after the cloud
// made the instance is not resent; the instance is found by name.
func TestVPCInstanceLostAnswer(t *testing.T) {
	for _, fault := range []e2etest.Fault{
		{Status: http.StatusGatewayTimeout, AfterHandling: true},
		{Status: http.StatusInternalServerError, AfterHandling: true},
		{Drop: true, DropAfter: 10},
	} {
		t.Run(fmt.Sprintf("%d-drop%v", fault.Status, fault.Drop), func(t *testing.T) {
			f := newVPCFixture(t, true)
			f.cloud.InjectFault(e2etest.ServiceVPC, "CreateInstance", fault)
			in, err := f.vpc.CreateInstance(context.Background(), f.request("web-2"))
			if err != nil {
				t.Fatal(err)
			}
			if n := countEvents(f.cloud, "is.instance.instance.create"); n != 1 || len(f.cloud.VPCInstances()) != 1 || f.cloud.VPCInstances()[0].ID != in.ID {
				t.Fatalf("%d create events, instances %+v; want exactly the one returned", n, f.cloud.VPCInstances())
			}
		})
	}

	// Lost before the cloud saw it: nothing to find, the outcome is
	// unknown, and a rerun creates the instance once.
	f := newVPCFixture(t, true)
	f.cloud.InjectFault(e2etest.ServiceVPC, "CreateInstance", e2etest.Fault{Drop: true})
	_, err := f.vpc.CreateInstance(context.Background(), f.request("web-3"))
	if !errors.Is(err, provision.ErrOutcomeUnknown) || !errors.Is(err, provision.ErrTransport) {
		t.Fatalf("dropped create: %v; want ErrOutcomeUnknown wrapping ErrTransport", err)
	}
	if n := len(f.cloud.VPCInstances()); n != 0 {
		t.Fatalf("%d instances after a dropped create", n)
	}
	if _, err := f.vpc.CreateInstance(context.Background(), f.request("web-3")); err != nil {
		t.Fatal(err)
	}
	if n := len(f.cloud.VPCInstances()); n != 1 {
		t.Fatalf("%d instances after the rerun; want 1", n)
	}
}

func TestVPCInstanceFaultsAndAuth(t *testing.T) {
	f := newVPCFixture(t, true)
	ctx := context.Background()
	in, err := f.vpc.CreateInstance(ctx, f.request("web-4"))
	if err != nil {
		t.Fatal(err)
	}
	// Temporary failures of polls are tolerated up to the limit.
	f.cloud.InjectFault(e2etest.ServiceVPC, "GetInstance", e2etest.Fault{Status: http.StatusServiceUnavailable, Times: 2})
	if _, err := f.vpc.WaitRunning(ctx, in.ID, append(fast, provision.WithMaxFailures(3))...); err != nil {
		t.Fatalf("WaitRunning through two 503s: %v", err)
	}
	f.cloud.InjectFault(e2etest.ServiceVPC, "GetInstance", e2etest.Fault{Status: http.StatusBadGateway, Times: 3})
	if _, err := f.vpc.WaitRunning(ctx, in.ID, append(fast, provision.WithMaxFailures(3))...); err == nil || !strings.Contains(err.Error(), "3 polls in a row failed") {
		t.Fatalf("WaitRunning through three 502s: %v; want it to give up", err)
	}
	f.cloud.ClearFaults()
	// A refused create (400) is not retried and not looked for.
	f.cloud.InjectFault(e2etest.ServiceVPC, "CreateInstance", e2etest.Fault{Status: http.StatusBadRequest, Code: "validation_failed"})
	if _, err := f.vpc.CreateInstance(ctx, f.request("web-5")); err == nil || errors.Is(err, provision.ErrOutcomeUnknown) || !strings.Contains(err.Error(), "validation_failed") {
		t.Fatalf("refused create: %v", err)
	}
	// Reads are retried after a 5xx; a 404 is final.
	f.cloud.InjectFault(e2etest.ServiceVPC, "GetInstance", e2etest.Fault{Status: http.StatusInternalServerError})
	if _, err := f.vpc.GetInstance(ctx, in.ID); err != nil {
		t.Fatalf("GetInstance after one 500: %v", err)
	}
	if _, err := f.vpc.WaitRunning(ctx, "0717_missing", fast...); !errors.Is(err, provision.ErrNotFound) {
		t.Fatalf("WaitRunning of a missing instance: %v; want ErrNotFound", err)
	}
	// A wrong API key: ErrUnauthorized, and the key is not in the error.
	bad, err := provision.NewVPCClient(provision.VPCConfig{Endpoint: f.cloud.VPCURL,
		Authenticator: &core.IamAuthenticator{ApiKey: "wrong-key-123456", URL: f.cloud.IAMURL}, Retries: -1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bad.GetInstance(ctx, in.ID); !errors.Is(err, provision.ErrUnauthorized) || strings.Contains(err.Error(), "wrong-key-123456") {
		t.Fatalf("wrong API key: %v", err)
	}
}

func TestVPCInstanceContext(t *testing.T) {
	f := newVPCFixture(t, true)
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := f.vpc.CreateInstance(cancelled, f.request("web-6")); !errors.Is(err, context.Canceled) {
		t.Fatalf("CreateInstance with a cancelled context: %v", err)
	}
	if n := len(f.cloud.VPCInstances()); n != 0 {
		t.Fatalf("%d instances after a cancelled create", n)
	}
	// Cancelled while the create is in flight: the outcome is unknown.
	// The deadline also covers the name lookup before the create, so it
	// leaves that lookup time even on a loaded machine.
	f.cloud.InjectFault(e2etest.ServiceVPC, "CreateInstance", e2etest.Fault{Latency: 10 * time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if _, err := f.vpc.CreateInstance(ctx, f.request("web-6")); !errors.Is(err, provision.ErrOutcomeUnknown) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("CreateInstance cut by its deadline: %v; want ErrOutcomeUnknown and DeadlineExceeded", err)
	}
	in, err := f.vpc.CreateInstance(context.Background(), f.request("web-7"))
	if err != nil {
		t.Fatal(err)
	}
	// WaitRunning stops at the context's end, not the instance's: cancelled
	// once the first poll has been seen, so the error can name its status.
	ctx2, cancel2 := context.WithCancel(context.Background())
	defer cancel2()
	_, err = f.vpc.WaitRunning(ctx2, in.ID, provision.WithPollInterval(time.Hour),
		provision.WithProgress(func(provision.Progress) { cancel2() }))
	var we *provision.VPCWaitError
	if !errors.Is(err, context.Canceled) || !errors.As(err, &we) || we.Last == nil || we.InstanceID != in.ID ||
		!strings.Contains(err.Error(), "last seen "+we.Last.Status) {
		t.Fatalf("WaitRunning cancelled: %v; want a VPCWaitError naming the last status", err)
	}
}

func TestVPCInstanceRequestValidation(t *testing.T) {
	f := newVPCFixture(t, true)
	crn := "crn:v1:bluemix:public:kms:us-south:a/acct:inst:key:id"
	cases := []struct {
		field  string
		change func(r *provision.VPCInstanceRequest)
	}{
		{"Name", func(r *provision.VPCInstanceRequest) { r.Name = "" }},
		{"Name", func(r *provision.VPCInstanceRequest) { r.Name = "Web_1" }},
		{"Name", func(r *provision.VPCInstanceRequest) { r.Name = "web-" }},
		{"Name", func(r *provision.VPCInstanceRequest) { r.Name = "w" + strings.Repeat("x", 63) }},
		{"ImageID", func(r *provision.VPCInstanceRequest) { r.ImageID = "" }},
		{"ImageID", func(r *provision.VPCInstanceRequest) { r.ImageID = "../images" }},
		{"Profile", func(r *provision.VPCInstanceRequest) { r.Profile = "" }},
		{"Profile", func(r *provision.VPCInstanceRequest) { r.Profile = "large" }},
		{"Zone", func(r *provision.VPCInstanceRequest) { r.Zone = "" }},
		{"Zone", func(r *provision.VPCInstanceRequest) { r.Zone = "eu-de-1" }},
		{"Zone", func(r *provision.VPCInstanceRequest) { r.Zone = "us-south" }},
		{"SubnetID", func(r *provision.VPCInstanceRequest) { r.SubnetID = "" }},
		{"VPCID", func(r *provision.VPCInstanceRequest) { r.VPCID = "a b" }},
		{"KeyIDs", func(r *provision.VPCInstanceRequest) { r.KeyIDs = []string{""} }},
		{"ResourceGroupID", func(r *provision.VPCInstanceRequest) { r.ResourceGroupID = "x/y" }},
		{"BootVolumeEncryptionKeyCRN", func(r *provision.VPCInstanceRequest) { r.BootVolumeEncryptionKeyCRN = "not-a-crn" }},
		{"BootVolumeEncryptionKeyCRN", func(r *provision.VPCInstanceRequest) {
			r.BootVolumeEncryptionKeyCRN = strings.Replace(crn, ":kms:", ":cloud-object-storage:", 1)
		}},
		{"BootVolumeEncryptionKeyCRN", func(r *provision.VPCInstanceRequest) {
			r.BootVolumeEncryptionKeyCRN = strings.Replace(crn, ":id", ":", 1)
		}},
		{"BootVolumeProfile", func(r *provision.VPCInstanceRequest) { r.BootVolumeProfile = "Fast!" }},
		{"UserData", func(r *provision.VPCInstanceRequest) { r.UserData = strings.Repeat("x", 64<<10+1) }},
	}
	for i, tc := range cases {
		t.Run(fmt.Sprintf("%d-%s", i, tc.field), func(t *testing.T) {
			req := f.request("web-8")
			tc.change(&req)
			_, err := f.vpc.CreateInstance(context.Background(), req)
			var ve *provision.ValidationError
			if !errors.As(err, &ve) || ve.Field != tc.field || !errors.Is(err, provision.ErrInvalidOrder) {
				t.Fatalf("got %v; want a ValidationError for %s", err, tc.field)
			}
		})
	}
	// The valid request passes, with a boot volume key and profile set.
	req := f.request("web-8")
	req.BootVolumeEncryptionKeyCRN, req.BootVolumeProfile = f.key.CRN, "10iops-tier"
	if _, err := f.vpc.CreateInstance(context.Background(), req); err != nil {
		t.Fatalf("valid request: %v", err)
	}
	if n := len(f.cloud.VPCInstances()); n != 1 {
		t.Fatalf("%d instances; want only the valid one", n)
	}
	for _, id := range []string{"", "a/b"} {
		if _, err := f.vpc.GetInstance(context.Background(), id); !errors.Is(err, provision.ErrInvalidOrder) {
			t.Fatalf("GetInstance(%q): %v", id, err)
		}
	}
	for _, cfg := range []provision.VPCConfig{
		{},
		{Authenticator: &core.IamAuthenticator{}}, // no API key
		{Authenticator: f.vpcAuth(), Region: "Dallas"},
		{Authenticator: f.vpcAuth(), Endpoint: "ftp://vpc"},
	} {
		if _, err := provision.NewVPCClient(cfg); !errors.Is(err, provision.ErrConfig) {
			t.Fatalf("NewVPCClient(%v): %v; want ErrConfig", cfg, err)
		}
	}
}

func TestVPCSecretsNotPrinted(t *testing.T) {
	cfg := provision.VPCConfig{Region: "us-south", Authenticator: &core.IamAuthenticator{ApiKey: "sekrit-api-key"}}
	req := provision.VPCInstanceRequest{Name: "web", UserData: "password: sekrit-user-data"}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x"} {
		for _, v := range []any{cfg, &cfg, req, &req} {
			if s := fmt.Sprintf(verb, v); strings.Contains(s, "sekrit") {
				t.Fatalf("%s printed a secret: %s", verb, s)
			}
		}
	}
}
