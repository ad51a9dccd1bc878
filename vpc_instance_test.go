package e2e_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/e2eimage/e2e"
	"github.com/e2eimage/e2e/e2etest"
	"github.com/e2eimage/e2e/internal/demo"
	"github.com/e2eimage/e2e/provision"
)

// vpcConfig is a qcow2 (VPC) run that creates an instance in zone 1.
func vpcConfig(cloud *e2etest.Cloud) e2e.Config {
	cfg := testConfig(cloud)
	cfg.Image = e2e.ImageConfig{Name: "vpc-ubuntu", OS: "ubuntu-24-04-amd64", Format: e2e.QCOW2LUKS}
	zone := cloud.Region + "-1"
	cfg.Server = &e2e.ServerConfig{Hostname: "vpc-web-1", Zone: zone, SubnetID: cloud.VPCNetwork().Subnets[zone],
		UserData: "#cloud-config\n"}
	return cfg
}

func countActions(cloud *e2etest.Cloud, action string) int {
	n := 0
	for _, ev := range cloud.Events() {
		if ev.Action == action && ev.Outcome == "success" {
			n++
		}
	}
	return n
}

// TestRunVPCInstance: a qcow2 run ends with a running VPC instance whose
// boot volume uses the run's root key; Plan, a rerun, a lost create answer,
// the audit trail and Cleanup all know the instance.
func TestRunVPCInstance(t *testing.T) {
	cloud := startCloud(t)
	cfg := vpcConfig(cloud)
	path := writeTemp(t, demo.Image(2<<20, 5))
	store := &e2e.MemoryStore{}
	p, err := e2e.New(cfg, e2e.WithStateStore(store))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	plan, err := p.Plan(ctx, e2e.FromFile(path))
	if err != nil || plan.Err() != nil {
		t.Fatalf("Plan: %v, %v", err, plan.Err())
	}
	if !strings.Contains(plan.String(), "create        VPC instance vpc-web-1 (bx2-2x8) in us-south-1") ||
		!strings.Contains(plan.String(), "server-protect → kms") {
		t.Fatalf("the plan does not say it creates the instance and its authorization:\n%s", plan)
	}
	if n := len(cloud.VPCInstances()); n != 0 {
		t.Fatalf("Plan created %d instances", n)
	}

	res, err := p.Run(ctx, e2e.FromFile(path))
	if err != nil {
		t.Fatal(err)
	}
	st := res.State
	srv := res.Server
	if srv == nil || srv.VPCInstanceID == "" || srv.VPCInstanceID != st.VPCInstanceID || srv.PowerState != "running" ||
		srv.Hostname != "vpc-web-1" || srv.Zone != "us-south-1" || srv.PrivateIP == "" || !st.ServerReady || st.ServerID != 0 {
		t.Fatalf("server %+v, state %+v", srv, st)
	}
	ins := cloud.VPCInstances()
	if len(ins) != 1 || ins[0].Status != "running" || ins[0].ImageID != st.VPCImageID || ins[0].BootVolumeEncryptionKeyCRN != st.RootKeyCRN ||
		ins[0].Profile != e2e.DefaultVPCProfile || ins[0].UserData != "#cloud-config\n" {
		t.Fatalf("VPC instances %+v", ins)
	}
	if strings.Count(st.AuthorizationPolicyID, ",") != 2 {
		t.Errorf("want three policies (is/image → COS and → kms, server-protect → kms), got %q", st.AuthorizationPolicyID)
	}
	var created bool
	for _, ev := range res.Events {
		created = created || (ev.Action == "is.instance.instance.create" && strings.HasSuffix(":"+ev.Target.ID, ":"+st.VPCInstanceID))
	}
	if !created {
		t.Errorf("the audit trail lacks the instance's creation: %d events", len(res.Events))
	}

	// A rerun and a plan find the instance; nothing is created again.
	if _, err := p.Run(ctx, e2e.FromFile(path)); err != nil {
		t.Fatalf("rerun: %v", err)
	}
	if plan, err := p.Plan(ctx, e2e.FromFile(path)); err != nil || !strings.Contains(plan.String(), "skip          VPC instance vpc-web-1") {
		t.Fatalf("plan after the run: %v\n%s", err, plan)
	}
	// The create's answer lost (only the intent saved): the rerun adopts it.
	lost := p.State()
	lost.VPCInstanceID, lost.ServerReady = "", false
	if err := store.Save(ctx, lost); err != nil {
		t.Fatal(err)
	}
	if plan, err := p.Plan(ctx, e2e.FromFile(path)); err != nil || !strings.Contains(plan.String(), "reuse         VPC instance vpc-web-1 ("+st.VPCInstanceID) {
		t.Fatalf("plan with a lost answer: %v\n%s", err, plan)
	}
	srv2, err := p.Order(ctx)
	if err != nil || srv2.VPCInstanceID != st.VPCInstanceID {
		t.Fatalf("Order after a lost answer: %+v, %v; want instance %s", srv2, err, st.VPCInstanceID)
	}
	if n := countActions(cloud, "is.instance.instance.create"); n != 1 || len(cloud.VPCInstances()) != 1 {
		t.Fatalf("%d instance creations, %d instances; want 1 and 1", n, len(cloud.VPCInstances()))
	}

	// Cleanup finds an instance whose answer was lost, deletes it and the image.
	lost = p.State()
	lost.VPCInstanceID = ""
	if err := store.Save(ctx, lost); err != nil {
		t.Fatal(err)
	}
	if err := p.Cleanup(ctx, e2e.CleanupAll); err != nil {
		t.Fatal(err)
	}
	if st := p.State(); st.VPCInstanceID != "" || st.OrderRequested || st.ServerReady || st.VPCImageID != "" {
		t.Fatalf("state after Cleanup: %+v", st)
	}
	if n := countActions(cloud, "is.instance.instance.delete"); n != 1 {
		t.Fatalf("%d instance deletions; want 1", n)
	}
	for _, in := range cloud.VPCInstances() {
		if in.Status != "deleting" {
			t.Fatalf("after Cleanup: instance %+v", in)
		}
	}
}

