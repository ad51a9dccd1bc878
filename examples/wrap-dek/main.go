// Command wrap-dek shows the data key (DEK) life cycle with Key Protect:
// ensure a root key, have the service generate and wrap a DEK, keep only the
// wrapped DEK (WDEK), unwrap it again later, and destroy the plaintext.
//
//	go run ./examples/wrap-dek
//
// Without IBMCLOUD_API_KEY it runs against an emulated IBM Cloud (package
// e2etest). With it, against IBM Cloud: KP_INSTANCE_ID (or HPCS_INSTANCE_ID)
// names the instance, E2E_ROOT_KEY_ID an existing root key or
// E2E_ROOT_KEY_NAME one to reuse or create (default "e2e-example-root-key");
// IBMCLOUD_REGION (default us-south), E2E_KMS_URL and E2E_IAM_URL override
// the endpoints.
package main

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"

	"github.com/e2eimage/e2e/e2etest"
	"github.com/e2eimage/e2e/internal/demo"
	"github.com/e2eimage/e2e/keys"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Stdout, os.Getenv); err != nil {
		fmt.Fprintln(os.Stderr, "wrap-dek:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, out io.Writer, env func(string) string) error {
	env, done, err := cloudEnv(ctx, out, env)
	if err != nil {
		return err
	}
	defer done()
	region := or(env("IBMCLOUD_REGION"), "us-south")
	instance, hpcs := env("KP_INSTANCE_ID"), false
	if v := env("HPCS_INSTANCE_ID"); v != "" {
		instance, hpcs = v, true
	}
	if instance == "" {
		return errors.New("KP_INSTANCE_ID (or HPCS_INSTANCE_ID) is required with IBMCLOUD_API_KEY")
	}
	kc, err := keys.NewClient(keys.Config{
		Endpoint:   or(env("E2E_KMS_URL"), "https://"+region+".kms.cloud.ibm.com"),
		InstanceID: instance, HPCS: hpcs,
		APIKey: env("IBMCLOUD_API_KEY"), IAMURL: env("E2E_IAM_URL"),
	})
	if err != nil {
		return err
	}

	var root *keys.Key
	if id := env("E2E_ROOT_KEY_ID"); id != "" {
		root, err = kc.GetKey(ctx, id)
	} else {
		root, err = kc.EnsureRootKey(ctx, or(env("E2E_ROOT_KEY_NAME"), "e2e-example-root-key"))
	}
	if errors.Is(err, keys.ErrUnauthorized) {
		return fmt.Errorf("check IBMCLOUD_API_KEY and its role on the instance: %w", err)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "root key %s (%s), state %s\n", root.ID, root.Name, root.State)

	// The service generates 32 random bytes and wraps them: the DEK stays in
	// memory, the WDEK is what you store next to the image.
	dek, wdek, err := kc.GenerateDEK(ctx, root.ID)
	if err != nil {
		return err
	}
	defer dek.Destroy()
	fmt.Fprintf(out, "generated %v\nWDEK (safe to store): %s\n", dek, wdek) // %v never prints the key

	// Later, e.g. in another process: unwrap the stored WDEK. After a
	// rotation of the root key, store the rewrapped WDEK it returns.
	again, rewrapped, err := kc.UnwrapDEK(ctx, root.ID, wdek)
	if err != nil {
		return err
	}
	defer again.Destroy()
	if subtle.ConstantTimeCompare(dek.Bytes(), again.Bytes()) != 1 {
		return errors.New("the unwrapped DEK differs from the generated one")
	}
	fmt.Fprintf(out, "unwrapped the WDEK: same %d-byte DEK (rewrapped WDEK changed: %t)\n", again.Len(), rewrapped.String() != wdek.String())

	// A damaged WDEK, or one wrapped by another key, is refused.
	bad := append(keys.WDEK(nil), wdek...)
	bad[len(bad)-1] ^= 1
	if _, _, err := kc.UnwrapDEK(ctx, root.ID, bad); !errors.Is(err, keys.ErrWrongKey) {
		return fmt.Errorf("a damaged WDEK was not refused as keys.ErrWrongKey: %v", err)
	}
	fmt.Fprintln(out, "a damaged WDEK is refused: keys.ErrWrongKey")

	// The encrypted VHD format takes a 64-byte AES-256-XTS key, made locally
	// and wrapped the same way.
	vhd, err := keys.NewDEK(64)
	if err != nil {
		return err
	}
	defer vhd.Destroy()
	vw, err := kc.WrapDEK(ctx, root.ID, vhd)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "wrapped a local %d-byte VHD key: WDEK of %d bytes\n", vhd.Len(), len(vw))
	fmt.Fprintf(out, "\nfor ../upload and ../import-image on the same instance:\n  export E2E_ROOT_KEY_ID=%s E2E_WDEK=%s\n", root.ID, wdek)
	return nil
}

// cloudEnv returns env when IBMCLOUD_API_KEY is set. Otherwise it starts an
// emulated IBM Cloud and returns its settings under the same names; done
// stops it.
func cloudEnv(ctx context.Context, out io.Writer, env func(string) string) (_ func(string) string, done func(), _ error) {
	return demo.Env(ctx, out, env, func(_ context.Context, cloud *e2etest.Cloud) (map[string]string, error) {
		return map[string]string{
			"IBMCLOUD_API_KEY": cloud.APIKey, "IBMCLOUD_REGION": cloud.Region,
			"E2E_IAM_URL": cloud.IAMURL, "E2E_KMS_URL": cloud.KMSURL, "KP_INSTANCE_ID": cloud.KPInstanceID,
		}, nil
	})
}

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
