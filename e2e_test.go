package e2e_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/e2eimage/e2e"
	"github.com/e2eimage/e2e/disk"
	"github.com/e2eimage/e2e/e2etest"
	"github.com/e2eimage/e2e/internal/demo"
	"github.com/e2eimage/e2e/keys"
	"github.com/e2eimage/e2e/luks"
	"github.com/e2eimage/e2e/storage"
)

// startCloud starts an emulated cloud for one test.
func startCloud(t *testing.T) *e2etest.Cloud {
	t.Helper()
	cloud, err := e2etest.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cloud.Close() })
	return cloud
}

// testConfig is demo.Config with the fastest settings.
func testConfig(cloud *e2etest.Cloud) e2e.Config {
	cfg := demo.Config(cloud)
	cfg.Encrypt.IterTime = e2e.Duration(10 * time.Millisecond)
	cfg.Encrypt.Workers = 2
	cfg.COS.PartSize = 5 << 20
	return cfg
}

// recorder keeps every progress update.
type recorder struct {
	mu      sync.Mutex
	updates []e2e.Update
}

func (r *recorder) fn(u e2e.Update) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.updates = append(r.updates, u)
}

func (r *recorder) skipped() map[e2e.Stage]bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	m := map[e2e.Stage]bool{}
	for _, u := range r.updates {
		if u.Skipped {
			m[u.Stage] = true
		}
	}
	return m
}

// objectPlaintext downloads the template's object from the emulated COS,
// unwraps the WDEK with the emulated Key Protect and decrypts the image.
func objectPlaintext(t *testing.T, cloud *e2etest.Cloud, cfg e2e.Config, st e2e.State) []byte {
	t.Helper()
	u, err := storage.ParseURI(st.ObjectURI)
	if err != nil {
		t.Fatalf("state object URI: %v", err)
	}
	out, err := decryptObject(cloud, u, st, cfg.Image.Format)
	if err != nil {
		t.Fatalf("decrypt object %s: %v", st.ObjectURI, err)
	}
	return out
}

// decryptObject decrypts the object u from the emulated COS, in format f,
// with the DEK the saved WDEK unwraps to in the emulated Key Protect.
func decryptObject(cloud *e2etest.Cloud, u storage.URI, st e2e.State, f e2e.Format) ([]byte, error) {
	obj, err := cloud.Object(u.Bucket, u.Object)
	if err != nil {
		return nil, err
	}
	kc, err := keys.NewClient(keys.Config{Endpoint: cloud.KMSURL, InstanceID: cloud.KPInstanceID, APIKey: cloud.APIKey, IAMURL: cloud.IAMURL})
	if err != nil {
		return nil, err
	}
	dek, _, err := kc.UnwrapDEK(context.Background(), st.RootKeyID, keys.WDEK(st.WDEK))
	if err != nil {
		return nil, err
	}
	defer dek.Destroy()
	var d interface {
		io.ReaderAt
		Size() int64
		Close() error
	}
	switch f {
	case e2e.EncryptedVHD:
		key, err := dek.VHDKey()
		if err != nil {
			return nil, err
		}
		defer clear(key)
		if d, err = disk.OpenEncryptedVHD(bytes.NewReader(obj), int64(len(obj)), key); err != nil {
			return nil, err
		}
	case e2e.QCOW2LUKS:
		pass, err := dek.QCOW2Passphrase()
		if err != nil {
			return nil, err
		}
		defer clear(pass)
		if d, err = disk.OpenQCOW2LUKS(bytes.NewReader(obj), int64(len(obj)), pass); err != nil {
			return nil, err
		}
	default:
		pass := dek.LUKSPassphrase()
		defer clear(pass)
		if d, err = luks.Open(bytes.NewReader(obj), pass); err != nil {
			return nil, err
		}
	}
	defer d.Close()
	return io.ReadAll(io.NewSectionReader(d, 0, d.Size()))
}

// assertOneOfEach checks that the cloud holds exactly one template and one
// server and no multipart upload left behind.
func assertOneOfEach(t *testing.T, cloud *e2etest.Cloud, cfg e2e.Config) {
	t.Helper()
	if n := len(cloud.Templates()); n != 1 {
		t.Errorf("%d templates in the cloud, want 1", n)
	}
	if cfg.Server != nil {
		if n := len(cloud.Guests()); n != 1 {
			t.Errorf("%d servers in the cloud, want 1", n)
		}
	}
	if ups := cloud.MultipartUploads(cfg.COS.Bucket); len(ups) != 0 {
		t.Errorf("orphan multipart uploads: %+v", ups)
	}
}

