package e2etest_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/IBM/go-sdk-core/v5/core"
	"github.com/IBM/vpc-go-sdk/vpcv1"

	"github.com/e2eimage/e2e/e2etest"
	"github.com/e2eimage/e2e/iam"
)

// FuzzVPCCreateInstance posts arbitrary instance prototypes: the emulator
// answers 201 with a pending instance or 4xx in VPC's error envelope,
// never 5xx or a panic.
func FuzzVPCCreateInstance(f *testing.F) {
	cloud, err := e2etest.Start(e2etest.Options{TimeScale: 0.0001})
	if err != nil {
		f.Fatal(err)
	}
	defer cloud.Close()
	imageID := plainVPCImage(f, cloud)
	n := cloud.VPCNetwork()
	// Seeds: what vpcv1 sends, with and without a boot volume key.
	for i, key := range []string{"", "crn:v1:bluemix:public:kms:us-south:a/acct:inst:key:id"} {
		p := &vpcv1.InstancePrototypeInstanceByImage{
			Name:    core.StringPtr("seed-" + strings.Repeat("x", i+1)),
			Image:   &vpcv1.ImageIdentityByID{ID: core.StringPtr(imageID)},
			Profile: &vpcv1.InstanceProfileIdentityByName{Name: core.StringPtr("bx2-2x8")},
			Zone:    &vpcv1.ZoneIdentityByName{Name: core.StringPtr("us-south-1")},
			VPC:     &vpcv1.VPCIdentityByID{ID: core.StringPtr(n.VPCID)},
			Keys:    []vpcv1.KeyIdentityIntf{&vpcv1.KeyIdentityByID{ID: core.StringPtr("r006-k")}},
			PrimaryNetworkInterface: &vpcv1.NetworkInterfacePrototype{
				Subnet: &vpcv1.SubnetIdentityByID{ID: core.StringPtr(n.Subnets["us-south-1"])}},
			UserData: core.StringPtr("#cloud-config\n"),
		}
		if key != "" {
			p.BootVolumeAttachment = &vpcv1.VolumeAttachmentPrototypeInstanceByImageContext{Volume: &vpcv1.VolumePrototypeInstanceByImageContext{
				Profile: &vpcv1.VolumeProfileIdentityByName{Name: core.StringPtr("general-purpose")}, EncryptionKey: &vpcv1.EncryptionKeyIdentityByCRN{CRN: core.StringPtr(key)}}}
		}
		b, err := json.Marshal(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"image":{"id":"x"},"zone":{"name":"us-south-9"},"profile":{"name":"a1-1x1"}}`))
	f.Add([]byte(`{"primary_network_attachment":{},"boot_volume_attachment":{"volume":null}}`))
	f.Add([]byte(`null`))
	token := cloud.NewToken()
	f.Fuzz(func(t *testing.T, body []byte) {
		postVPCCreate(t, cloud.VPCURL+"/instances", token, "instance", body)
	})
}

// plainVPCImage imports an unencrypted image and returns its ID once available.
func plainVPCImage(tb testing.TB, cloud *e2etest.Cloud) string {
	tb.Helper()
	ctx := context.Background()
	if err := cloud.CreateBucket("plain", ""); err != nil {
		tb.Fatal(err)
	}
	if err := cloud.PutObject("plain", "disk.qcow2", make([]byte, 1<<20)); err != nil {
		tb.Fatal(err)
	}
	ic, err := iam.NewClient(iam.Config{APIKey: cloud.APIKey, IAMURL: cloud.IAMURL})
	if err != nil {
		tb.Fatal(err)
	}
	if _, _, err := ic.EnsureAuthorization(ctx, iam.ImageToCOS(cloud.COSInstanceID)); err != nil {
		tb.Fatal(err)
	}
	v, err := vpcv1.NewVpcV1(&vpcv1.VpcV1Options{URL: cloud.VPCURL, Authenticator: &core.IamAuthenticator{ApiKey: cloud.APIKey, URL: cloud.IAMURL}})
	if err != nil {
		tb.Fatal(err)
	}
	im, _, err := v.CreateImage(v.NewCreateImageOptions(&vpcv1.ImagePrototypeImageByFile{
		Name: core.StringPtr("plain"), File: &vpcv1.ImageFilePrototype{Href: core.StringPtr("cos://us-south/plain/disk.qcow2")},
		OperatingSystem: &vpcv1.OperatingSystemIdentityByName{Name: core.StringPtr("debian-12-amd64")}}))
	if err != nil {
		tb.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		got, _, err := v.GetImage(v.NewGetImageOptions(*im.ID))
		if err != nil {
			tb.Fatal(err)
		}
		if *got.Status == vpcv1.ImageStatusAvailableConst {
			return *im.ID
		}
		if *got.Status != vpcv1.ImageStatusPendingConst || time.Now().After(deadline) {
			tb.Fatalf("plain import is %s: %+v", *got.Status, got.StatusReasons)
		}
	}
}
