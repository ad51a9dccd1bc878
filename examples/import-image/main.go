// Command import-image imports an encrypted image from Cloud Object Storage
// as a classic image template (SoftLayer createFromIcos) and waits until it
// is active. It checks what IBM would refuse first — the root key is active,
// the WDEK unwraps with it, Cloud Block Storage is authorized to read it — so
// a mistake fails in seconds, not after a long import.
//
//	go run ./examples/import-image
//
// Without IBMCLOUD_API_KEY it runs against an emulated IBM Cloud (package
// e2etest) and first makes what the earlier examples make (a root key, a
// WDEK, the authorization and an encrypted object). With it, against IBM
// Cloud: KP_INSTANCE_ID (or HPCS_INSTANCE_ID) and E2E_ROOT_KEY_ID name the
// root key, E2E_WDEK is the wrapped DEK (see ../wrap-dek) whose DEK
// encrypted the object cos://IBMCLOUD_REGION/E2E_BUCKET/E2E_OBJECT (see
// ../upload); E2E_IMAGE_NAME (default "e2e-example-image"), E2E_IMAGE_OS (default
// "UBUNTU_22_64"), E2E_FORMAT ("luks", the default, or "vhd");
// E2E_POLL_INTERVAL (default 10s); E2E_IAM_URL, E2E_KMS_URL and
// E2E_SOFTLAYER_URL override the endpoints.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"time"

	"github.com/e2eimage/e2e/iam"
	"github.com/e2eimage/e2e/image"
	"github.com/e2eimage/e2e/keys"
	"github.com/e2eimage/e2e/storage"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Stdout, os.Getenv); err != nil {
		fmt.Fprintln(os.Stderr, "import-image:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, out io.Writer, env func(string) string) error {
	env, done, err := cloudEnv(ctx, out, env)
	if err != nil {
		return err
	}
	defer done()
	poll, err := time.ParseDuration(or(env("E2E_POLL_INTERVAL"), "10s"))
	if err != nil {
		return fmt.Errorf("E2E_POLL_INTERVAL: %w", err)
	}
	region, apiKey := or(env("IBMCLOUD_REGION"), "us-south"), env("IBMCLOUD_API_KEY")
	instance, hpcs := env("KP_INSTANCE_ID"), false
	if v := env("HPCS_INSTANCE_ID"); v != "" {
		instance, hpcs = v, true
	}
	if instance == "" {
		return errors.New("KP_INSTANCE_ID (or HPCS_INSTANCE_ID) is required with IBMCLOUD_API_KEY")
	}
	for _, name := range []string{"E2E_ROOT_KEY_ID", "E2E_WDEK", "E2E_BUCKET", "E2E_OBJECT"} {
		if env(name) == "" {
			return fmt.Errorf("%s is required with IBMCLOUD_API_KEY", name)
		}
	}
	wdek, err := keys.ParseWDEK(env("E2E_WDEK"))
	if err != nil {
		return err
	}
	uri := storage.URI{Region: region, Bucket: env("E2E_BUCKET"), Object: env("E2E_OBJECT")}
	format := image.LUKSRaw
	switch env("E2E_FORMAT") {
	case "", "luks":
	case "vhd":
		format = image.EncryptedVHD
	default:
		return fmt.Errorf("E2E_FORMAT=%q is neither luks nor vhd", env("E2E_FORMAT"))
	}

	// Preflight: the root key is active and the WDEK unwraps with it.
	kc, err := keys.NewClient(keys.Config{Endpoint: or(env("E2E_KMS_URL"), "https://"+region+".kms.cloud.ibm.com"),
		InstanceID: instance, HPCS: hpcs, APIKey: apiKey, IAMURL: env("E2E_IAM_URL")})
	if err != nil {
		return err
	}
	root, err := kc.GetKey(ctx, env("E2E_ROOT_KEY_ID"))
	if err != nil {
		return err
	}
	if root.State != keys.Active {
		return &keys.KeyStateError{KeyID: root.ID, Op: "import", State: root.State}
	}
	dek, _, err := kc.UnwrapDEK(ctx, root.ID, wdek)
	if err != nil {
		return fmt.Errorf("E2E_WDEK does not unwrap with root key %s: %w", root.ID, err)
	}
	dek.Destroy() // only the check was needed; IBM unwraps it again itself
	// Preflight: Cloud Block Storage may read the key (see ../authorize).
	ic, err := iam.NewClient(iam.Config{URL: env("E2E_IAM_URL"), APIKey: apiKey, IAMURL: env("E2E_IAM_URL")})
	if err != nil {
		return err
	}
	if err := ic.VerifyAuthorizations(ctx, iam.ServerProtectToKMS(instance, hpcs)); err != nil {
		return err // a *iam.MissingAuthorizationError names what to create
	}

	images, err := image.NewClient(image.Config{Endpoint: env("E2E_SOFTLAYER_URL"), APIKey: apiKey})
	if err != nil {
		return err
	}
	t, err := images.ImportEncrypted(ctx, image.ImportRequest{
		Name:            or(env("E2E_IMAGE_NAME"), "e2e-example-image"),
		OSReferenceCode: or(env("E2E_IMAGE_OS"), "UBUNTU_22_64"),
		URI:             uri.String(),
		IBMAPIKey:       apiKey, // IBM reads the object with it; never logged
		RootKeyCRN:      root.CRN,
		WrappedDEK:      wdek.String(),
		Format:          format,
		CloudInit:       true,
	})
	if err != nil {
		return err // a *image.ValidationError names a bad field before any call
	}
	fmt.Fprintf(out, "importing %s as template %d (%s)…\n", uri, t.ID, t.GlobalIdentifier)

	// Imports take minutes to an hour; cancelling ctx stops waiting, not the import.
	t, err = images.Wait(ctx, t.ID, image.WithPollInterval(poll), image.WithProgress(func(p image.Progress) {
		fmt.Fprintf(out, "  %s %s (%s)\n", p.Status.KeyName, p.Transaction, p.Elapsed.Round(time.Millisecond))
	}))
	var failed *image.ImportError
	if errors.As(err, &failed) {
		return fmt.Errorf("template %d stays in status %s until deleted: %w", failed.TemplateID, failed.Status, err)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "template %d %q is %s: order servers with E2E_TEMPLATE_GUID=%s\n", t.ID, t.Name, t.Status.KeyName, t.GlobalIdentifier)
	return nil
}

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
