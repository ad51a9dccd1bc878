package e2etest_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/IBM/go-sdk-core/v5/core"
	"github.com/IBM/vpc-go-sdk/vpcv1"

	"github.com/e2eimage/e2e/e2etest"
	"github.com/e2eimage/e2e/iam"
)

// availableImage imports the env's encrypted image and waits for it.
func (e *vpcEnv) availableImage(t *testing.T) *vpcv1.Image {
	t.Helper()
	im := e.create(t, e.prototype("ubuntu-enc", e.uri))
	if got := e.settle(t, *im.ID); *got.Status != vpcv1.ImageStatusAvailableConst {
		t.Fatalf("import ended %s: %v", *got.Status, reasons(got))
	}
	return im
}

func (e *vpcEnv) instancePrototype(name, imageID, zone string) *vpcv1.InstancePrototypeInstanceByImage {
	n := e.cloud.VPCNetwork()
	return &vpcv1.InstancePrototypeInstanceByImage{
		Name:    core.StringPtr(name),
		Image:   &vpcv1.ImageIdentityByID{ID: core.StringPtr(imageID)},
		Profile: &vpcv1.InstanceProfileIdentityByName{Name: core.StringPtr("cx2-4x8")},
		Zone:    &vpcv1.ZoneIdentityByName{Name: core.StringPtr(zone)},
		VPC:     &vpcv1.VPCIdentityByID{ID: core.StringPtr(n.VPCID)},
		Keys:    []vpcv1.KeyIdentityIntf{&vpcv1.KeyIdentityByID{ID: core.StringPtr("r006-key")}},
		PrimaryNetworkInterface: &vpcv1.NetworkInterfacePrototype{
			Subnet: &vpcv1.SubnetIdentityByID{ID: core.StringPtr(n.Subnets[zone])},
		},
	}
}

