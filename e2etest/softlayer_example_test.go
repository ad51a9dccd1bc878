package e2etest_test

import (
	"fmt"
	"log"

	"github.com/softlayer/softlayer-go/datatypes"
	"github.com/softlayer/softlayer-go/services"
	"github.com/softlayer/softlayer-go/session"
	"github.com/softlayer/softlayer-go/sl"

	"github.com/e2eimage/e2e/e2etest"
)

// Point the official softlayer-go client at the emulated SoftLayer API and
// inspect what it did from Go.
func ExampleCloud_Guests() {
	cloud, err := e2etest.Start()
	if err != nil {
		log.Fatal(err)
	}
	defer cloud.Close()
	sess := &session.Session{Endpoint: cloud.SoftLayerURL, UserName: "apikey", APIKey: cloud.APIKey}

	images, err := services.GetVirtualGuestBlockDeviceTemplateGroupService(sess).Mask("globalIdentifier").GetPublicImages()
	if err != nil {
		log.Fatal(err)
	}
	_, err = services.GetVirtualGuestService(sess).CreateObject(&datatypes.Virtual_Guest{
		Hostname: sl.String("db1"), Domain: sl.String("example.com"), StartCpus: sl.Int(2), MaxMemory: sl.Int(4096),
		HourlyBillingFlag: sl.Bool(true), Datacenter: &datatypes.Location{Name: sl.String("dal13")},
		BlockDeviceTemplateGroup: &datatypes.Virtual_Guest_Block_Device_Template_Group{GlobalIdentifier: images[0].GlobalIdentifier},
	})
	if err != nil {
		log.Fatal(err)
	}
	for _, g := range cloud.Guests() {
		fmt.Println(g.Hostname, g.Datacenter, g.CPUs, g.MemoryMB, g.ProvisionDate.IsZero())
	}
	// Output: db1 dal13 2 4096 true
}
