package provision_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/e2eimage/e2e/provision"
)

// Every verb, not only %v: %d printed the struct's fields, keys included.
func TestConfigRedactsEveryVerb(t *testing.T) {
	cfg := provision.Config{Endpoint: "https://sl.example", APIKey: "api-key-secret-1", Username: "user-1", ClassicAPIKey: "classic-secret-2"}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%d", "%x", "%X", "%q", "%10.4v"} {
		for _, v := range []any{cfg, &cfg} {
			out := fmt.Sprintf(verb, v)
			low := strings.ToLower(out)
			for _, secret := range []string{"api-key-secret-1", "classic-secret-2", "6170692d6b6579", "636c6173736963"} {
				if strings.Contains(low, secret) {
					t.Errorf("%s of %T prints a secret: %s", verb, v, out)
				}
			}
			if !strings.Contains(out, "user-1") {
				t.Errorf("%s of %T hides too much: %s", verb, v, out)
			}
		}
	}
}
