package e2etest_test

import (
	"bytes"
	"context"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/IBM/go-sdk-core/v5/core"
	kp "github.com/IBM/keyprotect-go-client"
	"github.com/IBM/vpc-go-sdk/vpcv1"
	"github.com/softlayer/softlayer-go/datatypes"
	"github.com/softlayer/softlayer-go/services"
	"github.com/softlayer/softlayer-go/sl"

	"github.com/e2eimage/e2e/e2etest"
	"github.com/e2eimage/e2e/iam"
	"github.com/e2eimage/e2e/luks"
)

// emulatorGoroutines returns the stacks of the goroutines running code of
// package e2etest (its own frames, or created by it), by goroutine header.
func emulatorGoroutines() map[string]string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	out := map[string]string{}
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "github.com/e2eimage/e2e/e2etest.") {
			header, _, _ := strings.Cut(g, "\n")
			id, _, _ := strings.Cut(header, " [") // "goroutine 12"
			out[id] = g
		}
	}
	return out
}

// cloudState is what the tests can see of the cloud's state.
func cloudState(c *e2etest.Cloud) string {
	return fmt.Sprintf("%+v\n%+v\n%+v\n%d events", c.Templates(), c.Guests(), c.VPCImages(), len(c.Events()))
}

// TestCloseWaitsForBackgroundWork starts an encrypted classic import, a
// server order and a VPC import, closes the cloud at once, and checks that no goroutine of
// the emulator outlives Close and that nothing changes afterwards, although
// the transactions were due to end (and would have changed the state) later.
func TestCloseWaitsForBackgroundWork(t *testing.T) {
	before := emulatorGoroutines()
	// Imports take 1.8 s and provisioning 0.9 s: long enough to be pending
	// when Close comes, short enough to wait out.
	c, err := e2etest.Start(e2etest.Options{TimeScale: 0.003})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.CreateBucket("images", ""); err != nil {
		t.Fatal(err)
	}
	if err := c.PutObject("images", "plain.qcow2", bytes.Repeat([]byte{1}, 64<<10)); err != nil {
		t.Fatal(err)
	}
	// An encrypted classic import whose check unlocks a LUKS key slot that
	// costs 300 ms of PBKDF2: the check is still running when Close comes.
	ctx := context.Background()
	k, err := kp.New(kp.ClientConfig{BaseURL: c.KMSURL, APIKey: c.APIKey, TokenURL: c.OIDCTokenURL(), InstanceID: c.KPInstanceID}, kp.DefaultTransport())
	if err != nil {
		t.Fatal(err)
	}
	key, err := k.CreateRootKey(ctx, "root", nil)
	if err != nil {
		t.Fatal(err)
	}
	passphrase, wdek, err := k.WrapCreateDEK(ctx, key.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	ic, err := iam.NewClient(iam.Config{APIKey: c.APIKey, IAMURL: c.IAMURL})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := ic.EnsureAuthorization(ctx, iam.ServerProtectToKMS(c.KPInstanceID, false)); err != nil {
		t.Fatal(err)
	}
	var img bytes.Buffer
	w, err := luks.NewWriter(&img, passphrase, luks.WithIterTime(300*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(make([]byte, 64<<10)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.PutObject("images", "disk.luks", img.Bytes()); err != nil {
		t.Fatal(err)
	}
	// Everything slow comes first (the VPC client's first call fetches an
	// IAM token), and the three transactions start shortest last, right
	// before Close: each must still be pending when Close comes, and on a
	// loaded machine a slow call between a start and Close could outlast
	// the guest's 0.9 s.
	s := slSession(c)
	tg := services.GetVirtualGuestBlockDeviceTemplateGroupService(s)
	imgs, err := tg.Mask("globalIdentifier").GetPublicImages()
	if err != nil {
		t.Fatal(err)
	}
	vpc := vpcClient(t, c, &core.IamAuthenticator{ApiKey: c.APIKey, URL: c.IAMURL})
	if _, _, err := vpc.ListImages(vpc.NewListImagesOptions()); err != nil {
		t.Fatal(err)
	}
	if _, err := tg.CreateFromIcos(&datatypes.Container_Virtual_Guest_Block_Device_Template_Configuration{
		Name: sl.String("enc"), Uri: sl.String("cos://us-south/images/disk.luks"), OperatingSystemReferenceCode: sl.String("DEBIAN_12_64"),
		IbmApiKey: sl.String(c.APIKey), CrkCrn: sl.String(key.CRN), WrappedDek: sl.String(string(wdek)), IsEncrypted: sl.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := vpc.CreateImage(vpc.NewCreateImageOptions(&vpcv1.ImagePrototypeImageByFile{
		Name: core.StringPtr("plain"), File: &vpcv1.ImageFilePrototype{Href: core.StringPtr("cos://us-south/images/plain.qcow2")},
		OperatingSystem: &vpcv1.OperatingSystemIdentityByName{Name: core.StringPtr("debian-12-amd64")},
	})); err != nil {
		t.Fatal(err)
	}
	if _, err := services.GetVirtualGuestService(s).CreateObject(&datatypes.Virtual_Guest{Hostname: sl.String("app1"), Domain: sl.String("example.org"),
		StartCpus: sl.Int(1), MaxMemory: sl.Int(2048), HourlyBillingFlag: sl.Bool(true), LocalDiskFlag: sl.Bool(false),
		Datacenter:               &datatypes.Location{Name: sl.String("dal10")},
		BlockDeviceTemplateGroup: &datatypes.Virtual_Guest_Block_Device_Template_Group{GlobalIdentifier: imgs[0].GlobalIdentifier}}); err != nil {
		t.Fatal(err)
	}

	closing := time.Now() // every transaction started before, and ends within 1.8 s of its start
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	// A goroutine that signalled its end still needs a moment to exit (as
	// goleak knows): poll briefly, far shorter than the import check lasts.
	var left []string
	for deadline := time.Now().Add(100 * time.Millisecond); ; time.Sleep(2 * time.Millisecond) {
		left = left[:0]
		for id, stack := range emulatorGoroutines() {
			if _, ok := before[id]; !ok {
				left = append(left, stack)
			}
		}
		if len(left) == 0 || time.Now().After(deadline) {
			break
		}
	}
	if len(left) > 0 {
		slices.Sort(left)
		t.Fatalf("%d goroutines of the emulator outlived Close:\n%s", len(left), strings.Join(left, "\n\n"))
	}

	// Not vacuous: the work was still pending when Close returned.
	closed := cloudState(c)
	tmpls, guests, vimgs := c.Templates(), c.Guests(), c.VPCImages()
	if len(tmpls) != 1 || tmpls[0].Status != "CREATE_PENDING" || len(guests) != 1 || !guests[0].Busy || len(vimgs) != 1 || vimgs[0].Status != "pending" {
		t.Fatalf("the transactions ended before Close (machine too slow?): %s", closed)
	}
	time.Sleep(time.Until(closing.Add(2 * time.Second))) // past every transaction's end
	if now := cloudState(c); now != closed {
		t.Fatalf("the state changed after Close:\nat Close: %s\nlater:    %s", closed, now)
	}
}
