package main

import (
	"context"
	"fmt"
	"io"

	"github.com/e2eimage/e2e/keys"
)

// dataKey unwraps E2E_WDEK with the root key E2E_ROOT_KEY_ID (as printed by
// ../wrap-dek), so that ../import-image can import the object with that
// WDEK. Without E2E_WDEK it makes a local DEK, which is enough to try the
// upload but not to import the object.
func dataKey(ctx context.Context, out io.Writer, env func(string) string) (*keys.DEK, error) {
	if env("E2E_WDEK") == "" {
		fmt.Fprintln(out, "E2E_WDEK is not set: encrypting with a local DEK that no root key wraps")
		return keys.NewDEK(32)
	}
	w, err := keys.ParseWDEK(env("E2E_WDEK"))
	if err != nil {
		return nil, err
	}
	kc, err := keys.NewClient(keys.Config{
		Endpoint:   or(env("E2E_KMS_URL"), "https://"+or(env("IBMCLOUD_REGION"), "us-south")+".kms.cloud.ibm.com"),
		InstanceID: env("KP_INSTANCE_ID"), APIKey: env("IBMCLOUD_API_KEY"), IAMURL: env("E2E_IAM_URL"),
	})
	if err != nil {
		return nil, err
	}
	dek, _, err := kc.UnwrapDEK(ctx, env("E2E_ROOT_KEY_ID"), w)
	if err != nil {
		return nil, fmt.Errorf("unwrap E2E_WDEK with root key %q: %w", env("E2E_ROOT_KEY_ID"), err)
	}
	fmt.Fprintf(out, "encrypting with the DEK of E2E_WDEK (root key %s)\n", env("E2E_ROOT_KEY_ID"))
	return dek, nil
}
