package provision_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/e2eimage/e2e/provision"
)

// A classic Order hides its cloud-init user data like a VPC instance
// request does, whatever the verb, by value or by pointer.
func TestOrderUserDataNotPrinted(t *testing.T) {
	o := provision.Order{Hostname: "web1", Domain: "example.com", UserData: "password: sekrit-user-data"}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d"} {
		for _, v := range []any{o, &o} {
			s := fmt.Sprintf(verb, v)
			if strings.Contains(s, "sekrit") || strings.Contains(s, fmt.Sprintf("%x", "sekrit")) {
				t.Fatalf("%s printed the user data: %s", verb, s)
			}
		}
	}
	if s := fmt.Sprint(o); !strings.Contains(s, `Hostname:"web1"`) || !strings.Contains(s, "UserData:26 bytes") {
		t.Fatalf("String() = %s, want the order with its user data's size", s)
	}
}
