package luks_test

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/e2eimage/e2e/luks"
)

// TestNoSecretsInOutput formats every value a caller might log and checks
// that neither the volume key nor the passphrase shows up.
func TestNoSecretsInOutput(t *testing.T) {
	vk := bytes.Repeat([]byte{0xA5, 0x5A, 0x3C, 0xC3}, 16)
	pass := []byte("PASSPHRASE-MARKER")
	var img bytes.Buffer
	w, err := luks.NewWriter(&img, pass, opts(luks.WithVolumeKey(vk))...)
	if err != nil {
		t.Fatal(err)
	}
	out := fmt.Sprintf("%v %+v %#v %s", w, w, w, w)
	w.Write([]byte("x"))
	w.Close()
	v, err := luks.Open(bytes.NewReader(img.Bytes()), pass)
	if err != nil {
		t.Fatal(err)
	}
	h := v.Header()
	_, werr := luks.Open(bytes.NewReader(img.Bytes()), []byte("PASSPHRASE-WRONG"))
	_, derr := luks.Decrypt(io.Discard, bytes.NewReader(img.Bytes()), []byte("PASSPHRASE-WRONG"))
	out += fmt.Sprintf("%v %+v %#v %v %+v %#v %v %v", v, v, v, h, h, h, werr, derr)
	for _, s := range []string{hex.EncodeToString(vk[:8]), strings.ToUpper(hex.EncodeToString(vk[:8])), string(vk[:8]), "PASSPHRASE-", "a5 5a 3c c3", "165 90 60 195"} {
		if strings.Contains(out, s) {
			t.Fatalf("output contains a secret (%q):\n%s", s, out)
		}
	}
	if !strings.Contains(out, "luks.Volume{LUKS1 aes-xts-plain64, 512 bytes") {
		t.Errorf("unexpected description: %s", out)
	}
}
