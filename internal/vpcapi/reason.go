package vpcapi

import "strings"

// StatusReason is one reason VPC gives for a resource's status, e.g.
// "encryption_key_deleted"; image's and provision's VPCStatusReason.
type StatusReason struct {
	Code, Message, MoreInfo string
}

// JoinReasons is reasons as "code: message; code: message", "" for none.
func JoinReasons(reasons []StatusReason) string {
	parts := make([]string, 0, len(reasons))
	for _, r := range reasons {
		parts = append(parts, r.Code+": "+r.Message)
	}
	return strings.Join(parts, "; ")
}
