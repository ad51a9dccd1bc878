package e2etest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	kp "github.com/IBM/keyprotect-go-client"
	"github.com/softlayer/softlayer-go/datatypes"
	"github.com/softlayer/softlayer-go/services"
	"github.com/softlayer/softlayer-go/session"
	"github.com/softlayer/softlayer-go/sl"

	"github.com/e2eimage/e2e/e2etest"
)

// slSession is the official client's session pointed at the emulator.
func slSession(c *e2etest.Cloud) *session.Session {
	return &session.Session{Endpoint: c.SoftLayerURL, UserName: "apikey", APIKey: c.APIKey, Timeout: 10 * time.Second}
}

func slCode(t *testing.T, err error) (int, string) {
	t.Helper()
	var se sl.Error
	if !errors.As(err, &se) {
		t.Fatalf("want an sl.Error, got %T %v", err, err)
	}
	return se.StatusCode, se.Exception
}

func slCloud(t *testing.T, opts ...e2etest.Options) *e2etest.Cloud {
	t.Helper()
	c, err := e2etest.Start(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func slEventually(t *testing.T, what string, f func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !f() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestSoftLayerMasksFiltersLimits(t *testing.T) {
	c := slCloud(t)
	s := slSession(c)
	svc := services.GetVirtualGuestBlockDeviceTemplateGroupService(s)
	imgs, err := svc.Mask("id,name,globalIdentifier,status").GetPublicImages()
	if err != nil {
		t.Fatal(err)
	}
	if len(imgs) != 3 || imgs[0].Status == nil || *imgs[0].Status.KeyName != "ACTIVE" || imgs[0].GlobalIdentifier == nil || imgs[0].Children != nil || imgs[0].CreateDate != nil {
		t.Fatalf("masked public images = %+v", imgs[0])
	}
	plain, err := svc.GetPublicImages()
	if err != nil {
		t.Fatal(err)
	}
	if plain[0].Status != nil || plain[0].Datacenters != nil || plain[0].CreateDate == nil {
		t.Fatalf("unmasked: relational properties must be absent, local ones present: %+v", plain[0])
	}
	f := `{"name":{"operation":"~ debian"}}`
	got, err := svc.Filter(f).GetPublicImages()
	if err != nil || len(got) != 1 || !strings.Contains(*got[0].Name, "Debian") {
		t.Fatalf("filtered = %v, %v", got, err)
	}
	var page []datatypes.Virtual_Guest_Block_Device_Template_Group
	opts := sl.Options{Limit: sl.Int(1), Offset: sl.Int(1), Mask: "mask[id]"}
	if err := s.DoRequest("SoftLayer_Virtual_Guest_Block_Device_Template_Group", "getPublicImages", nil, &opts, &page); err != nil {
		t.Fatal(err)
	}
	if len(page) != 1 || *page[0].Id != *imgs[1].Id || opts.TotalItems != 3 {
		t.Fatalf("page = %+v, total %d", page, opts.TotalItems)
	}
	if _, err := svc.Mask("mask[id,children[").GetPublicImages(); err == nil {
		t.Fatal("a broken mask was accepted")
	}
}

func TestSoftLayerErrors(t *testing.T) {
	c := slCloud(t, e2etest.Options{TokenLifetime: 2 * time.Second})
	s := slSession(c)
	_, err := services.GetVirtualGuestService(s).Id(12345).GetObject()
	if st, ex := slCode(t, err); st != 404 || ex != "SoftLayer_Exception_ObjectNotFound" {
		t.Fatalf("missing guest: %d %s", st, ex)
	}
	var v datatypes.Void
	err = s.DoRequest("SoftLayer_Virtual_Guest", "explode", nil, &sl.Options{}, &v)
	if st, ex := slCode(t, err); st != 500 || ex != "SoftLayer_Exception_Public" || !strings.Contains(err.Error(), "not a valid method") {
		t.Fatalf("unknown method: %v", err)
	}
	err = s.DoRequest("SoftLayer_Nope", "getObject", nil, &sl.Options{}, &v)
	if _, ex := slCode(t, err); ex != "SoftLayer_Exception_Public" || !strings.Contains(err.Error(), "Service does not exist") {
		t.Fatalf("unknown service: %v", err)
	}
	bad := &session.Session{Endpoint: c.SoftLayerURL, UserName: "apikey", APIKey: "wrong"}
	_, err = services.GetAccountService(bad).GetVirtualGuests()
	if st, ex := slCode(t, err); st != 401 || ex != "SoftLayer_Exception_InvalidLegacyToken" {
		t.Fatalf("wrong key: %d %s", st, ex)
	}
	classic := &session.Session{Endpoint: c.SoftLayerURL, UserName: c.Username, APIKey: c.APIKey}
	if _, err := services.GetAccountService(classic).GetVirtualGuests(); err != nil {
		t.Fatalf("classic user name + key: %v", err)
	}
	tok := &session.Session{Endpoint: c.SoftLayerURL, IAMToken: "Bearer " + c.NewToken()}
	if _, err := services.GetAccountService(tok).GetVirtualGuests(); err != nil {
		t.Fatalf("IAM token: %v", err)
	}
	slEventually(t, "the token to expire", func() bool {
		_, err = services.GetAccountService(tok).GetVirtualGuests()
		return err != nil
	})
	if st, ex := slCode(t, err); st != 500 || ex != "SoftLayer_Exception_Account_Authentication_AccessTokenValidation" || !session.NeedsRefresh(err) {
		t.Fatalf("expired token: %v", err)
	}
	// Synchronous validation of createFromIcos.
	tsvc := services.GetVirtualGuestBlockDeviceTemplateGroupService(s)
	for _, cfg := range []datatypes.Container_Virtual_Guest_Block_Device_Template_Configuration{
		{Uri: sl.String("cos://us-south/b/o.img"), OperatingSystemReferenceCode: sl.String("UBUNTU_22_64"), IbmApiKey: sl.String("k")},
		{Name: sl.String("n"), Uri: sl.String("http://x/o"), OperatingSystemReferenceCode: sl.String("UBUNTU_22_64"), IbmApiKey: sl.String("k")},
		{Name: sl.String("n"), Uri: sl.String("cos://us-south/bucket/o.img"), OperatingSystemReferenceCode: sl.String("PLAN9"), IbmApiKey: sl.String("k")},
		{Name: sl.String("n"), Uri: sl.String("cos://us-south/bucket/o.img"), OperatingSystemReferenceCode: sl.String("UBUNTU_22_64")},
		{Name: sl.String("n"), Uri: sl.String("cos://us-south/bucket/o.img"), OperatingSystemReferenceCode: sl.String("UBUNTU_22_64"), IbmApiKey: sl.String("k"), WrappedDek: sl.String("abc")},
		{Name: sl.String("n"), Uri: sl.String("cos://us-south/bucket/o.img"), OperatingSystemReferenceCode: sl.String("UBUNTU_22_64"), IbmApiKey: sl.String("k"), CrkCrn: sl.String("crn:bad"), WrappedDek: sl.String("abc")},
	} {
		if _, err := tsvc.CreateFromIcos(&cfg); err == nil {
			t.Errorf("createFromIcos accepted %+v", cfg)
		} else if st, ex := slCode(t, err); st != 500 || ex != "SoftLayer_Exception_Public" {
			t.Errorf("createFromIcos: %d %s", st, ex)
		}
	}
	if n := len(c.Templates()); n != 0 {
		t.Fatalf("refused imports created %d templates", n)
	}
}

// TestSoftLayerImportTransaction follows an import through getStatus,
// getChildren and getTransaction, and checks the region rule.
func TestSoftLayerImportTransaction(t *testing.T) {
	c := slCloud(t)
	s := slSession(c)
	if err := c.CreateBucket("images", ""); err != nil {
		t.Fatal(err)
	}
	if err := c.PutObject("images", "plain.img", bytes.Repeat([]byte{1}, 4096)); err != nil {
		t.Fatal(err)
	}
	svc := services.GetVirtualGuestBlockDeviceTemplateGroupService(s)
	g, err := svc.CreateFromIcos(&datatypes.Container_Virtual_Guest_Block_Device_Template_Configuration{
		Name: sl.String("plain"), Uri: sl.String("cos://us-south/images/plain.img"), OperatingSystemReferenceCode: sl.String("DEBIAN_12_64"),
		IbmApiKey: sl.String(c.APIKey)})
	if err != nil {
		t.Fatal(err)
	}
	id := *g.Id
	st, err := svc.Id(id).GetStatus()
	if err != nil || *st.KeyName != "CREATE_PENDING" {
		t.Fatalf("status = %+v, %v", st, err)
	}
	children, err := svc.Id(id).Mask("id,transactionId,datacenter").GetChildren()
	if err != nil || len(children) != 1 || children[0].TransactionId == nil || *children[0].Datacenter.Name != "dal10" {
		t.Fatalf("children = %+v, %v", children, err)
	}
	tx, err := svc.Id(id).Mask("id,transactionStatus").GetTransaction()
	if err != nil || tx.Id == nil || tx.TransactionStatus == nil || !strings.HasPrefix(*tx.TransactionStatus.Name, "CLOUD_IMAGE_IMPORT") {
		t.Fatalf("transaction = %+v, %v", tx, err)
	}
	slEventually(t, "the import", func() bool { st, err := svc.Id(id).GetStatus(); return err == nil && *st.KeyName == "ACTIVE" })
	tx, err = svc.Id(id).GetTransaction()
	if err != nil || tx.Id != nil {
		t.Fatalf("transaction after import = %+v, %v", tx, err)
	}
	var dump bytes.Buffer
	if err := c.DumpSoftLayer(&dump); err != nil || !strings.Contains(dump.String(), `"plain"`) || strings.Contains(dump.String(), c.APIKey) {
		t.Fatalf("dump: %v\n%s", err, dump.String())
	}

	// A key in us-south cannot decrypt an image in an eu-de bucket.
	ctx := context.Background()
	k, err := kp.New(kp.ClientConfig{BaseURL: c.KMSURL, APIKey: c.APIKey, TokenURL: c.OIDCTokenURL(), InstanceID: c.KPInstanceID}, kp.DefaultTransport())
	if err != nil {
		t.Fatal(err)
	}
	key, err := k.CreateRootKey(ctx, "root", nil)
	if err != nil {
		t.Fatal(err)
	}
	_, wdek, err := k.WrapCreateDEK(ctx, key.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.CreateBucket("frankfurt", "eu-de-standard"); err != nil {
		t.Fatal(err)
	}
	if err := c.PutObject("frankfurt", "disk.img", bytes.Repeat([]byte{2}, 4096)); err != nil {
		t.Fatal(err)
	}
	g, err = svc.CreateFromIcos(&datatypes.Container_Virtual_Guest_Block_Device_Template_Configuration{
		Name: sl.String("enc"), Uri: sl.String("cos://eu-de/frankfurt/disk.img"), OperatingSystemReferenceCode: sl.String("DEBIAN_12_64"),
		IbmApiKey: sl.String(c.APIKey), CrkCrn: sl.String(key.CRN), WrappedDek: sl.String(string(wdek)), IsEncrypted: sl.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	slEventually(t, "the failed import", func() bool { st, err := svc.Id(*g.Id).GetStatus(); return err == nil && *st.KeyName == "ERROR" })
	st, _ = svc.Id(*g.Id).GetStatus()
	if !strings.Contains(*st.Description, "region") {
		t.Fatalf("status = %s", *st.Description)
	}
}

func TestSoftLayerGuestLifecycle(t *testing.T) {
	c := slCloud(t)
	s := slSession(c)
	imgs, err := services.GetVirtualGuestBlockDeviceTemplateGroupService(s).Mask("id,globalIdentifier").GetPublicImages()
	if err != nil {
		t.Fatal(err)
	}
	vs := services.GetVirtualGuestService(s)
	g, err := vs.CreateObject(&datatypes.Virtual_Guest{Hostname: sl.String("app1"), Domain: sl.String("example.org"),
		StartCpus: sl.Int(1), MaxMemory: sl.Int(2048), HourlyBillingFlag: sl.Bool(true), LocalDiskFlag: sl.Bool(false),
		Datacenter:               &datatypes.Location{Name: sl.String("fra02")},
		BlockDeviceTemplateGroup: &datatypes.Virtual_Guest_Block_Device_Template_Group{GlobalIdentifier: imgs[0].GlobalIdentifier}})
	if err != nil {
		t.Fatal(err)
	}
	id := *g.Id
	if g.ProvisionDate != nil || g.GlobalIdentifier == nil {
		t.Fatalf("new guest = %+v", g)
	}
	ps, err := vs.Id(id).GetPowerState()
	if err != nil || *ps.KeyName != "HALTED" {
		t.Fatalf("power state = %+v, %v", ps, err)
	}
	if tx, err := vs.Id(id).GetActiveTransaction(); err != nil || tx.Id == nil {
		t.Fatalf("active transaction = %+v, %v", tx, err)
	}
	if _, err := vs.Id(id).PowerOff(); err == nil {
		t.Fatal("power action accepted during provisioning")
	} else if _, ex := slCode(t, err); ex != "SoftLayer_Exception_NotReady" {
		t.Fatalf("power action during provisioning: %v", err)
	}
	slEventually(t, "provisioning", func() bool {
		tx, err := vs.Id(id).GetActiveTransaction()
		return err == nil && tx.Id == nil
	})
	obj, err := vs.Id(id).Mask("id,provisionDate,powerState,primaryIpAddress,datacenter").GetObject()
	if err != nil || obj.ProvisionDate == nil || *obj.PowerState.KeyName != "RUNNING" || obj.PrimaryIpAddress == nil || *obj.Datacenter.Name != "fra02" {
		t.Fatalf("ready guest = %+v, %v", obj, err)
	}
	if ok, err := vs.Id(id).PowerOff(); err != nil || !ok {
		t.Fatalf("powerOff: %v", err)
	}
	if ok, err := vs.Id(id).PowerOn(); err != nil || !ok {
		t.Fatalf("powerOn: %v", err)
	}
	if ok, err := vs.Id(id).SetTags(sl.String("blue, team:a")); err != nil || !ok {
		t.Fatalf("setTags: %v", err)
	}
	acct := services.GetAccountService(s)
	found, err := acct.Filter(`{"virtualGuests":{"tagReferences":{"tag":{"name":{"operation":"team:a"}}}}}`).GetVirtualGuests()
	if err != nil || len(found) != 1 || *found[0].Id != id {
		t.Fatalf("by tag = %v, %v", found, err)
	}
	none, err := acct.Filter(`{"virtualGuests":{"hostname":{"operation":"app2"}}}`).GetVirtualGuests()
	if err != nil || len(none) != 0 {
		t.Fatalf("by other hostname = %v, %v", none, err)
	}
	if ok, err := vs.Id(id).DeleteObject(); err != nil || !ok {
		t.Fatalf("deleteObject: %v", err)
	}
	var actions []string
	for _, ev := range c.Events() {
		if ev.Service == e2etest.ServiceSoftLayer {
			actions = append(actions, ev.Action)
		}
	}
	want := "audit-log.vsi.provision audit-log.vsi.power-off audit-log.vsi.power-on audit-log.vsi.delete"
	if strings.Join(actions, " ") != want {
		t.Fatalf("events = %v, want %s", actions, want)
	}
}

func TestSoftLayerOrderContainers(t *testing.T) {
	c := slCloud(t)
	s := slSession(c)
	imgs, err := services.GetVirtualGuestBlockDeviceTemplateGroupService(s).Mask("globalIdentifier").GetPublicImages()
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := services.GetVirtualGuestService(s).GenerateOrderTemplate(&datatypes.Virtual_Guest{
		Hostname: sl.String("q1"), Domain: sl.String("example.com"), StartCpus: sl.Int(2), MaxMemory: sl.Int(4096),
		Datacenter:               &datatypes.Location{Name: sl.String("dal12")},
		BlockDeviceTemplateGroup: &datatypes.Virtual_Guest_Block_Device_Template_Group{GlobalIdentifier: imgs[0].GlobalIdentifier}})
	if err != nil {
		t.Fatal(err)
	}
	order := datatypes.Container_Product_Order_Virtual_Guest{Container_Product_Order_Hardware_Server: datatypes.Container_Product_Order_Hardware_Server{Container_Product_Order: tmpl}}
	po := services.GetProductOrderService(s)
	// The base container type is not a virtual server order.
	if _, err := po.VerifyOrder(&tmpl); err == nil {
		t.Fatal("verifyOrder accepted a SoftLayer_Container_Product_Order")
	}
	quote, err := po.PlaceOrder(&order, sl.Bool(true))
	if err != nil || quote.Quote == nil || len(c.Guests()) != 0 {
		t.Fatalf("saveAsQuote: %+v, %v, %d guests", quote, err, len(c.Guests()))
	}
	// Tampered prices are refused.
	order.Prices = append(order.Prices, datatypes.Product_Item_Price{Id: sl.Int(999999)})
	if _, err := po.VerifyOrder(&order); err == nil {
		t.Fatal("verifyOrder accepted an unknown price")
	} else if _, ex := slCode(t, err); ex != "SoftLayer_Exception_Order_Item_Invalid" {
		t.Fatalf("unknown price: %v", err)
	}
	raw, _ := json.Marshal(order)
	if !strings.Contains(string(raw), "SoftLayer_Container_Product_Order_Virtual_Guest") {
		t.Fatalf("complexType not set: %s", raw)
	}
}
