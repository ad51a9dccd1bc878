package e2e

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/e2eimage/e2e/storage"
)

func TestConfigValidateListsEveryProblem(t *testing.T) {
	err := Config{Server: &ServerConfig{}, Audit: true, Image: ImageConfig{Format: "iso"}}.Validate()
	var ce *ConfigError
	if !errors.As(err, &ce) {
		t.Fatalf("Validate() = %v, want *ConfigError", err)
	}
	for _, want := range []string{"IBMCLOUD_API_KEY", "kms.instanceId", "cos.bucket", "image.name", "image.os",
		`"iso"`, "server.hostname", "server.domain", "server.datacenter", "endpoints.logs"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
}

// TestConfigValidateNames: Validate refuses, naming the setting, exactly
// what the one cos:// parser of the upload and the import refuses.
func TestConfigValidateNames(t *testing.T) {
	base := Config{APIKey: "k", KMS: KMSConfig{InstanceID: "kp"}, Image: ImageConfig{Name: "n", OS: "UBUNTU_22_64"}}
	bad := []struct {
		region string
		cos    COSConfig
		want   string // the setting and a word of the reason
		uri    bool   // the problem is a storage.ErrInvalidURI
	}{
		{"", COSConfig{Bucket: "B_ad"}, "cos.bucket: bucket name", false},
		{"", COSConfig{Bucket: "a..b", Object: "x"}, "cos.bucket: bucket name", false},
		{"", COSConfig{Bucket: "ok-bucket", Object: "dir/"}, "cos.object: storage: invalid cos:// URI", true},
		{"", COSConfig{Bucket: "ok-bucket", Object: "dir/"}, "folder", true},
		{"", COSConfig{Bucket: "ok-bucket", Object: "a\x00b"}, "cos.object: ", true},
		{"US-SOUTH", COSConfig{Bucket: "ok-bucket", Object: "x"}, "region (IBMCLOUD_REGION): region \"US-SOUTH\"", false},
		{"us_south", COSConfig{Bucket: "ok-bucket"}, "region (IBMCLOUD_REGION)", false},
		{"us", COSConfig{Bucket: "ok-bucket", Object: "x"}, "not a cloud region", false},
		{"ams03", COSConfig{Bucket: "ok-bucket", Object: "x"}, "not a cloud region", false},
	}
	for _, b := range bad {
		c := base
		c.Region, c.COS = b.region, b.cos
		err := c.Validate()
		if err == nil || !strings.Contains(err.Error(), b.want) {
			t.Errorf("Validate(region %q, bucket %q, object %q) = %v, want it to say %q", b.region, b.cos.Bucket, b.cos.Object, err, b.want)
			continue
		}
		if got := errors.Is(err, storage.ErrInvalidURI); got != b.uri {
			t.Errorf("Validate(region %q, object %q): errors.Is(storage.ErrInvalidURI) = %t, want %t", b.region, b.cos.Object, got, b.uri)
		}
		if n := len(err.(*ConfigError).Problems); n != 1 {
			t.Errorf("Validate(region %q, bucket %q, object %q): %d problems, want 1: %v", b.region, b.cos.Bucket, b.cos.Object, n, err)
		}
	}
	// Regions and object names the upload and the import both take.
	for _, good := range []struct {
		region string
		cos    COSConfig
	}{
		{"", COSConfig{Bucket: "ok-bucket", Object: "images/ubuntu.luks"}},
		{"us-south", COSConfig{Bucket: "ok-bucket", Object: "images/ubuntu.vhd-0.vhd"}},
		{"eu-de", COSConfig{Bucket: "ok-bucket", Object: "ubuntu.qcow2"}},
		{"jp-tok", COSConfig{Bucket: "a.b-c", Object: "dir//x.luks"}},
		{"eu-de", COSConfig{Bucket: "ok-bucket"}},
	} {
		c := base
		c.Region, c.COS = good.region, good.cos
		if err := c.Validate(); err != nil {
			t.Errorf("Validate(region %q, bucket %q, object %q) = %v", good.region, good.cos.Bucket, good.cos.Object, err)
		}
	}
}

func TestConfigDefaults(t *testing.T) {
	c := Config{Image: ImageConfig{Name: "img", Format: EncryptedVHD}, Server: &ServerConfig{}}.withDefaults()
	if c.Region != "us-south" || c.Endpoints.KMS != "https://us-south.kms.cloud.ibm.com" ||
		c.Endpoints.COS != "https://s3.us-south.cloud-object-storage.appdomain.cloud" ||
		c.Endpoints.IAM != "https://iam.cloud.ibm.com" || c.Endpoints.SoftLayer != "https://api.softlayer.com/rest/v3.1" {
		t.Errorf("endpoints not defaulted: %+v", c.Endpoints)
	}
	if c.COS.Object != "img.vhd-0.vhd" {
		t.Errorf("VHD object name = %q, want IBM's name.vhd-0.vhd convention", c.COS.Object)
	}
	if time.Duration(c.Encrypt.IterTime) != 2*time.Second || c.Server.CPUs != 1 || c.Server.MemoryMB != 2048 {
		t.Errorf("defaults wrong: %+v %+v", c.Encrypt, c.Server)
	}
	hpcs := Config{Region: "eu-de", KMS: KMSConfig{InstanceID: "abc", HPCS: true}}.withDefaults()
	if hpcs.Endpoints.KMS != "https://abc.api.eu-de.hs-crypto.appdomain.cloud" {
		t.Errorf("HPCS endpoint = %q", hpcs.Endpoints.KMS)
	}
}

func TestLoadConfigFileAndEnv(t *testing.T) {
	path := filepath.Join(t.TempDir(), "e2e.json")
	file := `{"region":"eu-de","kms":{"instanceId":"kp-from-file"},"cos":{"instanceId":"cos","bucket":"images"},
	  "image":{"name":"n","os":"UBUNTU_22_64","format":"vhd"},"encrypt":{"iterTime":"250ms"},
	  "server":{"hostname":"h","domain":"example.com","datacenter":"fra02"}}`
	if err := os.WriteFile(path, []byte(file), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("IBMCLOUD_API_KEY", "secret-api-key")
	t.Setenv("KP_INSTANCE_ID", "kp-from-env")
	c, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	if c.Region != "eu-de" || c.KMS.InstanceID != "kp-from-env" || c.APIKey != "secret-api-key" ||
		c.Image.Format != EncryptedVHD || time.Duration(c.Encrypt.IterTime) != 250*time.Millisecond || c.Server.Datacenter != "fra02" {
		t.Errorf("loaded %+v", c)
	}
	if err := c.Validate(); err != nil {
		t.Errorf("Validate() = %v", err)
	}
	if s := c.String(); strings.Contains(s, "secret-api-key") || !strings.Contains(s, "[redacted]") {
		t.Errorf("String() leaks or omits the redaction: %s", s)
	}
}

func TestLoadConfigRejectsUnknownFieldsAndBadEnv(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.json")
	if err := os.WriteFile(path, []byte(`{"regoin":"typo"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadConfig(path); err == nil || !strings.Contains(err.Error(), "regoin") {
		t.Errorf("unknown field: err = %v", err)
	}
	t.Setenv("E2E_WORKERS", "zero")
	if _, err := LoadConfig(""); err == nil || !strings.Contains(err.Error(), "E2E_WORKERS") {
		t.Errorf("bad E2E_WORKERS: err = %v", err)
	}
	if _, err := LoadConfig(filepath.Join(t.TempDir(), "missing.json")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: err = %v", err)
	}
}

func FuzzLoadConfig(f *testing.F) {
	f.Add([]byte(`{"region":"us-south","kms":{"instanceId":"x"},"encrypt":{"iterTime":"1s"}}`))
	f.Add([]byte(`{"server":{"sshKeyIds":[1,2]},"image":{"format":"vhd"}}`))
	f.Add([]byte(`{"encrypt":{"iterTime":"forever"}}`))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(dir, "c.json")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		c, err := LoadConfig(path)
		if err != nil {
			return
		}
		_ = c.Validate()
		_ = c.withDefaults().String()
	})
}
