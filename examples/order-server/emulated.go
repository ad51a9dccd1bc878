package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/e2eimage/e2e/e2etest"
	"github.com/e2eimage/e2e/image"
	"github.com/e2eimage/e2e/internal/demo"
)

// cloudEnv returns env when IBMCLOUD_API_KEY is set. Otherwise it starts an
// emulated IBM Cloud holding an active template and returns the settings
// that name it; done stops the cloud.
func cloudEnv(ctx context.Context, out io.Writer, env func(string) string) (_ func(string) string, done func(), _ error) {
	return demo.Env(ctx, out, env, func(ctx context.Context, cloud *e2etest.Cloud) (map[string]string, error) {
		m, err := prepare(ctx, cloud)
		if err == nil {
			fmt.Fprintf(out, "prepared template %s\n", m["E2E_TEMPLATE_GUID"])
		}
		return m, err
	})
}

// prepare gives the emulated cloud an active template. A real user orders
// from the encrypted template ../import-image made; ordering does not
// depend on how the template was made, so a plain import of a placeholder
// object does here.
func prepare(ctx context.Context, cloud *e2etest.Cloud) (map[string]string, error) {
	if err := cloud.CreateBucket("e2e-example-images", ""); err != nil {
		return nil, err
	}
	if err := cloud.PutObject("e2e-example-images", "placeholder.vhd", make([]byte, 1<<20)); err != nil {
		return nil, err
	}
	images, err := image.NewClient(image.Config{Endpoint: cloud.SoftLayerURL, APIKey: cloud.APIKey})
	if err != nil {
		return nil, err
	}
	t, err := images.Import(ctx, image.ImportRequest{Name: "e2e-example-image", OSReferenceCode: "UBUNTU_22_64",
		URI: "cos://" + cloud.Region + "/e2e-example-images/placeholder.vhd", IBMAPIKey: cloud.APIKey})
	if err != nil {
		return nil, err
	}
	if t, err = images.Wait(ctx, t.ID, image.WithPollInterval(20*time.Millisecond)); err != nil {
		return nil, err
	}
	return map[string]string{
		"IBMCLOUD_API_KEY": cloud.APIKey, "E2E_SOFTLAYER_URL": cloud.SoftLayerURL, "E2E_TEMPLATE_GUID": t.GlobalIdentifier,
		"E2E_POLL_INTERVAL": "50ms", // the emulator provisions in scaled time
		"E2E_CONFIRM_ORDER": "yes",  // nothing is billed here
	}, nil
}
