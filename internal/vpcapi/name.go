package vpcapi

import (
	"fmt"
	"regexp"
)

var namePattern = regexp.MustCompile(`^([a-z]|[a-z][-a-z0-9]*[a-z0-9])$`)

// NameProblem says what the VPC API would refuse in a resource name (an
// image's, an instance's), "" when nothing: names are 1 to 63 lowercase
// letters, digits and dashes, start with a letter and do not end with a dash.
func NameProblem(name string) string {
	switch {
	case name == "":
		return "is required"
	case len(name) > 63:
		return fmt.Sprintf("is %d characters; at most 63", len(name))
	case !namePattern.MatchString(name):
		return fmt.Sprintf("%q must be lowercase letters, digits and dashes, start with a letter and not end with a dash", name)
	}
	return ""
}
