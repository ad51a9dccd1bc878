package image_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/e2eimage/e2e/image"
)

// TestLiveImportEncrypted imports an encrypted image on IBM Cloud. It runs
// only when these are set (it creates and then deletes a template):
//
//	IBMCLOUD_API_KEY        API key of the account
//	E2E_LIVE_IMAGE_URI      cos://<region>/<bucket>/<object> of a LUKS image
//	E2E_LIVE_ROOT_KEY_CRN   root key CRN that wraps the DEK
//	E2E_LIVE_WDEK           the wrapped DEK (base64)
//	E2E_LIVE_OS             optional, default UBUNTU_22_64
//	SL_ENDPOINT_URL         optional, default https://api.softlayer.com/rest/v3.1
func TestLiveImportEncrypted(t *testing.T) {
	key, uri, crn, wdek := os.Getenv("IBMCLOUD_API_KEY"), os.Getenv("E2E_LIVE_IMAGE_URI"), os.Getenv("E2E_LIVE_ROOT_KEY_CRN"), os.Getenv("E2E_LIVE_WDEK")
	if key == "" || uri == "" || crn == "" || wdek == "" {
		t.Skip("live test: set IBMCLOUD_API_KEY, E2E_LIVE_IMAGE_URI, E2E_LIVE_ROOT_KEY_CRN and E2E_LIVE_WDEK to run it")
	}
	osRef := os.Getenv("E2E_LIVE_OS")
	if osRef == "" {
		osRef = "UBUNTU_22_64"
	}
	c, err := image.NewClient(image.Config{Endpoint: os.Getenv("SL_ENDPOINT_URL"), APIKey: key})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Minute)
	defer cancel()
	tmpl, err := c.ImportEncrypted(ctx, image.ImportRequest{Name: "e2e-live-" + time.Now().UTC().Format("20060102-150405"),
		OSReferenceCode: osRef, URI: uri, IBMAPIKey: key, RootKeyCRN: crn, WrappedDEK: wdek, CloudInit: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.Delete(context.Background(), tmpl.ID); err != nil {
			t.Errorf("delete template %d: %v", tmpl.ID, err)
		}
	})
	done, err := c.Wait(ctx, tmpl.ID, image.WithProgress(func(p image.Progress) {
		t.Logf("%v: %s %s", p.Elapsed.Round(time.Second), p.Status.KeyName, p.Transaction)
	}))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("template %d (%s) active in %v", done.ID, done.GlobalIdentifier, done.Datacenters)
}
