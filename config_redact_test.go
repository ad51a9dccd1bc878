package e2e

import (
	"fmt"
	"strings"
	"testing"
)

// Cloud-init user data often carries passwords and tokens: a Config, a
// Pipeline (which prints its Config) and a ServerConfig show its size
// only, whatever the verb, and printing does not change the caller's.
func TestConfigStringRedactsUserData(t *testing.T) {
	const secret = "#cloud-config\npassword: hunter2-user-data"
	c := Config{APIKey: "k", Server: &ServerConfig{Hostname: "web-1", UserData: secret}}
	for _, s := range []string{c.String(), fmt.Sprintf("%v", c), fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", c),
		(&Pipeline{cfg: c}).String(), fmt.Sprintf("%v", c.Server), fmt.Sprintf("%+v", *c.Server), fmt.Sprintf("%#v", c.Server)} {
		if strings.Contains(s, "hunter2") {
			t.Errorf("the user data shows: %s", s)
		}
		if !strings.Contains(s, fmt.Sprintf("[redacted: %d bytes]", len(secret))) || !strings.Contains(s, "web-1") {
			t.Errorf("want the server with its user data's size: %s", s)
		}
	}
	if c.Server.UserData != secret {
		t.Fatalf("String changed the caller's user data to %q", c.Server.UserData)
	}
}
