package keys_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/e2eimage/e2e/keys"
)

// Every verb, not only %v: %d printed the struct's fields, API key included.
func TestConfigRedactsAPIKey(t *testing.T) {
	cfg := keys.Config{Endpoint: "https://kp.example", InstanceID: "inst-1", APIKey: "api-key-secret-1"}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%d", "%x", "%X", "%q", "%10.4v"} {
		for _, v := range []any{cfg, &cfg} {
			out := fmt.Sprintf(verb, v)
			if strings.Contains(out, "api-key-secret-1") || strings.Contains(strings.ToLower(out), "6170692d6b6579") {
				t.Errorf("%s of %T prints the API key: %s", verb, v, out)
			}
			if !strings.Contains(out, "inst-1") {
				t.Errorf("%s of %T hides too much: %s", verb, v, out)
			}
		}
	}
}
