package image_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"strings"
	"time"

	"github.com/e2eimage/e2e/e2etest"
	"github.com/e2eimage/e2e/image"
)

// Import an image from COS into the emulated cloud and wait for the template.
func Example() {
	cloud, err := e2etest.Start()
	if err != nil {
		log.Fatal(err)
	}
	defer cloud.Close()
	if err := cloud.CreateBucket("images", ""); err != nil {
		log.Fatal(err)
	}
	if err := cloud.PutObject("images", "debian.vhd", make([]byte, 1<<20)); err != nil {
		log.Fatal(err)
	}

	c, err := image.NewClient(image.Config{Endpoint: cloud.SoftLayerURL, APIKey: cloud.APIKey})
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	tmpl, err := c.Import(ctx, image.ImportRequest{
		Name: "debian", OSReferenceCode: "DEBIAN_12_64", CloudInit: true,
		URI: "cos://us-south/images/debian.vhd", IBMAPIKey: cloud.APIKey,
	})
	if err != nil {
		log.Fatal(err)
	}
	tmpl, err = c.Wait(ctx, tmpl.ID, image.WithPollInterval(50*time.Millisecond))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(tmpl.Name, tmpl.Status.KeyName, tmpl.Datacenters)
	// Output: debian ACTIVE [dal10]
}

// A failed import is an *ImportError carrying the template ID and IBM's message.
func ExampleImportError() {
	cloud, err := e2etest.Start()
	if err != nil {
		log.Fatal(err)
	}
	defer cloud.Close()
	c, err := image.NewClient(image.Config{Endpoint: cloud.SoftLayerURL, APIKey: cloud.APIKey})
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	tmpl, err := c.Import(ctx, image.ImportRequest{
		Name: "missing", OSReferenceCode: "DEBIAN_12_64",
		URI: "cos://us-south/no-such-bucket/disk.vhd", IBMAPIKey: cloud.APIKey,
	})
	if err != nil {
		log.Fatal(err)
	}
	_, err = c.Wait(ctx, tmpl.ID, image.WithPollInterval(50*time.Millisecond))
	var ie *image.ImportError
	if errors.As(err, &ie) {
		fmt.Println(ie.TemplateID == tmpl.ID, ie.Status, strings.Contains(ie.Message, "could not be read"))
	}
	// Output: true ERROR true
}

func ExampleParseCOSURI() {
	u, err := image.ParseCOSURI("cos://us-south/images/ubuntu.vhd-0.vhd")
	fmt.Println(u.Region, u.Bucket, u.Object, err)
	_, err = image.ParseCOSURI("s3://us-south/images/ubuntu.vhd")
	fmt.Println(errors.Is(err, image.ErrInvalidRequest))
	// Output:
	// us-south images ubuntu.vhd-0.vhd <nil>
	// true
}
