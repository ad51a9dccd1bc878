package vpcapi

import "testing"

func TestJoinReasons(t *testing.T) {
	for _, tc := range []struct {
		in   []StatusReason
		want string
	}{
		{nil, ""},
		{[]StatusReason{{Code: "encryption_key_deleted", Message: "the key is gone", MoreInfo: "https://x"}}, "encryption_key_deleted: the key is gone"},
		{[]StatusReason{{Code: "a", Message: "one"}, {Code: "b", Message: "two"}}, "a: one; b: two"},
	} {
		if got := JoinReasons(tc.in); got != tc.want {
			t.Errorf("JoinReasons(%v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