func TestRunEndToEnd(t *testing.T) {
	for _, format := range []e2e.Format{e2e.LUKSRaw, e2e.EncryptedVHD} {
		t.Run(string(format), func(t *testing.T) {
			cloud := startCloud(t)
			cfg := testConfig(cloud)
			cfg.Image.Format = format
			cfg.COS.Object = ""
			cfg.FullVerify = true
			img := demo.Image(6<<20+512, 7) // not a multiple of 2 MiB: rounded up by the formats
			src := e2e.FromReader(bytes.NewReader(img), int64(len(img)))
			if format == e2e.EncryptedVHD {
				src = e2e.FromFile(writeTemp(t, img))
			}
			rec := &recorder{}
			p, err := e2e.New(cfg, e2e.WithStateStore(&e2e.MemoryStore{}), e2e.WithProgress(rec.fn))
			if err != nil {
				t.Fatal(err)
			}
			res, err := p.Run(context.Background(), src)
			if err != nil {
				t.Fatal(err)
			}
			st := res.State
			if st.RootKeyCRN == "" || len(st.WDEK) == 0 || st.AuthorizationPolicyID == "" || !st.Verified ||
				st.TemplateID == 0 || st.TemplateGUID == "" || !st.TemplateReady || st.ServerID == 0 || !st.ServerReady {
				t.Errorf("state incomplete after a run: %+v", st)
			}
			if res.Server == nil || res.Server.ID != st.ServerID || res.Server.Hostname != cfg.Server.Hostname {
				t.Errorf("server = %+v, state server %d", res.Server, st.ServerID)
			}
			wantObject := "quickstart-ubuntu.luks"
			if format == e2e.EncryptedVHD {
				wantObject = "quickstart-ubuntu.vhd-0.vhd"
			}
			if !strings.HasSuffix(st.ObjectURI, "/"+wantObject) {
				t.Errorf("object URI %q, want the object %q", st.ObjectURI, wantObject)
			}
			got := objectPlaintext(t, cloud, cfg, st)
			if len(got) < len(img) || !bytes.Equal(got[:len(img)], img) || strings.Trim(string(got[len(img):]), "\x00") != "" {
				t.Errorf("the template's object does not decrypt to the input (got %d bytes, input %d)", len(got), len(img))
			}
			assertOneOfEach(t, cloud, cfg)
			actions := map[string]bool{}
			for _, ev := range res.Events {
				actions[ev.Action] = true
			}
			for _, a := range []string{"kms.secrets.wrap", "audit-log.vsi-image-template.create", "audit-log.vsi.provision"} {
				if !actions[a] {
					t.Errorf("audit trail lacks %s; got %v", a, actions)
				}
			}
		})
	}
}

// TestResumeAfterEveryStep kills the run right after each step finishes
// (as a crash would), reruns it from the saved state and checks that the
// rerun skips what was done and ends with one template and one server.
func TestResumeAfterEveryStep(t *testing.T) {
	stages := []e2e.Stage{e2e.StageRootKey, e2e.StageDataKey, e2e.StageAuthorize, e2e.StageBucket,
		e2e.StageEncrypt, e2e.StageVerify, e2e.StageImport, e2e.StageOrder}
	img := demo.Image(3<<20, 3)
	for _, crashAfter := range stages {
		t.Run(string(crashAfter), func(t *testing.T) {
			t.Parallel()
			cloud := startCloud(t)
			cfg := testConfig(cloud)
			cfg.Audit = false
			store := &e2e.MemoryStore{}
			err := runCrashingAfter(t, cfg, store, crashAfter, img)
			if crashAfter != e2e.StageOrder && !errors.Is(err, context.Canceled) {
				t.Fatalf("first run after a crash at %s: err = %v, want context.Canceled", crashAfter, err)
			}
			rec := &recorder{}
			p2, err := e2e.New(cfg, e2e.WithStateStore(store), e2e.WithProgress(rec.fn))
			if err != nil {
				t.Fatal(err)
			}
			res, err := p2.Run(context.Background(), e2e.FromReader(bytes.NewReader(img), int64(len(img))))
			if err != nil {
				t.Fatalf("rerun: %v", err)
			}
			skipped := rec.skipped()
			for _, s := range stages {
				if s == crashAfter {
					break
				}
				if s == e2e.StageDataKey {
					continue // the DEK is always re-derived (unwrapped), never stored
				}
				if !skipped[s] {
					t.Errorf("rerun did %s again although the first run finished it", s)
				}
			}
			assertOneOfEach(t, cloud, cfg)
			if got := objectPlaintext(t, cloud, cfg, res.State); !bytes.Equal(got, img) {
				t.Error("object does not decrypt to the input after the resumed run")
			}
		})
	}
}

