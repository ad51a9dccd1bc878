package main

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/e2eimage/e2e/e2etest"
	"github.com/e2eimage/e2e/iam"
)

func settings(cloud *e2etest.Cloud, extra ...string) func(string) string {
	m := map[string]string{"IBMCLOUD_API_KEY": cloud.APIKey, "E2E_IAM_URL": cloud.IAMURL, "KP_INSTANCE_ID": cloud.KPInstanceID}
	for i := 0; i+1 < len(extra); i += 2 {
		m[extra[i]] = extra[i+1]
	}
	return func(k string) string { return m[k] }
}

func startCloud(t *testing.T) *e2etest.Cloud {
	t.Helper()
	cloud, err := e2etest.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cloud.Close() })
	return cloud
}

// authorizations returns the server-protect → kms policies on instance.
func authorizations(cloud *e2etest.Cloud, instance string) []e2etest.PolicyInfo {
	var ps []e2etest.PolicyInfo
	for _, p := range cloud.Policies() {
		if p.Type == "authorization" && p.Subject["serviceName"] == "server-protect" &&
			p.Resource["serviceName"] == "kms" && p.Resource["serviceInstance"] == instance {
			ps = append(ps, p)
		}
	}
	return ps
}

func TestRunCreatesPolicyOnce(t *testing.T) {
	cloud := startCloud(t)
	var out bytes.Buffer
	if err := run(context.Background(), &out, settings(cloud)); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	ps := authorizations(cloud, cloud.KPInstanceID)
	if len(ps) != 1 || len(ps[0].Roles) != 1 || ps[0].Roles[0] != "Reader" {
		t.Fatalf("authorization policies: %+v (all: %+v)", ps, cloud.Policies())
	}
	if !strings.Contains(out.String(), "missing: server-protect") || !strings.Contains(out.String(), "created policy "+ps[0].ID) {
		t.Errorf("first run output:\n%s", out.String())
	}

	out.Reset()
	if err := run(context.Background(), &out, settings(cloud)); err != nil {
		t.Fatal(err)
	}
	if n := len(authorizations(cloud, cloud.KPInstanceID)); n != 1 {
		t.Errorf("a rerun left %d policies, want 1", n)
	}
	if !strings.Contains(out.String(), "present: ") || !strings.Contains(out.String(), "found policy "+ps[0].ID) {
		t.Errorf("rerun output:\n%s", out.String())
	}
}

func TestRunHPCS(t *testing.T) {
	cloud := startCloud(t)
	if err := run(context.Background(), new(bytes.Buffer), settings(cloud, "HPCS_INSTANCE_ID", cloud.HPCSInstanceID)); err != nil {
		t.Fatal(err)
	}
	for _, p := range cloud.Policies() {
		if p.Resource["serviceName"] == "hs-crypto" && p.Resource["serviceInstance"] == cloud.HPCSInstanceID {
			return
		}
	}
	t.Fatalf("no server-protect → hs-crypto policy: %+v", cloud.Policies())
}

func TestRunDefault(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), &out, func(string) string { return "" }); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "created policy") || !strings.Contains(out.String(), "verified:") {
		t.Errorf("output:\n%s", out.String())
	}
}

func TestRunFailures(t *testing.T) {
	cloud := startCloud(t)
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()

	err := run(context.Background(), new(bytes.Buffer), settings(cloud, "IBMCLOUD_API_KEY", "not-a-key"))
	if !errors.Is(err, iam.ErrInvalidAPIKey) {
		t.Errorf("wrong API key: %v", err)
	}
	if err := run(cancelled, new(bytes.Buffer), settings(cloud)); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
	// IAM refusing to create the policy surfaces with its status, and
	// nothing is left half-made.
	cloud.InjectFault(e2etest.ServiceIAM, "policies", e2etest.Fault{Status: 403, Message: "not allowed", Times: 100})
	err = run(context.Background(), new(bytes.Buffer), settings(cloud))
	var se *iam.ServiceError
	if !errors.As(err, &se) || se.Status != 403 {
		t.Errorf("refused policy call: %v", err)
	}
	cloud.ClearFaults()
	if n := len(authorizations(cloud, cloud.KPInstanceID)); n != 0 {
		t.Errorf("%d policies after failures, want 0", n)
	}
}
