package provision_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/e2eimage/e2e/e2etest"
	"github.com/e2eimage/e2e/image"
	"github.com/e2eimage/e2e/provision"
)

// Order a server from a template in the emulated cloud, wait until it is
// ready, then cancel it.
func Example() {
	cloud, err := e2etest.Start()
	if err != nil {
		log.Fatal(err)
	}
	defer cloud.Close()
	ctx := context.Background()

	// A template to order from.
	if err := cloud.CreateBucket("images", ""); err != nil {
		log.Fatal(err)
	}
	if err := cloud.PutObject("images", "ubuntu.vhd", make([]byte, 1<<20)); err != nil {
		log.Fatal(err)
	}
	images, err := image.NewClient(image.Config{Endpoint: cloud.SoftLayerURL, APIKey: cloud.APIKey})
	if err != nil {
		log.Fatal(err)
	}
	tmpl, err := images.Import(ctx, image.ImportRequest{Name: "ubuntu", OSReferenceCode: "UBUNTU_22_64",
		URI: "cos://us-south/images/ubuntu.vhd", IBMAPIKey: cloud.APIKey})
	if err != nil {
		log.Fatal(err)
	}
	if tmpl, err = images.Wait(ctx, tmpl.ID, image.WithPollInterval(50*time.Millisecond)); err != nil {
		log.Fatal(err)
	}

	vs, err := provision.NewClient(provision.Config{Endpoint: cloud.SoftLayerURL, APIKey: cloud.APIKey})
	if err != nil {
		log.Fatal(err)
	}
	order := provision.Order{Hostname: "web1", Domain: "example.com", Datacenter: "dal10",
		Flavor: "B1_2X4X25", TemplateGUID: tmpl.GlobalIdentifier, Tags: []string{"demo"}}
	srv, err := vs.Order(ctx, order)
	if err != nil {
		log.Fatal(err)
	}
	srv, err = vs.Wait(ctx, srv.ID, provision.WithPollInterval(50*time.Millisecond))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(srv.FQDN(), srv.PowerState, srv.CPUs, srv.MemoryMB, srv.PublicIP != "")

	// Ordering again finds the same server instead of buying another.
	again, err := vs.Order(ctx, order)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(again.ID == srv.ID, len(cloud.Guests()))

	if err := vs.Cancel(ctx, srv.ID); err != nil {
		log.Fatal(err)
	}
	// Output:
	// web1.example.com RUNNING 2 4096 true
	// true 1
}