// TestRunVPCInstanceKeyDisabled: a root key disabled between the import
// and the order makes the instance fail with the cloud's reason; the
// failed instance is deleted, and once the key is enabled again a rerun of
// Order creates a running one.
func TestRunVPCInstanceKeyDisabled(t *testing.T) {
	cloud := startCloud(t)
	cfg := vpcConfig(cloud)
	cfg.Audit = false
	store := &e2e.MemoryStore{}
	path := writeTemp(t, demo.Image(2<<20, 6))
	// A run cut right after the import, as a crash would.
	cut, cancel := context.WithCancel(context.Background())
	defer cancel()
	p0, err := e2e.New(cfg, e2e.WithStateStore(store), e2e.WithProgress(func(u e2e.Update) {
		if u.Stage == e2e.StageImport && u.Finished {
			cancel()
		}
	}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p0.Run(cut, e2e.FromFile(path)); !errors.Is(err, context.Canceled) {
		t.Fatalf("run cut after the import: %v", err)
	}
	st, _ := store.Load(context.Background())
	if !st.TemplateReady || st.OrderRequested || len(cloud.VPCInstances()) != 0 {
		t.Fatalf("the cut run went past the import: %+v", st)
	}
	if err := cloud.SetKeyState(st.RootKeyID, e2etest.KeySuspended); err != nil {
		t.Fatal(err)
	}
	p, err := e2e.New(cfg, e2e.WithStateStore(store))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	_, err = p.Order(ctx)
	var ie *provision.VPCInstanceError
	var se *e2e.StepError
	if !errors.As(err, &ie) || !errors.As(err, &se) || se.Stage != e2e.StageOrder || !strings.Contains(err.Error(), "suspended") {
		t.Fatalf("Order with a disabled key: %v; want a StepError with the instance's failure", err)
	}
	if st := p.State(); st.VPCInstanceID != "" || st.OrderRequested {
		t.Fatalf("state keeps the failed instance: %+v", st)
	}
	if err := cloud.SetKeyState(st.RootKeyID, e2etest.KeyActive); err != nil {
		t.Fatal(err)
	}
	// The failed instance is deleting; its name frees up shortly.
	deadline := time.Now().Add(10 * time.Second)
	for len(cloud.VPCInstances()) > 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	srv, err := p.Order(ctx)
	if err != nil || srv.PowerState != "running" {
		t.Fatalf("Order after enabling the key: %+v, %v", srv, err)
	}
	if err := p.Cleanup(ctx, e2e.CleanupAll); err != nil {
		t.Fatal(err)
	}
}

func TestConfigVPCServer(t *testing.T) {
	cloud := startCloud(t)
	base := vpcConfig(cloud)
	if err := base.Validate(); err != nil {
		t.Fatalf("valid VPC config: %v", err)
	}
	cases := []struct {
		name   string
		change func(s *e2e.ServerConfig)
		want   string
	}{
		{"no zone", func(s *e2e.ServerConfig) { s.Zone = "" }, "server.zone (E2E_VPC_ZONE) is required"},
		{"no subnet", func(s *e2e.ServerConfig) { s.SubnetID = "" }, "server.subnetId (E2E_VPC_SUBNET_ID) is required"},
		{"no name", func(s *e2e.ServerConfig) { s.Hostname = "" }, "server.hostname (E2E_SERVER_NAME) is required"},
		{"bad name", func(s *e2e.ServerConfig) { s.Hostname = "Web_1" }, "Name"},
		{"zone of another region", func(s *e2e.ServerConfig) { s.Zone = "eu-de-1" }, "Zone"},
		{"bad profile", func(s *e2e.ServerConfig) { s.Profile = "big" }, "Profile"},
		{"bad boot key", func(s *e2e.ServerConfig) { s.BootVolumeKeyCRN = "crn:nope" }, "BootVolumeEncryptionKeyCRN"},
		{"classic datacenter", func(s *e2e.ServerConfig) { s.Datacenter = "dal10" }, "server.datacenter is for a classic server"},
		{"classic cpus", func(s *e2e.ServerConfig) { s.CPUs = 2 }, "server.cpus is for a classic server"},
	}
	for _, tc := range cases {
		cfg := base
		s := *base.Server
		tc.change(&s)
		cfg.Server = &s
		err := cfg.Validate()
		var ce *e2e.ConfigError
		if !errors.As(err, &ce) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v; want a ConfigError mentioning %q", tc.name, err, tc.want)
		}
	}
	// VPC fields on a classic run are refused too.
	classic := testConfig(cloud)
	classic.Server.Zone = "us-south-1"
	if err := classic.Validate(); err == nil || !strings.Contains(err.Error(), "server.zone is for a VPC instance") {
		t.Errorf("classic server with a zone: %v", err)
	}
	// The environment fills in the VPC server.
	env := map[string]string{"E2E_SERVER_NAME": "env-vm", "E2E_VPC_ZONE": "us-south-2", "E2E_VPC_SUBNET_ID": "0727-abc",
		"E2E_VPC_PROFILE": "cx2-2x4", "E2E_VPC_KEY_IDS": "r006-a, r006-b,", "E2E_VPC_BOOT_KEY_CRN": "crn:v1:bluemix:public:kms:us-south:a/x:y:key:z"}
	cfg := base
	cfg.Server = nil
	if err := cfg.ApplyEnv(func(k string) (string, bool) { v, ok := env[k]; return v, ok }); err != nil {
		t.Fatal(err)
	}
	s := cfg.Server
	if s == nil || s.Hostname != "env-vm" || s.Zone != "us-south-2" || s.SubnetID != "0727-abc" || s.Profile != "cx2-2x4" ||
		len(s.KeyIDs) != 2 || s.KeyIDs[1] != "r006-b" || s.BootVolumeKeyCRN != env["E2E_VPC_BOOT_KEY_CRN"] {
		t.Fatalf("server from the environment: %+v", s)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("config from the environment: %v", err)
	}
}