// TestFaultsLeaveResumableState injects a failure into each service, checks
// that the run stops with a StepError naming the step, then reruns.
func TestFaultsLeaveResumableState(t *testing.T) {
	cases := []struct {
		svc   e2etest.Service
		op    string
		stage e2e.Stage
		fault e2etest.Fault
	}{
		{e2etest.ServiceKMS, "createKey", e2e.StageRootKey, e2etest.Fault{Status: 500, Times: 50}},
		{e2etest.ServiceKMS, "wrap", e2e.StageDataKey, e2etest.Fault{Status: 503, Times: 50}},
		{e2etest.ServiceIAM, "policies", e2e.StageAuthorize, e2etest.Fault{Status: 500, Times: 50}},
		{e2etest.ServiceCOS, "UploadPart", e2e.StageEncrypt, e2etest.Fault{Status: 500, Times: 50}},
		{e2etest.ServiceCOS, "CompleteMultipartUpload", e2e.StageEncrypt, e2etest.Fault{Status: 500, Times: 50}},
		{e2etest.ServiceSoftLayer, "SoftLayer_Virtual_Guest_Block_Device_Template_Group::createFromIcos", e2e.StageImport, e2etest.Fault{Status: 500, Times: 50}},
		{e2etest.ServiceSoftLayer, "SoftLayer_Product_Order::placeOrder", e2e.StageOrder, e2etest.Fault{Status: 500, Code: "SoftLayer_Exception_Public", Times: 50}},
	}
	img := demo.Image(6<<20, 5) // two 5 MiB parts: a multipart upload
	for _, c := range cases {
		t.Run(fmt.Sprintf("%s/%s", c.svc, c.op), func(t *testing.T) {
			t.Parallel() // the clients' bounded retry backoffs dominate: overlap them
			cloud := startCloud(t)
			cfg := testConfig(cloud)
			cfg.Audit = false
			store := &e2e.MemoryStore{}
			cloud.InjectFault(c.svc, c.op, c.fault)
			p, err := e2e.New(cfg, e2e.WithStateStore(store))
			if err != nil {
				t.Fatal(err)
			}
			_, err = p.Run(context.Background(), e2e.FromReader(bytes.NewReader(img), int64(len(img))))
			var se *e2e.StepError
			if !errors.As(err, &se) || se.Stage != c.stage {
				t.Fatalf("err = %v, want a StepError at %s", err, c.stage)
			}
			if ups := cloud.MultipartUploads(cfg.COS.Bucket); len(ups) != 0 {
				t.Errorf("the failed upload left multipart uploads behind: %+v", ups)
			}
			cloud.ClearFaults()
			if _, err := p.Run(context.Background(), e2e.FromReader(bytes.NewReader(img), int64(len(img)))); err != nil {
				t.Fatalf("rerun after the fault cleared: %v", err)
			}
			assertOneOfEach(t, cloud, cfg)
		})
	}
}

