package main

import (
	"context"
	"io"

	"github.com/e2eimage/e2e/e2etest"
	"github.com/e2eimage/e2e/internal/demo"
)

// cloudEnv returns env when IBMCLOUD_API_KEY is set. Otherwise it starts an
// emulated IBM Cloud and returns its settings under the same names; done
// stops it.
func cloudEnv(ctx context.Context, out io.Writer, env func(string) string) (_ func(string) string, done func(), _ error) {
	return demo.Env(ctx, out, env, func(_ context.Context, cloud *e2etest.Cloud) (map[string]string, error) {
		return map[string]string{
			"IBMCLOUD_API_KEY": cloud.APIKey, "IBMCLOUD_REGION": cloud.Region, "E2E_IAM_URL": cloud.IAMURL,
			"E2E_COS_URL": cloud.COSURL, "COS_INSTANCE_ID": cloud.COSInstanceID,
			"E2E_WDEK": "", // a WDEK of IBM Cloud means nothing to the emulated one
		}, nil
	})
}
