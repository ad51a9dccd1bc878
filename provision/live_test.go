package provision_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/e2eimage/e2e/provision"
)

// TestLiveOrder verifies (and with E2E_LIVE_ORDER=1 places, waits for and
// cancels — which costs money) an order on IBM Cloud. It runs only when
// these are set:
//
//	IBMCLOUD_API_KEY        API key of the account
//	E2E_LIVE_TEMPLATE_GUID  global identifier of an image template
//	E2E_LIVE_DATACENTER     optional, default dal10
//	E2E_LIVE_ORDER          optional, "1" to really order
//	SL_ENDPOINT_URL         optional, default https://api.softlayer.com/rest/v3.1
func TestLiveOrder(t *testing.T) {
	key, guid := os.Getenv("IBMCLOUD_API_KEY"), os.Getenv("E2E_LIVE_TEMPLATE_GUID")
	if key == "" || guid == "" {
		t.Skip("live test: set IBMCLOUD_API_KEY and E2E_LIVE_TEMPLATE_GUID to run it")
	}
	dc := os.Getenv("E2E_LIVE_DATACENTER")
	if dc == "" {
		dc = "dal10"
	}
	vs, err := provision.NewClient(provision.Config{Endpoint: os.Getenv("SL_ENDPOINT_URL"), APIKey: key})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	o := provision.Order{Hostname: "e2e-live-" + time.Now().UTC().Format("150405"), Domain: "example.com", Datacenter: dc,
		Flavor: "B1_1X2X25", TemplateGUID: guid, Tags: []string{"e2e-live"}}
	q, err := vs.Verify(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("quote: %.3f/hour, %d prices", q.HourlyCost, len(q.Prices))
	if os.Getenv("E2E_LIVE_ORDER") != "1" {
		return
	}
	srv, err := vs.Order(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := vs.Cancel(context.Background(), srv.ID); err != nil {
			t.Errorf("cancel server %d: %v", srv.ID, err)
		}
	})
	srv, err = vs.Wait(ctx, srv.ID, provision.WithProgress(func(p provision.Progress) {
		t.Logf("%v: %s %s", p.Elapsed.Round(time.Second), p.PowerState, p.Transaction)
	}))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("server %d ready: %s %s", srv.ID, srv.PublicIP, srv.PrivateIP)
}