func TestRefusesWhatIBMWouldRefuse(t *testing.T) {
	cloud := startCloud(t)
	cfg := testConfig(cloud)
	p, err := e2e.New(cfg, e2e.WithStateStore(&e2e.MemoryStore{}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Run(context.Background(), e2e.Source{}); err == nil || !strings.Contains(err.Error(), "no source") {
		t.Errorf("empty source: err = %v", err)
	}
	cfg.Image.Format = e2e.EncryptedVHD
	cfg.COS.Object = "x.vhd-0.vhd"
	p, err = e2e.New(cfg, e2e.WithStateStore(&e2e.MemoryStore{}))
	if err != nil {
		t.Fatal(err)
	}
	img := demo.Image(2<<20, 1)
	_, err = p.Run(context.Background(), e2e.FromReader(bytes.NewReader(img), int64(len(img))))
	if err == nil || !strings.Contains(err.Error(), "seekable") {
		t.Errorf("encrypted VHD from a stream: err = %v, want a clear refusal", err)
	}
	if ups := cloud.MultipartUploads(cfg.COS.Bucket); len(ups) != 0 {
		t.Errorf("refused upload left multipart uploads: %+v", ups)
	}
}

func TestPlanThenRunThenCleanup(t *testing.T) {
	cloud := startCloud(t)
	cfg := testConfig(cloud)
	cfg.Audit = false
	store := &e2e.MemoryStore{}
	p, err := e2e.New(cfg, e2e.WithStateStore(store))
	if err != nil {
		t.Fatal(err)
	}
	img := demo.Image(2<<20, 9)
	src := func() e2e.Source { return e2e.FromReader(bytes.NewReader(img), int64(len(img))) }
	plan, err := p.Plan(context.Background(), src())
	if err != nil || plan.Err() != nil {
		t.Fatalf("Plan = %v, %v", plan, err)
	}
	actions := map[e2e.Stage]string{}
	for _, s := range plan.Steps {
		actions[s.Stage] = s.Action
	}
	for _, s := range []e2e.Stage{e2e.StageRootKey, e2e.StageAuthorize, e2e.StageBucket, e2e.StageImport, e2e.StageOrder} {
		if actions[s] != "create" {
			t.Errorf("fresh plan: %s action %q, want create\n%s", s, actions[s], plan)
		}
	}
	if len(cloud.Keys()) != 0 || len(cloud.Policies()) != 0 || len(cloud.Buckets()) != 0 || len(cloud.Guests()) != 0 {
		t.Fatalf("Plan changed the cloud: keys %d policies %d buckets %d guests %d",
			len(cloud.Keys()), len(cloud.Policies()), len(cloud.Buckets()), len(cloud.Guests()))
	}
	if _, err := p.Run(context.Background(), src()); err != nil {
		t.Fatal(err)
	}
	plan, err = p.Plan(context.Background(), src())
	if err != nil || plan.Err() != nil {
		t.Fatalf("Plan after the run = %v, %v", plan, err)
	}
	for _, s := range plan.Steps {
		if s.Stage != e2e.StageDataKey && s.Action != "skip" {
			t.Errorf("plan after a complete run: %s action %q, want skip", s.Stage, s.Action)
		}
	}
	if err := p.Cleanup(context.Background(), e2e.CleanupAll); err != nil {
		t.Fatal(err)
	}
	if n, m := len(cloud.Guests()), len(cloud.Templates()); n != 0 || m != 0 {
		t.Errorf("after Cleanup: %d servers, %d templates left", n, m)
	}
	if objs := cloud.Objects(cfg.COS.Bucket); len(objs) != 0 {
		t.Errorf("after Cleanup: objects left %+v", objs)
	}
	if st := p.State(); st.ServerID != 0 || st.TemplateID != 0 || st.ObjectURI != "" || st.RootKeyCRN == "" {
		t.Errorf("state after Cleanup: %+v", st)
	}
}

func TestPlanReportsProblems(t *testing.T) {
	cloud := startCloud(t)
	cfg := testConfig(cloud)
	cfg.KMS.RootKeyName, cfg.KMS.RootKeyID = "", "no-such-key"
	if err := cloud.CreateBucket(cfg.COS.Bucket, "eu-de-standard"); err != nil {
		t.Fatal(err)
	}
	p, err := e2e.New(cfg, e2e.WithStateStore(&e2e.MemoryStore{}))
	if err != nil {
		t.Fatal(err)
	}
	plan, err := p.Plan(context.Background(), e2e.Source{})
	if err != nil {
		t.Fatal(err)
	}
	var rme *storage.RegionMismatchError
	perr := plan.Err()
	if !errors.Is(perr, keys.ErrKeyNotFound) || !errors.As(perr, &rme) || !strings.Contains(perr.Error(), "no source") {
		t.Errorf("plan problems = %v; want a missing key, a region mismatch and no source\n%s", perr, plan)
	}
	cfg.APIKey = "wrong-key"
	p, err = e2e.New(cfg, e2e.WithStateStore(&e2e.MemoryStore{}))
	if err != nil {
		t.Fatal(err)
	}
	if plan, err = p.Plan(context.Background(), e2e.Source{}); err != nil || plan.Err() == nil {
		t.Errorf("plan with a wrong API key: %v, %v; want a problem", plan, err)
	}
}

func TestRunImportsARootKey(t *testing.T) {
	cloud := startCloud(t)
	cfg := testConfig(cloud)
	cfg.Audit, cfg.Server = false, nil
	cfg.KMS.RootKeyName = "byok-root"
	cfg.KMS.ImportPayload = bytes.Repeat([]byte{0x42}, 32)
	img := demo.Image(2<<20, 11)
	for run := 0; run < 2; run++ { // the second run (fresh state) reuses the imported key
		p, err := e2e.New(cfg, e2e.WithStateStore(&e2e.MemoryStore{}))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.Run(context.Background(), e2e.FromReader(bytes.NewReader(img), int64(len(img)))); err != nil {
			t.Fatalf("run %d: %v", run, err)
		}
	}
	var imported int
	for _, k := range cloud.Keys() {
		if k.Name == "byok-root" {
			imported++
			if !k.Imported {
				t.Errorf("key %s was created, not imported", k.ID)
			}
		}
	}
	if imported != 1 {
		t.Errorf("%d keys named byok-root, want exactly 1", imported)
	}
}

// TestSourcesFromCOSAndQCOW2 encrypts an image that is already in COS (as
// IBM's export leaves it) and one that arrives as a qcow2 file: both are
// read through their container as the virtual disk.
func TestSourcesFromCOSAndQCOW2(t *testing.T) {
	img := demo.Image(3<<20, 13)
	t.Run("cos", func(t *testing.T) {
		cloud := startCloud(t)
		cfg := testConfig(cloud)
		cfg.Audit, cfg.Server = false, nil
		if err := cloud.CreateBucket("exports", cloud.Region+"-standard"); err != nil {
			t.Fatal(err)
		}
		if err := cloud.PutObject("exports", "plain/disk.raw", img); err != nil {
			t.Fatal(err)
		}
		p, err := e2e.New(cfg, e2e.WithStateStore(&e2e.MemoryStore{}))
		if err != nil {
			t.Fatal(err)
		}
		res, err := p.Run(context.Background(), e2e.ParseSource("cos://"+cloud.Region+"/exports/plain/disk.raw"))
		if err != nil {
			t.Fatal(err)
		}
		if got := objectPlaintext(t, cloud, cfg, res.State); !bytes.Equal(got, img) {
			t.Error("the image read from COS does not decrypt back to itself")
		}
	})
	t.Run("qcow2", func(t *testing.T) {
		cloud := startCloud(t)
		cfg := testConfig(cloud)
		cfg.Audit, cfg.Server = false, nil
		raw, err := disk.Open(bytes.NewReader(img), int64(len(img)))
		if err != nil {
			t.Fatal(err)
		}
		var q bytes.Buffer
		if _, err := disk.Convert(context.Background(), &q, raw, disk.QCOW2); err != nil {
			t.Fatal(err)
		}
		if bytes.Equal(q.Bytes()[:len(img)/2], img[:len(img)/2]) {
			t.Fatal("the qcow2 file is not a container")
		}
		p, err := e2e.New(cfg, e2e.WithStateStore(&e2e.MemoryStore{}))
		if err != nil {
			t.Fatal(err)
		}
		res, err := p.Run(context.Background(), e2e.FromFile(writeTemp(t, q.Bytes())))
		if err != nil {
			t.Fatal(err)
		}
		if got := objectPlaintext(t, cloud, cfg, res.State); !bytes.Equal(got, img) {
			t.Error("the qcow2 input's virtual disk was not what got encrypted")
		}
	})
}

// TestSourceFromReaderAt: an image in memory is a seekable source, so the
// container formats take it (a stream they refuse), and a qcow2 held in
// memory is read through its container; a missing size is an error.
func TestSourceFromReaderAt(t *testing.T) {
	img := demo.Image(3<<20, 21)
	raw, err := disk.Open(bytes.NewReader(img), int64(len(img)))
	if err != nil {
		t.Fatal(err)
	}
	var q bytes.Buffer
	if _, err := disk.Convert(context.Background(), &q, raw, disk.QCOW2); err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{"raw": img, "qcow2": q.Bytes()} {
		t.Run(name, func(t *testing.T) {
			cloud := startCloud(t)
			cfg := testConfig(cloud)
			cfg.Audit, cfg.Server = false, nil
			cfg.Image.Format = e2e.EncryptedVHD
			stream, err := e2e.New(cfg, e2e.WithStateStore(&e2e.MemoryStore{}))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := stream.Run(context.Background(), e2e.FromReader(bytes.NewReader(data), int64(len(data)))); err == nil || !strings.Contains(err.Error(), "FromReaderAt") {
				t.Fatalf("an encrypted VHD from a stream = %v, want the seekable-source error naming FromReaderAt", err)
			}
			p, err := e2e.New(cfg, e2e.WithStateStore(&e2e.MemoryStore{}))
			if err != nil {
				t.Fatal(err)
			}
			src := e2e.FromReaderAt(bytes.NewReader(data), int64(len(data)))
			if src.String() != "random-access source" {
				t.Errorf("String() = %q", src.String())
			}
			res, err := p.Run(context.Background(), src)
			if err != nil {
				t.Fatal(err)
			}
			if got := objectPlaintext(t, cloud, cfg, res.State); len(got) < len(img) || !bytes.Equal(got[:len(img)], img) || !bytes.Equal(got[len(img):], make([]byte, len(got)-len(img))) {
				t.Error("the image read at random does not decrypt back to itself")
			}
		})
	}
	t.Run("no size", func(t *testing.T) {
		cloud := startCloud(t)
		cfg := testConfig(cloud)
		cfg.Audit, cfg.Server = false, nil
		p, err := e2e.New(cfg, e2e.WithStateStore(&e2e.MemoryStore{}))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.Run(context.Background(), e2e.FromReaderAt(bytes.NewReader(img), -1)); err == nil || !strings.Contains(err.Error(), "needs the size") {
			t.Errorf("FromReaderAt with size -1 = %v, want an error asking for the size", err)
		}
	})
}

// TestRunVPC runs the qcow2+LUKS flow: a passphrase DEK, the is/image
// authorizations, a VPC custom image; then a rerun from a fresh state must
// adopt the same image (names are unique) rather than fail or duplicate.
func TestRunVPC(t *testing.T) {
	cloud := startCloud(t)
	cfg := testConfig(cloud)
	cfg.Image = e2e.ImageConfig{Name: "quickstart-ubuntu", OS: "ubuntu-24-04-amd64", Format: e2e.QCOW2LUKS}
	cfg.Server = nil
	cfg.FullVerify = true
	img := demo.Image(5<<20+4096, 17) // not a multiple of the 64 KiB cluster
	path := writeTemp(t, img)
	store := &e2e.MemoryStore{}
	p, err := e2e.New(cfg, e2e.WithStateStore(store))
	if err != nil {
		t.Fatal(err)
	}
	res, err := p.Run(context.Background(), e2e.FromFile(path))
	if err != nil {
		t.Fatal(err)
	}
	st := res.State
	if st.VPCImageID == "" || !st.TemplateReady || !strings.HasSuffix(st.ObjectURI, ".qcow2") {
		t.Fatalf("state after a VPC run: %+v", st)
	}
	ims := cloud.VPCImages()
	if len(ims) != 1 || ims[0].Status != "available" {
		t.Fatalf("VPC images: %+v, want one available", ims)
	}
	if strings.Count(st.AuthorizationPolicyID, ",") != 1 {
		t.Errorf("want two policies (is/image → COS and → kms), got %q", st.AuthorizationPolicyID)
	}
	// The object decrypts to the input with the unwrapped passphrase.
	got := objectPlaintext(t, cloud, cfg, st)
	if !bytes.Equal(got[:len(img)], img) {
		t.Error("the VPC image's object does not decrypt to the input")
	}
	// A rerun that lost its state up to the import adopts the image.
	lost := st
	lost.VPCImageID, lost.TemplateReady = "", false
	if err := store.Save(context.Background(), lost); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Run(context.Background(), e2e.FromFile(path)); err != nil {
		t.Fatalf("rerun: %v", err)
	}
	if n := len(cloud.VPCImages()); n != 1 {
		t.Errorf("%d VPC images after the rerun, want 1", n)
	}
	if err := p.Cleanup(context.Background(), e2e.CleanupAll); err != nil {
		t.Fatal(err)
	}
	if n := len(cloud.VPCImages()); n != 0 {
		t.Errorf("%d VPC images after Cleanup", n)
	}
}
