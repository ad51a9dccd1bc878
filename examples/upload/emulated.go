package main

import (
	"fmt"
	"io"

	"github.com/e2eimage/e2e/e2etest"
)

// cloudEnv returns env when IBMCLOUD_API_KEY is set. Otherwise it starts an
// emulated IBM Cloud and returns its settings under the same names; done
// stops it.
func cloudEnv(out io.Writer, env func(string) string) (_ func(string) string, done func(), _ error) {
	if env("IBMCLOUD_API_KEY") != "" {
		return env, func() {}, nil
	}
	cloud, err := e2etest.Start()
	if err != nil {
		return nil, nil, err
	}
	fmt.Fprintln(out, "IBMCLOUD_API_KEY is not set: using an emulated IBM Cloud (package e2etest)")
	m := map[string]string{
		"IBMCLOUD_API_KEY": cloud.APIKey, "IBMCLOUD_REGION": cloud.Region, "E2E_IAM_URL": cloud.IAMURL,
		"E2E_COS_URL": cloud.COSURL, "COS_INSTANCE_ID": cloud.COSInstanceID,
		"E2E_WDEK": "", // a WDEK of IBM Cloud means nothing to the emulated one
	}
	return func(k string) string {
		if v, ok := m[k]; ok {
			return v
		}
		return env(k) // the settings that are not the cloud's
	}, func() { cloud.Close() }, nil
}
