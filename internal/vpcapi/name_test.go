package vpcapi

import (
	"strings"
	"testing"
)

func TestNameProblem(t *testing.T) {
	for name, want := range map[string]string{
		"a": "", "ubuntu-enc-1": "", strings.Repeat("a", 63): "",
		"":                      "is required",
		strings.Repeat("a", 64): "is 64 characters; at most 63",
		"Ubuntu":                "must be lowercase",
		"1st":                   "start with a letter",
		"trailing-":             "not end with a dash",
		"under_score":           "must be lowercase letters, digits and dashes",
	} {
		got := NameProblem(name)
		if (want == "") != (got == "") || !strings.Contains(got, want) {
			t.Errorf("NameProblem(%q) = %q, want %q", name, got, want)
		}
	}
}
