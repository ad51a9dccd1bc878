package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/e2eimage/e2e"
)

// TestSummaryNamesTheVPCImage: a VPC run has no classic template; the
// summary must name the VPC image instead of "template 0 ()".
func TestSummaryNamesTheVPCImage(t *testing.T) {
	var b bytes.Buffer
	printSummary(&b, &e2e.Result{State: e2e.State{ObjectURI: "cos://us-south/b/o.qcow2", VPCImageID: "r006-image-1"}})
	if out := b.String(); !strings.Contains(out, "r006-image-1") || strings.Contains(out, "template   0") {
		t.Errorf("summary of a VPC run:\n%s", out)
	}
	b.Reset()
	printSummary(&b, &e2e.Result{State: e2e.State{TemplateID: 42, TemplateGUID: "g-42"}})
	if out := b.String(); !strings.Contains(out, "template   42 (g-42)") {
		t.Errorf("summary of a classic run:\n%s", out)
	}
}

// TestSummaryNamesTheVPCInstance: a VPC instance has no classic server ID;
// the summary must name the instance, its zone and status.
func TestSummaryNamesTheVPCInstance(t *testing.T) {
	var b bytes.Buffer
	printSummary(&b, &e2e.Result{
		State:  e2e.State{VPCImageID: "r006-image-1", VPCInstanceID: "0717_inst-1"},
		Server: &e2e.ServerInfo{VPCInstanceID: "0717_inst-1", Hostname: "web-1", Zone: "us-south-1", PowerState: "running", PrivateIP: "10.240.0.4"},
	})
	out := b.String()
	for _, want := range []string{"instance   0717_inst-1 web-1 zone us-south-1 status running private 10.240.0.4"} {
		if !strings.Contains(out, want) {
			t.Errorf("summary of a VPC instance lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "server     0") {
		t.Errorf("summary of a VPC instance prints a classic server 0:\n%s", out)
	}
}

// TestDemoFormats: `e2eimage demo` runs each generation against the
// embedded cloud and names what it made; an unknown format is a usage error.
func TestDemoFormats(t *testing.T) {
	for format, want := range map[string]string{"vhd": "template ", "qcow2": "instance "} {
		code, stdout, stderr := runCLI(t, nil, "demo", "--size", "2", "--format", format)
		if code != 0 || !strings.Contains(stdout, want) {
			t.Errorf("demo --format %s: exit %d, stdout lacks %q:\n%s\n%s", format, code, want, stdout, stderr)
		}
	}
	if code, _, stderr := runCLI(t, nil, "demo", "--format", "zip"); code != 2 || !strings.Contains(stderr, "--format must be") {
		t.Errorf("demo --format zip: exit %d, stderr %q; want a usage error", code, stderr)
	}
}
