package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/e2eimage/e2e"
)

// TestQuickstart runs README command one in process: every step must show,
// the audit trail must hold the key's wrap, the storage service's unwrap,
// the template and the server, and the proof must pass.
func TestQuickstart(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), &out, e2e.LUKSRaw); err != nil {
		t.Fatalf("quickstart: %v\n%s", err, out.String())
	}
	text := out.String()
	for _, want := range []string{
		"✓ root-key", "✓ data-key", "✓ authorize", "✓ bucket", "✓ encrypt-upload", "✓ verify",
		"✓ import", "✓ order", "✓ audit",
		"kms.secrets.wrap", "kms.secrets.unwrap", "by server-protect",
		"audit-log.vsi-image-template.create", "audit-log.vsi.provision",
		"decrypts to the 16777216 input bytes exactly", "quickstart: OK",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("quickstart output lacks %q:\n%s", want, text)
		}
	}
}

// TestQuickstartFormats runs the two other generations: the encrypted VHD
// of today's classic docs and qcow2+LUKS into VPC, instance included.
func TestQuickstartFormats(t *testing.T) {
	for format, wants := range map[e2e.Format][]string{
		e2e.EncryptedVHD: {"✓ import", "✓ order", "template ", "server ", "blktap encrypted VHD", "quickstart: OK"},
		e2e.QCOW2LUKS:    {"✓ import", "✓ order", "VPC image r", "instance ", "status running", "qcow2 + LUKS1", "kms.secrets.unwrap", "by is ", "quickstart: OK"},
	} {
		t.Run(string(format), func(t *testing.T) {
			var out bytes.Buffer
			if err := run(context.Background(), &out, format); err != nil {
				t.Fatalf("quickstart -format %s: %v\n%s", format, err, out.String())
			}
			for _, want := range append(wants, "decrypts to the 16777216 input bytes exactly") {
				if !strings.Contains(out.String(), want) {
					t.Errorf("quickstart -format %s output lacks %q:\n%s", format, want, out.String())
				}
			}
		})
	}
	if err := run(context.Background(), &bytes.Buffer{}, "zip"); err == nil || !strings.Contains(err.Error(), "unknown -format") {
		t.Errorf("quickstart -format zip = %v, want an unknown-format error", err)
	}
}
