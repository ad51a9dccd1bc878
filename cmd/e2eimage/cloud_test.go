package main

import (
	"testing"

	"github.com/e2eimage/e2e/e2etest"
)

// startCloud starts an emulated IBM Cloud and points the cloud commands at
// it through the environment, as a user would; every other setting that
// could leak in from the caller's environment is blanked.
func startCloud(t *testing.T) *e2etest.Cloud {
	t.Helper()
	cloud, err := e2etest.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cloud.Close() })
	for k, v := range map[string]string{
		"IBMCLOUD_API_KEY": cloud.APIKey,
		"IBMCLOUD_REGION":  cloud.Region,
		"KP_INSTANCE_ID":   cloud.KPInstanceID,
		"HPCS_INSTANCE_ID": "",
		"E2E_IAM_URL":      cloud.IAMURL,
		"E2E_KMS_URL":      cloud.KMSURL,
		"E2E_LOGS_URL":     cloud.LogsURL,
		"E2E_IMAGE_NAME":   "",
		"E2E_WORKERS":      "",
	} {
		t.Setenv(k, v)
	}
	return cloud
}
