package image_test

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
)

// Encrypt a disk as qcow2+LUKS under a passphrase that Key Protect wraps,
// upload it, authorize the Image Service for VPC, import it as a VPC custom
// image and wait until it is available, all against the emulated cloud.
func ExampleVPCClient_ImportEncrypted() {
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

	// A root key, and a DEK that is itself the passphrase text.
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

	// Encrypt a 1 MiB disk (a fast KDF for the example) and upload it.
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

	// The Image Service for VPC reads the object and the key.
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

	vpc, err := image.NewVPCClient(image.VPCConfig{Endpoint: cloud.VPCURL, Region: cloud.Region, Authenticator: auth})
	if err != nil {
		log.Fatal(err)
	}
	im, err := vpc.ImportEncrypted(ctx, image.VPCImportRequest{
		Name: "encrypted-ubuntu", URI: "cos://us-south/vpc-images/ubuntu.qcow2", OSName: "ubuntu-24-04-amd64",
		RootKeyCRN: root.CRN, WrappedDEK: wdek.String(),
	})
	if err != nil {
		log.Fatal(err)
	}
	im, err = vpc.Wait(ctx, im.ID, image.WithPollInterval(50*time.Millisecond))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(im.Name, im.Status, im.Encryption)
	// Output: encrypted-ubuntu available user_managed
}
