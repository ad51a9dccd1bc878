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