// waitInstance polls an instance until it leaves pending and starting,
// and returns it with the statuses seen on the way.
func (e *vpcEnv) waitInstance(t *testing.T, id string) (*vpcv1.Instance, []string) {
	t.Helper()
	var seen []string
	deadline := time.Now().Add(10 * time.Second)
	for {
		in, _, err := e.vpc.GetInstance(e.vpc.NewGetInstanceOptions(id))
		if err != nil {
			t.Fatalf("GetInstance: %v", err)
		}
		if len(seen) == 0 || seen[len(seen)-1] != *in.Status {
			seen = append(seen, *in.Status)
		}
		if *in.Status != vpcv1.InstanceStatusPendingConst && *in.Status != vpcv1.InstanceStatusStartingConst {
			return in, seen
		}
		if time.Now().After(deadline) {
			t.Fatalf("instance still %s after 10 s", *in.Status)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// TestVPCInstanceLifecycle drives /v1/instances with the official client:
// create (201, pending), pending → starting → running, get, list by name
// and in pages, delete (204, deleting, then 404), with audit events.
func TestVPCInstanceLifecycle(t *testing.T) {
	e := newVPCEnv(t, e2etest.Options{TimeScale: 0.001}) // pending 40 ms, starting 60 ms
	e.authorize(t, true, true)
	if _, _, err := e.iam.EnsureAuthorization(context.Background(), iam.ServerProtectToKMS(e.cloud.KPInstanceID, false)); err != nil {
		t.Fatal(err)
	}
	im := e.availableImage(t)
	zone := e.cloud.Region + "-2"
	in, resp, err := e.vpc.CreateInstance(e.vpc.NewCreateInstanceOptions(e.instancePrototype("web-1", *im.ID, zone)))
	if err != nil {
		t.Fatalf("CreateInstance: %v", err)
	}
	if resp.StatusCode != http.StatusCreated || *in.Status != vpcv1.InstanceStatusPendingConst || *in.Name != "web-1" ||
		*in.Image.ID != *im.ID || *in.Zone.Name != zone || *in.Profile.Name != "cx2-4x8" || *in.Vcpu.Count != 4 || *in.Memory != 8 ||
		*in.VPC.ID != e.cloud.VPCNetwork().VPCID || *in.PrimaryNetworkInterface.Subnet.ID != e.cloud.VPCNetwork().Subnets[zone] ||
		*in.PrimaryNetworkInterface.PrimaryIP.Address == "" || *in.BootVolumeAttachment.Volume.ID == "" ||
		!strings.Contains(*in.CRN, ":is:"+zone+":a/"+e.cloud.AccountID+"::instance:"+*in.ID) {
		t.Fatalf("CreateInstance answered %d with %+v", resp.StatusCode, in)
	}
	got, seen := e.waitInstance(t, *in.ID)
	if *got.Status != vpcv1.InstanceStatusRunningConst || seen[len(seen)-1] != "running" || len(got.StatusReasons) != 0 {
		t.Fatalf("instance ended %s (seen %v)", *got.Status, seen)
	}
	for i := 1; i < len(seen); i++ {
		if order := []string{"pending", "starting", "running"}; slices.Index(order, seen[i]) <= slices.Index(order, seen[i-1]) {
			t.Fatalf("statuses went %v; want pending → starting → running", seen)
		}
	}
	if ins := e.cloud.VPCInstances(); len(ins) != 1 || ins[0].BootVolumeEncryptionKeyCRN != e.key.CRN || ins[0].KeyIDs[0] != "r006-key" {
		t.Fatalf("the cloud holds %+v", ins)
	}

	// A second instance; list by name and in pages.
	p2 := e.instancePrototype("web-2", *im.ID, zone)
	p2.BootVolumeAttachment = &vpcv1.VolumeAttachmentPrototypeInstanceByImageContext{Volume: &vpcv1.VolumePrototypeInstanceByImageContext{
		Profile: &vpcv1.VolumeProfileIdentityByName{Name: core.StringPtr("general-purpose")}}}
	if _, _, err := e.vpc.CreateInstance(e.vpc.NewCreateInstanceOptions(p2)); err != nil {
		t.Fatal(err)
	}
	list, _, err := e.vpc.ListInstances(&vpcv1.ListInstancesOptions{Name: core.StringPtr("web-1")})
	if err != nil || len(list.Instances) != 1 || *list.Instances[0].ID != *in.ID || *list.TotalCount != 1 {
		t.Fatalf("ListInstances by name: %+v, %v", list, err)
	}
	page, _, err := e.vpc.ListInstances(&vpcv1.ListInstancesOptions{Limit: core.Int64Ptr(1)})
	if err != nil || len(page.Instances) != 1 || page.Next == nil || *page.TotalCount != 2 {
		t.Fatalf("first page: %+v, %v", page, err)
	}
	start, _ := core.GetQueryParam(page.Next.Href, "start")
	page2, _, err := e.vpc.ListInstances(&vpcv1.ListInstancesOptions{Limit: core.Int64Ptr(1), Start: start})
	if err != nil || len(page2.Instances) != 1 || *page2.Instances[0].Name != "web-2" || page2.Next != nil {
		t.Fatalf("second page: %+v, %v", page2, err)
	}

	resp, err = e.vpc.DeleteInstance(e.vpc.NewDeleteInstanceOptions(*in.ID))
	if err != nil || resp.StatusCode != http.StatusNoContent {
		t.Fatalf("DeleteInstance: %v, %v", resp, err)
	}
	if g, _, err := e.vpc.GetInstance(e.vpc.NewGetInstanceOptions(*in.ID)); err != nil || *g.Status != vpcv1.InstanceStatusDeletingConst {
		t.Fatalf("after delete: %v", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, resp, err := e.vpc.GetInstance(e.vpc.NewGetInstanceOptions(*in.ID))
		if err != nil {
			if resp == nil || resp.StatusCode != http.StatusNotFound || vpcCode(resp) != "instance_not_found" {
				t.Fatalf("GetInstance of a deleted instance: %v", err)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the instance is still there 5 s after its delete")
		}
		time.Sleep(5 * time.Millisecond)
	}

	var creates, deletes int
	for _, ev := range e.cloud.Events() {
		switch {
		case ev.Action == "is.instance.instance.create" && ev.Target.Name == "web-1":
			creates++
			if ev.Outcome != "success" || ev.Target.ID != *in.CRN || ev.Target.TypeURI != "is.instance/instance" ||
				ev.Initiator.Name != "owner@example.com" || ev.RequestData["boot_volume_encryption_key"] != e.key.CRN {
				t.Fatalf("create event %+v", ev)
			}
		case ev.Action == "is.instance.instance.delete":
			deletes++
			if ev.Target.ID != *in.CRN {
				t.Fatalf("delete event %+v", ev)
			}
		}
	}
	if creates != 1 || deletes != 1 {
		t.Fatalf("%d create and %d delete events of web-1; want 1 and 1", creates, deletes)
	}
}

// TestVPCInstanceKeyChecks: without server-protect → kms the encrypted
// boot volume cannot be made; the instance fails with a status reason.
func TestVPCInstanceKeyChecks(t *testing.T) {
	e := newVPCEnv(t, e2etest.Options{TimeScale: 0.0002})
	e.authorize(t, true, true)
	im := e.availableImage(t)
	in, _, err := e.vpc.CreateInstance(e.vpc.NewCreateInstanceOptions(e.instancePrototype("db-1", *im.ID, e.cloud.Region+"-1")))
	if err != nil {
		t.Fatal(err)
	}
	got, _ := e.waitInstance(t, *in.ID)
	if *got.Status != vpcv1.InstanceStatusFailedConst || len(got.StatusReasons) != 1 || *got.StatusReasons[0].Code != "cannot_start_storage" ||
		!strings.Contains(*got.StatusReasons[0].Message, "server-protect") || got.StatusReasons[0].MoreInfo == nil {
		t.Fatalf("instance without server-protect authorization: %s %+v", *got.Status, got.StatusReasons)
	}
	// Authorized, but the root key is disabled.
	if _, _, err := e.iam.EnsureAuthorization(context.Background(), iam.ServerProtectToKMS(e.cloud.KPInstanceID, false)); err != nil {
		t.Fatal(err)
	}
	if err := e.cloud.SetKeyState(e.key.ID, e2etest.KeySuspended); err != nil {
		t.Fatal(err)
	}
	in2, _, err := e.vpc.CreateInstance(e.vpc.NewCreateInstanceOptions(e.instancePrototype("db-2", *im.ID, e.cloud.Region+"-1")))
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := e.waitInstance(t, *in2.ID); *got.Status != vpcv1.InstanceStatusFailedConst || !strings.Contains(*got.StatusReasons[0].Message, "suspended") {
		t.Fatalf("instance with a disabled key: %s %+v", *got.Status, got.StatusReasons)
	}
}

// TestVPCInstanceRefused: requests the cloud refuses at once, each with
// its error code, a failure event, and no instance.
func TestVPCInstanceRefused(t *testing.T) {
	e := newVPCEnv(t, e2etest.Options{TimeScale: 0.0002})
	e.authorize(t, true, true)
	im := e.availableImage(t)
	pending := e.create(t, e.prototype("pending-image", e.uri))
	zone := e.cloud.Region + "-1"
	cases := []struct {
		name   string
		change func(p *vpcv1.InstancePrototypeInstanceByImage)
		status int
		code   string
	}{
		{"image pending", func(p *vpcv1.InstancePrototypeInstanceByImage) { p.Image = &vpcv1.ImageIdentityByID{ID: pending.ID} }, 400, "image_not_available"},
		{"image missing", func(p *vpcv1.InstancePrototypeInstanceByImage) {
			p.Image = &vpcv1.ImageIdentityByID{ID: core.StringPtr("r006-nope")}
		}, 400, "image_not_found"},
		{"zone of another region", func(p *vpcv1.InstancePrototypeInstanceByImage) {
			p.Zone = &vpcv1.ZoneIdentityByName{Name: core.StringPtr("eu-de-1")}
		}, 400, "validation_invalid_zone"},
		{"subnet of another zone", func(p *vpcv1.InstancePrototypeInstanceByImage) {
			p.PrimaryNetworkInterface.Subnet = &vpcv1.SubnetIdentityByID{ID: core.StringPtr(e.cloud.VPCNetwork().Subnets[e.cloud.Region+"-3"])}
		}, 400, "subnet_not_found"},
		{"no network interface", func(p *vpcv1.InstancePrototypeInstanceByImage) { p.PrimaryNetworkInterface = nil }, 400, "validation_required_field_missing"},
		{"unknown vpc", func(p *vpcv1.InstancePrototypeInstanceByImage) {
			p.VPC = &vpcv1.VPCIdentityByID{ID: core.StringPtr("r006-other")}
		}, 400, "vpc_not_found"},
		{"bad profile", func(p *vpcv1.InstancePrototypeInstanceByImage) {
			p.Profile = &vpcv1.InstanceProfileIdentityByName{Name: core.StringPtr("huge")}
		}, 400, "instance_profile_not_found"},
		{"bad name", func(p *vpcv1.InstancePrototypeInstanceByImage) { p.Name = core.StringPtr("Web_1") }, 400, "validation_invalid_name"},
		{"bad volume key", func(p *vpcv1.InstancePrototypeInstanceByImage) {
			p.BootVolumeAttachment = &vpcv1.VolumeAttachmentPrototypeInstanceByImageContext{Volume: &vpcv1.VolumePrototypeInstanceByImageContext{
				Profile: &vpcv1.VolumeProfileIdentityByName{Name: core.StringPtr("general-purpose")}, EncryptionKey: &vpcv1.EncryptionKeyIdentityByCRN{CRN: core.StringPtr("crn:nope")}}}
		}, 400, "validation_invalid_encryption_key"},
	}
	for _, tc := range cases {
		p := e.instancePrototype("web-1", *im.ID, zone)
		tc.change(p)
		_, resp, err := e.vpc.CreateInstance(e.vpc.NewCreateInstanceOptions(p))
		if err == nil || resp == nil || resp.StatusCode != tc.status || vpcCode(resp) != tc.code {
			t.Errorf("%s: %v; want %d %s", tc.name, err, tc.status, tc.code)
		}
	}
	failures := 0
	for _, ev := range e.cloud.Events() {
		if ev.Action == "is.instance.instance.create" && ev.Outcome == "failure" {
			failures++
		}
	}
	if failures != len(cases) || len(e.cloud.VPCInstances()) != 0 {
		t.Fatalf("%d failure events and %d instances; want %d and 0", failures, len(e.cloud.VPCInstances()), len(cases))
	}

	// The name is unique in the region: 409.
	if _, _, err := e.vpc.CreateInstance(e.vpc.NewCreateInstanceOptions(e.instancePrototype("web-1", *im.ID, zone))); err != nil {
		t.Fatal(err)
	}
	_, resp, err := e.vpc.CreateInstance(e.vpc.NewCreateInstanceOptions(e.instancePrototype("web-1", *im.ID, zone)))
	if err == nil || resp.StatusCode != http.StatusConflict || vpcCode(resp) != "instance_name_duplicate" {
		t.Fatalf("duplicate name: %v", err)
	}

	// Injected faults apply per operation; a lost answer still created the instance.
	e.cloud.InjectFault(e2etest.ServiceVPC, "CreateInstance", e2etest.Fault{Status: http.StatusServiceUnavailable})
	if _, resp, err := e.vpc.CreateInstance(e.vpc.NewCreateInstanceOptions(e.instancePrototype("web-2", *im.ID, zone))); err == nil || resp.StatusCode != 503 {
		t.Fatalf("injected 503: %v", err)
	}
	e.cloud.InjectFault(e2etest.ServiceVPC, "CreateInstance", e2etest.Fault{Status: http.StatusGatewayTimeout, AfterHandling: true})
	if _, resp, err := e.vpc.CreateInstance(e.vpc.NewCreateInstanceOptions(e.instancePrototype("web-3", *im.ID, zone))); err == nil || resp.StatusCode != 504 {
		t.Fatalf("injected 504 after handling: %v", err)
	}
	var names []string
	for _, in := range e.cloud.VPCInstances() {
		names = append(names, in.Name)
	}
	if !slices.Equal(names, []string{"web-1", "web-3"}) {
		t.Fatalf("instances %v; want web-1 and web-3 (the 503 made none)", names)
	}

	// Bearer authorization like the rest of the VPC API.
	anon := vpcClient(t, e.cloud, &core.BearerTokenAuthenticator{BearerToken: "not-a-token"})
	if _, resp, err := anon.ListInstances(&vpcv1.ListInstancesOptions{}); err == nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("bad token: %v", err)
	}
	for _, opts := range []*vpcv1.ListInstancesOptions{{Limit: core.Int64Ptr(0)}, {Limit: core.Int64Ptr(101)}, {Start: core.StringPtr("x")}} {
		if _, resp, err := e.vpc.ListInstances(opts); err == nil || resp.StatusCode != http.StatusBadRequest || !strings.HasPrefix(vpcCode(resp), "validation_invalid_") {
			t.Fatalf("bad page parameters %+v: %v", opts, err)
		}
	}
	r, err := http.Get(e.cloud.VPCURL + "/instances")
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != http.StatusBadRequest {
		t.Fatalf("no version parameter: HTTP %d", r.StatusCode)
	}
	if resp, err := e.vpc.DeleteInstance(e.vpc.NewDeleteInstanceOptions("0717_nope")); err == nil || resp.StatusCode != http.StatusNotFound || vpcCode(resp) != "instance_not_found" {
		t.Fatalf("delete of a missing instance: %v", err)
	}
}
