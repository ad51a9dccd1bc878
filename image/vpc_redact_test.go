package image_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/IBM/go-sdk-core/v5/core"

	"github.com/e2eimage/e2e/image"
)

// valueAuth is an authenticator stored by value: printing a struct that
// holds it prints its fields, key included, unless the struct redacts.
type valueAuth struct{ Key string }

func (valueAuth) AuthenticationType() string       { return "value" }
func (valueAuth) Authenticate(*http.Request) error { return nil }
func (valueAuth) Validate() error                  { return nil }

var _ core.Authenticator = valueAuth{}

func TestVPCConfigDoesNotPrintTheAuthenticator(t *testing.T) {
	cfg := image.VPCConfig{Region: "us-south", Authenticator: valueAuth{Key: "sekrit-api-key"}}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d"} {
		for _, v := range []any{cfg, &cfg} {
			if s := fmt.Sprintf(verb, v); strings.Contains(s, "sekrit") || strings.Contains(s, fmt.Sprintf("%x", "sekrit")) {
				t.Fatalf("%s of %T printed the API key: %s", verb, v, s)
			}
		}
	}
	if s := fmt.Sprint(cfg); !strings.Contains(s, `Region:"us-south"`) || !strings.Contains(s, "valueAuth") {
		t.Errorf("VPCConfig prints %s, want its region and the authenticator's type", s)
	}
}
