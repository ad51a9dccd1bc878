package provision_test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/e2eimage/e2e/e2etest"
	"github.com/e2eimage/e2e/image"
	"github.com/e2eimage/e2e/provision"
)

const opPlace = "SoftLayer_Product_Order::placeOrder"

type fixture struct {
	cloud  *e2etest.Cloud
	images *image.Client
	vs     *provision.Client
	guid   string
}

// newFixture starts a cloud and imports an (unencrypted) template to order from.
func newFixture(t *testing.T, cfg ...provision.Config) *fixture {
	t.Helper()
	cloud, err := e2etest.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cloud.Close() })
	images, err := image.NewClient(image.Config{Endpoint: cloud.SoftLayerURL, APIKey: cloud.APIKey, RetryWait: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	c := provision.Config{RetryWait: time.Millisecond}
	if len(cfg) > 0 {
		c = cfg[0]
	}
	c.Endpoint, c.APIKey = cloud.SoftLayerURL, cloud.APIKey
	vs, err := provision.NewClient(c)
	if err != nil {
		t.Fatal(err)
	}
	if err := cloud.CreateBucket("images", ""); err != nil {
		t.Fatal(err)
	}
	data := make([]byte, 4096)
	_, _ = rand.Read(data)
	if err := cloud.PutObject("images", "plain.vhd", data); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	tmpl, err := images.Import(ctx, image.ImportRequest{Name: "base", OSReferenceCode: "UBUNTU_22_64",
		URI: "cos://" + cloud.Region + "/images/plain.vhd", IBMAPIKey: cloud.APIKey})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := images.Wait(ctx, tmpl.ID, image.WithPollInterval(20*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	return &fixture{cloud: cloud, images: images, vs: vs, guid: tmpl.GlobalIdentifier}
}

func (f *fixture) order(host string) provision.Order {
	return provision.Order{Hostname: host, Domain: "example.com", Datacenter: "dal10", CPUs: 2, MemoryMB: 4096,
		TemplateGUID: f.guid, Tags: []string{"e2e-test"}, UserData: "#cloud-config\n", SSHKeyIDs: []int{42}}
}

var fast = []provision.WaitOption{provision.WithPollInterval(20 * time.Millisecond), provision.WithMaxPollInterval(40 * time.Millisecond)}

func countEvents(c *e2etest.Cloud, action string) int {
	n := 0
	for _, ev := range c.Events() {
		if ev.Action == action {
			n++
		}
	}
	return n
}

func TestOrderWaitCaptureCancel(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	o := f.order("web1")
	q, err := f.vs.Verify(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	cats := map[string]bool{}
	for _, p := range q.Prices {
		cats[p.Category] = true
	}
	if q.HourlyCost <= 0 || q.MonthlyCost <= q.HourlyCost || !cats["guest_core"] || !cats["ram"] || !cats["port_speed"] {
		t.Fatalf("quote = %+v", q)
	}
	if n := len(f.cloud.Guests()); n != 0 {
		t.Fatalf("Verify ordered %d servers", n)
	}
	srv, err := f.vs.Order(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	if srv.ID == 0 || srv.FQDN() != "web1.example.com" || srv.Ready() {
		t.Fatalf("new server = %+v", srv)
	}
	var seen []provision.Progress
	ready, err := f.vs.Wait(ctx, srv.ID, append(fast, provision.WithProgress(func(p provision.Progress) { seen = append(seen, p) }))...)
	if err != nil {
		t.Fatal(err)
	}
	if !ready.Ready() || ready.PowerState != "RUNNING" || ready.PublicIP == "" || ready.PrivateIP == "" ||
		ready.TemplateGUID != f.guid || ready.Datacenter != "dal10" || ready.CPUs != 2 || ready.MemoryMB != 4096 {
		t.Fatalf("ready server = %+v", ready)
	}
	if len(seen) < 3 || seen[0].Transaction == "" || seen[len(seen)-1].Transaction != "" || seen[len(seen)-2].Transaction != "" {
		t.Fatalf("progress = %+v; want transactions, then two ready polls", seen)
	}
	guests := f.cloud.Guests()
	if len(guests) != 1 || guests[0].UserData != o.UserData || len(guests[0].SSHKeyIDs) != 1 || !hasTag(guests[0].Tags, o.Tag()) || !hasTag(guests[0].Tags, "e2e-test") {
		t.Fatalf("cloud guests = %+v", guests)
	}
	if countEvents(f.cloud, "audit-log.vsi.provision") != 1 {
		t.Fatal("want one audit-log.vsi.provision event")
	}

	captured, err := f.images.Capture(ctx, srv.ID, "web1-capture", "from web1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.images.Wait(ctx, captured.ID, image.WithPollInterval(20*time.Millisecond)); err != nil {
		t.Fatal(err)
	}

	if err := f.vs.Cancel(ctx, srv.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.vs.Get(ctx, srv.ID); !errors.Is(err, provision.ErrNotFound) {
		t.Fatalf("Get after Cancel: %v", err)
	}
	if err := f.vs.Cancel(ctx, srv.ID); !errors.Is(err, provision.ErrNotFound) {
		t.Fatalf("second Cancel: %v", err)
	}
	if countEvents(f.cloud, "audit-log.vsi.delete") != 1 {
		t.Fatal("want one audit-log.vsi.delete event")
	}
}

func hasTag(tags []string, want string) bool {
	for _, t := range tags {
		if t == want {
			return true
		}
	}
	return false
}

func TestOrderFlavorMonthlyPrivate(t *testing.T) {
	f := newFixture(t)
	o := f.order("db1")
	o.CPUs, o.MemoryMB, o.Flavor, o.Monthly, o.PrivateNetworkOnly, o.NetworkSpeed = 0, 0, "B1_4X8X100", true, true, 1000
	srv, err := f.vs.Order(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	srv, err = f.vs.Wait(context.Background(), srv.ID, fast...)
	if err != nil {
		t.Fatal(err)
	}
	g := f.cloud.Guests()[0]
	if srv.CPUs != 4 || srv.MemoryMB != 8192 || srv.Hourly || srv.PublicIP != "" || g.Flavor != "B1_4X8X100" || g.NetworkSpeed != 1000 {
		t.Fatalf("server = %+v, guest = %+v", srv, g)
	}
}

func TestOrderValidation(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	local := []struct {
		field string
		edit  func(o *provision.Order)
	}{
		{"Hostname", func(o *provision.Order) { o.Hostname = "" }},
		{"Hostname", func(o *provision.Order) { o.Hostname = "-web" }},
		{"Hostname", func(o *provision.Order) { o.Hostname = "web_1" }},
		{"Domain", func(o *provision.Order) { o.Domain = "localhost" }},
		{"Domain", func(o *provision.Order) { o.Domain = "example.c0m" }},
		{"Datacenter", func(o *provision.Order) { o.Datacenter = "Dallas" }},
		{"Flavor", func(o *provision.Order) { o.Flavor = "B1_2X4X25" }},
		{"CPUs", func(o *provision.Order) { o.CPUs = 0 }},
		{"MemoryMB", func(o *provision.Order) { o.MemoryMB = 512 }},
		{"NetworkSpeed", func(o *provision.Order) { o.NetworkSpeed = 250 }},
		{"TemplateGUID", func(o *provision.Order) { o.TemplateGUID = "not-a-guid" }},
		{"SSHKeyIDs", func(o *provision.Order) { o.SSHKeyIDs = []int{-1} }},
		{"Tags", func(o *provision.Order) { o.Tags = []string{"bad\"tag"} }},
		{"Tags", func(o *provision.Order) { o.Tags = []string{provision.IdempotencyTagPrefix + "x"} }},
		{"UserData", func(o *provision.Order) { o.UserData = strings.Repeat("x", 64<<10+1) }},
	}
	for _, tc := range local {
		o := f.order("web1")
		tc.edit(&o)
		_, err := f.vs.Order(ctx, o)
		var ve *provision.ValidationError
		if !errors.As(err, &ve) || !errors.Is(err, provision.ErrInvalidOrder) || ve.Field != tc.field {
			t.Errorf("%s: got %v", tc.field, err)
		}
	}
	remote := []struct {
		exception string
		edit      func(o *provision.Order)
	}{
		{"SoftLayer_Exception_Order_InvalidLocation", func(o *provision.Order) { o.Datacenter = "xyz99" }},
		{"SoftLayer_Exception_Order_Item_Invalid", func(o *provision.Order) { o.CPUs = 3 }},
		{"SoftLayer_Exception_Order_Item_Invalid", func(o *provision.Order) { o.MemoryMB = 3000 }},
		{"SoftLayer_Exception_Order_Item_Invalid", func(o *provision.Order) { o.CPUs, o.MemoryMB = 1, 65536 }},
		{"SoftLayer_Exception_Order_Item_Invalid", func(o *provision.Order) { o.CPUs, o.MemoryMB, o.Flavor = 0, 0, "Z1_1X1X1" }},
		{"SoftLayer_Exception_Public", func(o *provision.Order) { o.TemplateGUID = "0a1b2c3d-0000-4000-8000-000000000000" }},
	}
	for _, tc := range remote {
		o := f.order("web1")
		tc.edit(&o)
		_, err := f.vs.Order(ctx, o)
		var ae *provision.APIError
		if !errors.As(err, &ae) || ae.Exception != tc.exception || ae.Method != "generateOrderTemplate" {
			t.Errorf("%s: got %v", tc.exception, err)
		}
	}
	if n := len(f.cloud.Guests()); n != 0 {
		t.Fatalf("refused orders created %d servers", n)
	}
}

// TestRerunAfterLostAnswer cuts placeOrder's answer after the order went
// through: Order finds the server instead of failing, and a rerun (as after
// a crash) finds it again; nothing is ordered twice.
func TestRerunAfterLostAnswer(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.cloud.InjectFault(e2etest.ServiceSoftLayer, opPlace, e2etest.Fault{Drop: true, DropAfter: 8})
	first, err := f.vs.Order(ctx, f.order("web1"))
	if err != nil {
		t.Fatalf("Order with a lost answer: %v", err)
	}
	again, err := f.vs.Order(ctx, f.order("web1"))
	if err != nil {
		t.Fatal(err)
	}
	if again.ID != first.ID || len(f.cloud.Guests()) != 1 || countEvents(f.cloud, "audit-log.vsi.provision") != 1 {
		t.Fatalf("rerun ordered again: first %d, again %d, guests %d", first.ID, again.ID, len(f.cloud.Guests()))
	}
}

// TestRerunAfterCrashBeforeTagging: the order went through but the tag was
// never set; the rerun adopts the untagged server with that hostname.
func TestRerunAfterCrashBeforeTagging(t *testing.T) {
	f := newFixture(t, provision.Config{Retries: 1, RetryWait: time.Millisecond})
	ctx := context.Background()
	f.cloud.InjectFault(e2etest.ServiceSoftLayer, "SoftLayer_Virtual_Guest::setTags", e2etest.Fault{Status: http.StatusServiceUnavailable, Times: 2})
	if _, err := f.vs.Order(ctx, f.order("web1")); err == nil || !strings.Contains(err.Error(), "not tagged") {
		t.Fatalf("Order: %v, want a tagging error", err)
	}
	srv, err := f.vs.Order(ctx, f.order("web1"))
	if err != nil {
		t.Fatal(err)
	}
	g := f.cloud.Guests()
	if len(g) != 1 || g[0].ID != srv.ID || !hasTag(g[0].Tags, f.order("web1").Tag()) {
		t.Fatalf("guests = %+v", g)
	}
}

func TestHostnameTaken(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	a := f.order("web1")
	a.IdempotencyKey = "run-a"
	if _, err := f.vs.Order(ctx, a); err != nil {
		t.Fatal(err)
	}
	b := f.order("web1")
	b.IdempotencyKey = "run-b"
	if _, err := f.vs.Order(ctx, b); !errors.Is(err, provision.ErrHostnameTaken) {
		t.Fatalf("got %v, want ErrHostnameTaken", err)
	}
	if _, found, err := f.vs.Find(ctx, a); err != nil || !found {
		t.Fatalf("Find(a) = %v, %v", found, err)
	}
	c := f.order("web2")
	if _, found, err := f.vs.Find(ctx, c); err != nil || found {
		t.Fatalf("Find(web2) = %v, %v", found, err)
	}
}

func TestPlaceOrderNeverRetried(t *testing.T) {
	f := newFixture(t)
	f.cloud.InjectFault(e2etest.ServiceSoftLayer, opPlace, e2etest.Fault{Status: http.StatusTooManyRequests})
	if _, err := f.vs.Order(context.Background(), f.order("web1")); !errors.Is(err, provision.ErrRateLimited) {
		t.Fatalf("got %v, want ErrRateLimited", err)
	}
	f.cloud.InjectFault(e2etest.ServiceSoftLayer, opPlace, e2etest.Fault{Status: http.StatusInternalServerError})
	_, err := provisionOrderWithShortFind(t, f)
	if !errors.Is(err, provision.ErrOutcomeUnknown) {
		t.Fatalf("got %v, want ErrOutcomeUnknown after a 500 without an exception", err)
	}
	if n := len(f.cloud.Guests()); n != 0 {
		t.Fatalf("%d servers ordered", n)
	}
}

func provisionOrderWithShortFind(t *testing.T, f *fixture) (*provision.Server, error) {
	t.Helper()
	vs, err := provision.NewClient(provision.Config{Endpoint: f.cloud.SoftLayerURL, APIKey: f.cloud.APIKey, RetryWait: time.Millisecond, FindTimeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return vs.Order(context.Background(), f.order("web1"))
}

func TestWaitThroughFaults(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	srv, err := f.vs.Order(ctx, f.order("web1"))
	if err != nil {
		t.Fatal(err)
	}
	op := "SoftLayer_Virtual_Guest::getObject"
	f.cloud.InjectFault(e2etest.ServiceSoftLayer, op, e2etest.Fault{Drop: true, Times: 2})
	f.cloud.InjectFault(e2etest.ServiceSoftLayer, op, e2etest.Fault{Drop: true, DropAfter: 20})
	f.cloud.InjectFault(e2etest.ServiceSoftLayer, op, e2etest.Fault{Status: http.StatusTooManyRequests, Times: 2})
	if _, err := f.vs.Wait(ctx, srv.ID, fast...); err != nil {
		t.Fatalf("Wait through faults: %v", err)
	}
	ctx2, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	srv2, err := f.vs.Order(ctx, f.order("web2"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.vs.Wait(ctx2, srv2.ID, provision.WithPollInterval(time.Second)); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Wait with a short deadline: %v", err)
	}
}

func TestConfigNotPrinted(t *testing.T) {
	cfg := provision.Config{APIKey: "sekrit-api-key", ClassicAPIKey: "sekrit-classic"}
	for _, format := range []string{"%v", "%+v", "%#v", "%s"} {
		if s := fmt.Sprintf(format, cfg); strings.Contains(s, "sekrit") {
			t.Errorf("%s prints a secret: %s", format, s)
		}
	}
}

// A cancellation that went through but whose answer was a 5xx: the retry
// found the server gone and Cancel reported ErrNotFound.
func TestCancelAnswerLost(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	srv, err := f.vs.Order(ctx, f.order("lost"))
	if err != nil {
		t.Fatal(err)
	}
	f.cloud.InjectFault(e2etest.ServiceSoftLayer, "SoftLayer_Virtual_Guest::deleteObject",
		e2etest.Fault{Status: http.StatusInternalServerError, AfterHandling: true})
	if err := f.vs.Cancel(ctx, srv.ID); err != nil {
		t.Fatalf("Cancel whose answer was lost: %v", err)
	}
	if _, err := f.vs.Get(ctx, srv.ID); !errors.Is(err, provision.ErrNotFound) {
		t.Fatalf("server after Cancel: %v, want ErrNotFound", err)
	}
	// With no failure before it, a missing server is still an error.
	if err := f.vs.Cancel(ctx, srv.ID); !errors.Is(err, provision.ErrNotFound) {
		t.Fatalf("second Cancel: %v, want ErrNotFound", err)
	}
}
