package storage_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"strings"

	"github.com/e2eimage/e2e/e2etest"
	"github.com/e2eimage/e2e/storage"
)

func ExampleParseURI() {
	u, err := storage.ParseURI("cos://us-south/images/ubuntu-22.04.vhd-0.vhd")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(u.Region, u.Bucket, u.Object)
	_, err = storage.ParseURI("cos://us-south/Images/x")
	fmt.Println(err)
	// Output:
	// us-south images ubuntu-22.04.vhd-0.vhd
	// storage: invalid cos:// URI "cos://us-south/Images/x": bucket name "Images": only lowercase letters, digits, dots and hyphens
}

// Upload a stream of unknown size to a regional bucket, here in the
// emulated cloud; against IBM Cloud, use its endpoint and your API key.
func ExampleClient_Upload() {
	cloud, err := e2etest.Start()
	if err != nil {
		log.Fatal(err)
	}
	defer cloud.Close()

	ctx := context.Background()
	cl, err := storage.NewClient(storage.Config{
		Endpoint:          cloud.COSURL,
		Region:            cloud.Region,
		APIKey:            cloud.APIKey,
		IAMURL:            cloud.IAMURL,
		ServiceInstanceID: cloud.COSInstanceID,
		PathStyle:         true,
	})
	if err != nil {
		log.Fatal(err)
	}
	if err := cl.EnsureBucket(ctx, "images"); err != nil {
		log.Fatal(err)
	}
	res, err := cl.Upload(ctx, "images", "disk.img", strings.NewReader("an encrypted image"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.URI, res.Size)
	fmt.Printf("sha256 %x…\n", res.SHA256[:4])
	// Output:
	// cos://us-south/images/disk.img 18
	// sha256 94ba2144…
}

// An ObjectWriter lets a stream encoder write straight into COS.
func ExampleClient_NewObjectWriter() {
	cloud, err := e2etest.Start()
	if err != nil {
		log.Fatal(err)
	}
	defer cloud.Close()

	ctx := context.Background()
	cl, err := storage.NewClient(storage.Config{Endpoint: cloud.COSURL, Region: cloud.Region, PathStyle: true,
		AccessKeyID: cloud.HMACAccessKeyID, SecretAccessKey: cloud.HMACSecretAccessKey})
	if err != nil {
		log.Fatal(err)
	}
	if err := cl.EnsureBucket(ctx, "images"); err != nil {
		log.Fatal(err)
	}
	w := cl.NewObjectWriter(ctx, "images", "disk.img")
	// e.g. luks.NewWriter(w, …) writes here; any io.Writer use works.
	if _, err := io.WriteString(w, "sector data"); err != nil {
		log.Fatal(err)
	}
	if err := w.Close(); err != nil {
		log.Fatal(err)
	}
	fmt.Println(w.Result().URI, w.Result().Size)

	r, err := cl.NewReaderAt(ctx, "images", "disk.img")
	if err != nil {
		log.Fatal(err)
	}
	defer r.Close()
	buf := make([]byte, 4)
	if _, err := r.ReadAt(buf, 7); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s\n", buf)
	// Output:
	// cos://us-south/images/disk.img 11
	// data
}
