package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/e2eimage/e2e/e2etest"
)

// Info is what e2ecloud prints: the exported fields of e2etest.Cloud under
// names that decode back into one (encoding/json matches names ignoring
// case), so a Go program can rebuild the fields with
// json.Unmarshal(line, &cloud).
type Info struct {
	Region              string `json:"region"`
	AccountID           string `json:"accountId"`
	APIKey              string `json:"apiKey"`
	Username            string `json:"username"`
	IAMURL              string `json:"iamUrl"`
	KMSURL              string `json:"kmsUrl"`
	KPInstanceID        string `json:"kpInstanceId"`
	HPCSInstanceID      string `json:"hpcsInstanceId"`
	COSURL              string `json:"cosUrl"`
	COSInstanceID       string `json:"cosInstanceId"`
	HMACAccessKeyID     string `json:"hmacAccessKeyId"`
	HMACSecretAccessKey string `json:"hmacSecretAccessKey"`
	SoftLayerURL        string `json:"softLayerUrl"`
	LogsURL             string `json:"logsUrl"`
	VPCURL              string `json:"vpcUrl"`
}

func infoOf(c *e2etest.Cloud) Info {
	return Info{
		Region: c.Region, AccountID: c.AccountID, APIKey: c.APIKey, Username: c.Username,
		IAMURL: c.IAMURL, KMSURL: c.KMSURL, KPInstanceID: c.KPInstanceID, HPCSInstanceID: c.HPCSInstanceID,
		COSURL: c.COSURL, COSInstanceID: c.COSInstanceID,
		HMACAccessKeyID: c.HMACAccessKeyID, HMACSecretAccessKey: c.HMACSecretAccessKey,
		SoftLayerURL: c.SoftLayerURL, LogsURL: c.LogsURL, VPCURL: c.VPCURL,
	}
}

// JSON is the info as one line of JSON, newline included.
func (i Info) JSON() ([]byte, error) {
	b, err := json.Marshal(i)
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// Env is the info as the environment variables e2e.LoadConfig reads, as
// shell export lines (the COS emulator is path-style only, hence
// E2E_COS_PATH_STYLE).
func (i Info) Env() []byte {
	var b strings.Builder
	for _, kv := range [][2]string{
		{"IBMCLOUD_API_KEY", i.APIKey},
		{"IBMCLOUD_REGION", i.Region},
		{"E2E_IAM_URL", i.IAMURL},
		{"E2E_KMS_URL", i.KMSURL},
		{"E2E_COS_URL", i.COSURL},
		{"E2E_SOFTLAYER_URL", i.SoftLayerURL},
		{"E2E_LOGS_URL", i.LogsURL},
		{"E2E_VPC_URL", i.VPCURL},
		{"E2E_COS_PATH_STYLE", "true"},
		{"KP_INSTANCE_ID", i.KPInstanceID},
		{"COS_INSTANCE_ID", i.COSInstanceID},
	} {
		fmt.Fprintf(&b, "export %s=%s\n", kv[0], shellQuote(kv[1]))
	}
	return []byte(b.String())
}

// shellQuote single-quotes s for POSIX shells.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// writeAtomic writes data to path through a temporary file in the same
// directory, so a reader never sees it half written. The mode is 0600:
// it holds credentials, if only an emulator's.
func writeAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".e2ecloud-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
