package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestQuickstart runs README command one in process: every step must show,
// the audit trail must hold the key's wrap, the storage service's unwrap,
// the template and the server, and the proof must pass.
func TestQuickstart(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), &out); err != nil {
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
