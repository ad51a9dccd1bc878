package main

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/e2eimage/e2e/e2etest"
	"github.com/e2eimage/e2e/provision"
)

func prepared(t *testing.T) (*e2etest.Cloud, map[string]string) {
	t.Helper()
	cloud, err := e2etest.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cloud.Close() })
	m, err := prepare(context.Background(), cloud)
	if err != nil {
		t.Fatal(err)
	}
	return cloud, m
}

func envOf(m map[string]string, extra ...string) func(string) string {
	c := map[string]string{}
	for k, v := range m {
		c[k] = v
	}
	for i := 0; i+1 < len(extra); i += 2 {
		c[extra[i]] = extra[i+1]
	}
	return func(k string) string { return c[k] }
}

// One ready server from the template, tagged by its order; a rerun finds
// it instead of ordering a second one.
func TestRunOrdersOnce(t *testing.T) {
	cloud, m := prepared(t)
	var out bytes.Buffer
	if err := run(context.Background(), &out, envOf(m, "E2E_HOSTNAME", "web1")); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	gs := cloud.Guests()
	if len(gs) != 1 {
		t.Fatalf("%d servers, want 1", len(gs))
	}
	g := gs[0]
	tag := provision.Order{Hostname: "web1", Domain: "example.com"}.Tag()
	if g.Hostname != "web1" || g.Datacenter != "dal10" || g.TemplateGUID != m["E2E_TEMPLATE_GUID"] ||
		g.ProvisionDate.IsZero() || g.PowerState != "RUNNING" || !slices.Contains(g.Tags, tag) {
		t.Errorf("server: %+v (want tag %s)", g, tag)
	}
	if !strings.Contains(out.String(), "is ready: RUNNING") {
		t.Errorf("output:\n%s", out.String())
	}

	if err := run(context.Background(), new(bytes.Buffer), envOf(m, "E2E_HOSTNAME", "web1")); err != nil {
		t.Fatal(err)
	}
	if n := len(cloud.Guests()); n != 1 {
		t.Errorf("a rerun left %d servers, want 1", n)
	}
}

// Without E2E_CONFIRM_ORDER=yes (the default on IBM Cloud) nothing is bought.
func TestRunVerifyOnly(t *testing.T) {
	cloud, m := prepared(t)
	var out bytes.Buffer
	if err := run(context.Background(), &out, envOf(m, "E2E_CONFIRM_ORDER", "")); err != nil {
		t.Fatal(err)
	}
	if n := len(cloud.Guests()); n != 0 {
		t.Errorf("%d servers ordered without confirmation", n)
	}
	if !strings.Contains(out.String(), "$0.") || !strings.Contains(out.String(), "not ordered") {
		t.Errorf("output:\n%s", out.String())
	}
}

func TestRunDefault(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), &out, func(string) string { return "" }); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "e2e-example-vsi.example.com is ready") {
		t.Errorf("output:\n%s", out.String())
	}
}

func TestRunFailures(t *testing.T) {
	ctx := context.Background()
	t.Run("bad datacenter", func(t *testing.T) {
		cloud, m := prepared(t)
		err := run(ctx, new(bytes.Buffer), envOf(m, "E2E_DATACENTER", "atlantis1"))
		var ve *provision.ValidationError
		if !errors.As(err, &ve) || ve.Field != "Datacenter" {
			t.Fatalf("got %v, want a ValidationError on Datacenter", err)
		}
		if n := len(cloud.Guests()); n != 0 {
			t.Errorf("%d servers", n)
		}
	})
	t.Run("unknown template", func(t *testing.T) {
		cloud, m := prepared(t)
		if err := run(ctx, new(bytes.Buffer), envOf(m, "E2E_TEMPLATE_GUID", "0f0f0f0f-0000-4000-8000-000000000000")); err == nil {
			t.Fatal("ordered from a template that does not exist")
		}
		if n := len(cloud.Guests()); n != 0 {
			t.Errorf("%d servers", n)
		}
	})
	t.Run("bad hostname", func(t *testing.T) {
		_, m := prepared(t)
		if err := run(ctx, new(bytes.Buffer), envOf(m, "E2E_HOSTNAME", "not a hostname!")); !errors.Is(err, provision.ErrInvalidOrder) {
			t.Fatalf("got %v, want provision.ErrInvalidOrder", err)
		}
	})
	// A refused placeOrder buys nothing; the rerun orders exactly one server.
	t.Run("placeOrder refused, then rerun", func(t *testing.T) {
		cloud, m := prepared(t)
		cloud.InjectFault(e2etest.ServiceSoftLayer, "SoftLayer_Product_Order::placeOrder",
			e2etest.Fault{Status: 400, Code: "SoftLayer_Exception_Order_InvalidData", Message: "no capacity"})
		var ae *provision.APIError
		if err := run(ctx, new(bytes.Buffer), envOf(m)); !errors.As(err, &ae) || ae.Exception != "SoftLayer_Exception_Order_InvalidData" {
			t.Fatalf("got %v, want the refusal as an APIError", err)
		}
		if n := len(cloud.Guests()); n != 0 {
			t.Fatalf("%d servers after a refused order", n)
		}
		if err := run(ctx, new(bytes.Buffer), envOf(m)); err != nil {
			t.Fatal(err)
		}
		if n := len(cloud.Guests()); n != 1 {
			t.Errorf("%d servers after the rerun, want 1", n)
		}
	})
	// placeOrder's answer lost on the network after the order was placed:
	// the run finds the server it bought instead of buying another.
	t.Run("placeOrder answer lost", func(t *testing.T) {
		cloud, m := prepared(t)
		cloud.InjectFault(e2etest.ServiceSoftLayer, "SoftLayer_Product_Order::placeOrder", e2etest.Fault{Drop: true, DropAfter: 1})
		var out bytes.Buffer
		if err := run(ctx, &out, envOf(m)); err != nil {
			t.Fatalf("run: %v\n%s", err, out.String())
		}
		if n := len(cloud.Guests()); n != 1 {
			t.Errorf("%d servers, want 1", n)
		}
	})
	t.Run("cancelled", func(t *testing.T) {
		_, m := prepared(t)
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if err := run(cctx, new(bytes.Buffer), envOf(m)); !errors.Is(err, context.Canceled) {
			t.Fatalf("got %v", err)
		}
	})
}
