package provision_test

import (
	"bytes"
	"context"
	"fmt"
	"log"
	"time"

	"github.com/e2eimage/e2e/disk"
	"github.com/e2eimage/e2e/e2etest"
	"github.com/e2eimage/e2e/iam"
	"github.com/e2eimage/e2e/image"
	"github.com/e2eimage/e2e/keys"
	"github.com/e2eimage/e2e/luks"
	"github.com/e2eimage/e2e/provision"
)

// Create a VPC instance from an encrypted custom image and wait until it
// runs, against the emulated cloud. The boot volume is encrypted with the
// image's root key, which Cloud Block Storage (server-protect) must be
// authorized to read.
func ExampleVPCClient_CreateInstance() {
	cloud, err := e2etest.Start()
	if err != nil {
		log.Fatal(err)
	}
	defer cloud.Close()
	ctx := context.Background()
	auth, err := iam.NewTokenSource(cloud.APIKey, cloud.IAMURL)
	if err != nil {
		log.Fatal(err)
	}
	imageID, rootKeyCRN := encryptedVPCImage(ctx, cloud, auth)

	ic, err := iam.NewClient(iam.Config{Authenticator: auth, URL: cloud.IAMURL})
	if err != nil {
		log.Fatal(err)
	}
	if _, _, err := ic.EnsureAuthorization(ctx, iam.ServerProtectToKMS(cloud.KPInstanceID, false)); err != nil {
		log.Fatal(err)
	}

	vpc, err := provision.NewVPCClient(provision.VPCConfig{Endpoint: cloud.VPCURL, Region: cloud.Region, Authenticator: auth})
	if err != nil {
		log.Fatal(err)
	}
	network := cloud.VPCNetwork()
	in, err := vpc.CreateInstance(ctx, provision.VPCInstanceRequest{
		Name: "web-1", ImageID: imageID, Profile: "bx2-2x8", Zone: "us-south-1",
		SubnetID: network.Subnets["us-south-1"], VPCID: network.VPCID,
	})
	if err != nil {
		log.Fatal(err)
	}
	in, err = vpc.WaitRunning(ctx, in.ID, provision.WithPollInterval(20*time.Millisecond))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(in.Name, in.Status, in.Profile, in.Zone)
	fmt.Println("boot volume key is the image's:", cloud.VPCInstances()[0].BootVolumeEncryptionKeyCRN == rootKeyCRN)
	// Output:
	// web-1 running bx2-2x8 us-south-1
	// boot volume key is the image's: true
}

// encryptedVPCImage imports a small qcow2+LUKS image whose passphrase Key
// Protect wraps, as image.ExampleVPCClient_ImportEncrypted shows, and
// returns its ID and root key CRN.
func encryptedVPCImage(ctx context.Context, cloud *e2etest.Cloud, auth *iam.TokenSource) (string, string) {
	kc, err := keys.NewClient(keys.Config{Endpoint: cloud.KMSURL, InstanceID: cloud.KPInstanceID, Authenticator: auth})
	if err != nil {
		log.Fatal(err)
	}
	root, err := kc.CreateRootKey(ctx, "vpc-images")
	if err != nil {
		log.Fatal(err)
	}
	dek, err := keys.NewPassphraseDEK(64)
	if err != nil {
		log.Fatal(err)
	}
	defer dek.Destroy()
	wdek, err := kc.WrapDEK(ctx, root.ID, dek)
	if err != nil {
		log.Fatal(err)
	}
	pass, err := dek.QCOW2Passphrase()
	if err != nil {
		log.Fatal(err)
	}
	src, err := disk.Open(bytes.NewReader(make([]byte, 1<<20)), 1<<20)
	if err != nil {
		log.Fatal(err)
	}
	var qcow2 bytes.Buffer
	_, err = disk.WriteQCOW2LUKS(ctx, &qcow2, src, pass, disk.WithLUKSOptions(luks.WithIterations(1000)))
	clear(pass)
	if err != nil {
		log.Fatal(err)
	}
	if err := cloud.CreateBucket("vpc-images", ""); err != nil {
		log.Fatal(err)
	}
	if err := cloud.PutObject("vpc-images", "ubuntu.qcow2", qcow2.Bytes()); err != nil {
		log.Fatal(err)
	}
	ic, err := iam.NewClient(iam.Config{Authenticator: auth, URL: cloud.IAMURL})
	if err != nil {
		log.Fatal(err)
	}
	for _, a := range []iam.Authorization{
		iam.ImageToCOS(cloud.COSInstanceID),
		{Source: "is", SourceResourceType: "image", Target: "kms", TargetInstance: cloud.KPInstanceID},
	} {
		if _, _, err := ic.EnsureAuthorization(ctx, a); err != nil {
			log.Fatal(err)
		}
	}
	images, err := image.NewVPCClient(image.VPCConfig{Endpoint: cloud.VPCURL, Region: cloud.Region, Authenticator: auth})
	if err != nil {
		log.Fatal(err)
	}
	im, err := images.ImportEncrypted(ctx, image.VPCImportRequest{
		Name: "encrypted-ubuntu", URI: "cos://us-south/vpc-images/ubuntu.qcow2", OSName: "ubuntu-24-04-amd64",
		RootKeyCRN: root.CRN, WrappedDEK: wdek.String(),
	})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := images.Wait(ctx, im.ID, image.WithPollInterval(50*time.Millisecond)); err != nil {
		log.Fatal(err)
	}
	return im.ID, root.CRN
}
