package e2etest_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/IBM/go-sdk-core/v5/core"
	"github.com/IBM/vpc-go-sdk/vpcv1"

	"github.com/e2eimage/e2e/e2etest"
)

// FuzzVPCCreateImage posts arbitrary image prototypes: the emulator answers
// 201 with an image or 4xx in VPC's error envelope, never 5xx or a panic.
func FuzzVPCCreateImage(f *testing.F) {
	cloud, err := e2etest.Start()
	if err != nil {
		f.Fatal(err)
	}
	defer cloud.Close()
	// Seeds: what vpcv1 sends for an encrypted and a plain import.
	for _, p := range []*vpcv1.ImagePrototypeImageByFile{
		{Name: core.StringPtr("seed-encrypted"), File: &vpcv1.ImageFilePrototype{Href: core.StringPtr("cos://us-south/b/x.qcow2")},
			OperatingSystem:  &vpcv1.OperatingSystemIdentityByName{Name: core.StringPtr("ubuntu-24-04-amd64")},
			EncryptedDataKey: core.StringPtr("ZXhhbXBsZQ=="),
			EncryptionKey:    &vpcv1.EncryptionKeyIdentityByCRN{CRN: core.StringPtr("crn:v1:bluemix:public:kms:us-south:a/acct:inst:key:id")}},
		{File: &vpcv1.ImageFilePrototype{Href: core.StringPtr("cos://us-south/b/x.vhd")},
			OperatingSystem: &vpcv1.OperatingSystemIdentityByName{Name: core.StringPtr("debian-12-amd64")}},
	} {
		b, err := json.Marshal(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"file":{"href":"cos://us-south/b/"},"operating_system":{"name":"-amd64"}}`))
	f.Add([]byte(`{"name":"a","file":null,"source_volume":{"id":"v"}}`))
	f.Add([]byte(`[]`))
	token := cloud.NewToken()
	f.Fuzz(func(t *testing.T, body []byte) {
		postVPCCreate(t, cloud.VPCURL+"/images", token, "image", body)
	})
}

// postVPCCreate posts body to a VPC collection and fails t unless the
// answer is 201 with a pending resource (noun names it) or 4xx in VPC's
// error envelope: never 5xx, never a body that is not JSON.
func postVPCCreate(t *testing.T, url, token, noun string, body []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url+"?version=2026-06-23&generation=2", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	out, _ := io.ReadAll(res.Body)
	var m map[string]any
	if err := json.Unmarshal(out, &m); err != nil {
		t.Fatalf("%d answer is not JSON: %q", res.StatusCode, out)
	}
	switch {
	case res.StatusCode == http.StatusCreated:
		if m["id"] == nil || m["status"] != "pending" {
			t.Fatalf("201 without a pending %s: %s", noun, out)
		}
	case res.StatusCode >= 400 && res.StatusCode < 500:
		if errs, _ := m["errors"].([]any); len(errs) == 0 {
			t.Fatalf("%d without VPC's error envelope: %s", res.StatusCode, out)
		}
	default:
		t.Fatalf("status %d for %q", res.StatusCode, body)
	}
}
