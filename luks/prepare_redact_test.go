package luks_test

import (
	"encoding/hex"
	"fmt"
	"strings"
	"testing"

	"github.com/e2eimage/e2e/luks"
)

// A Prepared holds the volume key: printing it, by pointer or by value,
// with any verb, must not show the key in any encoding.
func TestPreparedDoesNotPrintVolumeKey(t *testing.T) {
	key := make([]byte, 64)
	for i := range key {
		key[i] = byte(0xA0 + i%16) // no byte that %v could print as a short common number
	}
	p, err := luks.Prepare(opts(luks.WithVolumeKey(key))...)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Zero()
	decimal := strings.Trim(fmt.Sprint(key[:8]), "[]") // "160 161 162 …", as %v prints a []byte
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%X", "%q", "%d", "%o", "%b", "%c", "%U"} {
		for _, arg := range []any{p, *p} {
			s := fmt.Sprintf(verb, arg)
			if strings.Contains(s, decimal) || strings.Contains(strings.ToLower(s), hex.EncodeToString(key[:8])) ||
				strings.Contains(s, string(key[:8])) || strings.Contains(s, `\xa0\xa1`) {
				t.Errorf("%s of a %T shows the volume key: %s", verb, arg, s)
			}
			if !strings.Contains(s, "HeaderSize") {
				t.Errorf("%s of a %T = %q, want a description with HeaderSize", verb, arg, s)
			}
		}
	}
}
