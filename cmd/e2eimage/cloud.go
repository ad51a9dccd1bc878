package main

import (
	"flag"
	"fmt"

	"github.com/e2eimage/e2e"
	"github.com/e2eimage/e2e/iam"
	"github.com/e2eimage/e2e/keys"
)

// The cloud commands (keys, audit) read their settings as `run` does:
// an optional JSON config file (--config), then the environment variables
// of package e2e's Config.ApplyEnv (IBMCLOUD_API_KEY, KP_INSTANCE_ID or
// HPCS_INSTANCE_ID, IBMCLOUD_REGION, E2E_IAM_URL, E2E_KMS_URL, E2E_LOGS_URL…).

// configFlag adds --config to a cloud command's flags.
func configFlag(fs *flag.FlagSet) *string {
	return fs.String("config", "", "JSON config `file` as for 'e2eimage run' (environment variables override it)")
}

func loadCloudConfig(path string) (e2e.Config, error) {
	cfg, err := e2e.LoadConfig(path)
	if err != nil {
		return cfg, err
	}
	if cfg.APIKey == "" {
		return cfg, usagef("IBMCLOUD_API_KEY is not set (the IBM Cloud API key to authenticate with)")
	}
	if cfg.Region == "" {
		cfg.Region = "us-south"
	}
	if cfg.Endpoints.IAM == "" {
		cfg.Endpoints.IAM = iam.DefaultURL
	}
	return cfg, nil
}

// tokenSource is the one IAM token source a command's clients share.
func tokenSource(cfg e2e.Config) (*iam.TokenSource, error) {
	return iam.NewTokenSource(cfg.APIKey, cfg.Endpoints.IAM)
}

// newKeysClient is a Key Protect (or HPCS) client for cfg's instance, at
// E2E_KMS_URL or the public endpoint of the region.
func newKeysClient(cfg e2e.Config) (*keys.Client, error) {
	if cfg.KMS.InstanceID == "" {
		return nil, usagef("KP_INSTANCE_ID (or HPCS_INSTANCE_ID) is not set (the key management instance GUID)")
	}
	endpoint := cfg.Endpoints.KMS
	if endpoint == "" {
		// The public endpoints, as package e2e's defaults.
		if cfg.KMS.HPCS {
			endpoint = fmt.Sprintf("https://%s.api.%s.hs-crypto.appdomain.cloud", cfg.KMS.InstanceID, cfg.Region)
		} else {
			endpoint = fmt.Sprintf("https://%s.kms.cloud.ibm.com", cfg.Region)
		}
	}
	ts, err := tokenSource(cfg)
	if err != nil {
		return nil, err
	}
	return keys.NewClient(keys.Config{Endpoint: endpoint, InstanceID: cfg.KMS.InstanceID, HPCS: cfg.KMS.HPCS,
		Authenticator: ts, IAMURL: cfg.Endpoints.IAM})
}
