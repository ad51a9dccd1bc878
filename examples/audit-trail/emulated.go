package main

import (
	"context"
	"fmt"
	"io"

	"github.com/e2eimage/e2e/e2etest"
	"github.com/e2eimage/e2e/internal/demo"
	"github.com/e2eimage/e2e/keys"
)

// cloudEnv returns env when IBMCLOUD_API_KEY is set. Otherwise it starts an
// emulated IBM Cloud with a used root key and returns the settings that name
// it; done stops the cloud.
func cloudEnv(ctx context.Context, out io.Writer, env func(string) string) (_ func(string) string, done func(), _ error) {
	return demo.Env(ctx, out, env, prepare)
}

// prepare uses a root key the way the earlier examples do (../wrap-dek),
// so the cloud has events to read: a generated DEK, an unwrap, and an
// unwrap of a damaged WDEK that fails.
func prepare(ctx context.Context, cloud *e2etest.Cloud) (map[string]string, error) {
	kc, err := keys.NewClient(keys.Config{Endpoint: cloud.KMSURL, InstanceID: cloud.KPInstanceID, APIKey: cloud.APIKey, IAMURL: cloud.IAMURL})
	if err != nil {
		return nil, err
	}
	root, err := kc.CreateRootKey(ctx, "e2e-example-root-key")
	if err != nil {
		return nil, err
	}
	dek, wdek, err := kc.GenerateDEK(ctx, root.ID)
	if err != nil {
		return nil, err
	}
	dek.Destroy()
	again, _, err := kc.UnwrapDEK(ctx, root.ID, wdek)
	if err != nil {
		return nil, err
	}
	again.Destroy()
	wdek[len(wdek)-1] ^= 1
	if _, _, err := kc.UnwrapDEK(ctx, root.ID, wdek); err == nil {
		return nil, fmt.Errorf("a damaged WDEK unwrapped")
	}
	return map[string]string{
		"IBMCLOUD_API_KEY": cloud.APIKey, "E2E_IAM_URL": cloud.IAMURL, "E2E_LOGS_URL": cloud.LogsURL,
		"E2E_ROOT_KEY_CRN": root.CRN,
	}, nil
}
