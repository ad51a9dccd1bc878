package e2e_test

import (
	"bytes"
	"context"
	"fmt"
	"log"
	"time"

	"github.com/e2eimage/e2e"
	"github.com/e2eimage/e2e/e2etest"
)

// ExamplePipeline_Run runs the whole workflow against the emulated IBM
// Cloud: against IBM Cloud, leave Endpoints empty and set real IDs.
func ExamplePipeline_Run() {
	cloud, err := e2etest.Start()
	if err != nil {
		log.Fatal(err)
	}
	defer cloud.Close()

	cfg := e2e.Config{
		Region: cloud.Region,
		APIKey: cloud.APIKey,
		Endpoints: e2e.Endpoints{IAM: cloud.IAMURL, KMS: cloud.KMSURL, COS: cloud.COSURL,
			SoftLayer: cloud.SoftLayerURL, VPC: cloud.VPCURL},
		KMS:    e2e.KMSConfig{InstanceID: cloud.KPInstanceID, RootKeyName: "example-root-key"},
		COS:    e2e.COSConfig{InstanceID: cloud.COSInstanceID, Bucket: "example-images", PathStyle: true},
		Image:  e2e.ImageConfig{Name: "example-image", OS: "UBUNTU_22_64"},
		Server: &e2e.ServerConfig{Hostname: "example-vsi", Domain: "example.com", Datacenter: "dal10"},
		// Fast settings for the emulator; the defaults suit IBM Cloud.
		Encrypt:      e2e.EncryptConfig{IterTime: e2e.Duration(10 * time.Millisecond)},
		PollInterval: e2e.Duration(20 * time.Millisecond),
	}
	p, err := e2e.New(cfg, e2e.WithStateStore(&e2e.MemoryStore{}), e2e.WithProgress(func(u e2e.Update) {
		if u.Finished {
			fmt.Println("done:", u.Stage)
		}
	}))
	if err != nil {
		log.Fatal(err)
	}
	img := bytes.Repeat([]byte("a plain disk sector of 512 bytes."), 64<<10) // ~2 MiB
	img = img[:len(img)/512*512]
	res, err := p.Run(context.Background(), e2e.FromReader(bytes.NewReader(img), int64(len(img))))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("object:", res.State.ObjectURI)
	fmt.Println("server:", res.Server.Hostname+"."+res.Server.Domain)
	// Output:
	// done: root-key
	// done: data-key
	// done: authorize
	// done: bucket
	// done: encrypt-upload
	// done: verify
	// done: import
	// done: order
	// object: cos://us-south/example-images/example-image.luks
	// server: example-vsi.example.com
}
