package cosuri_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/e2eimage/e2e/internal/cosuri"
)

// FuzzParse: Parse never panics, refuses with a typed error, and what it
// accepts prints back unchanged and parses back to the same parts.
func FuzzParse(f *testing.F) {
	for _, c := range goodURIs {
		f.Add(c.in)
	}
	for _, c := range badURIs {
		f.Add(c.in)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, err := cosuri.Parse(s)
		if err != nil {
			var ce *cosuri.Error
			if !errors.As(err, &ce) || !(errors.Is(err, cosuri.ErrSyntax) || errors.Is(err, cosuri.ErrRegion) ||
				errors.Is(err, cosuri.ErrBucket) || errors.Is(err, cosuri.ErrObject)) {
				t.Fatalf("Parse(%q): untyped error %v", s, err)
			}
			return
		}
		if u.String() != s {
			t.Fatalf("round trip: %q → %+v → %q", s, u, u.String())
		}
		again, err := cosuri.Parse(u.String())
		if err != nil || again != u {
			t.Fatalf("Parse(String(%+v)) = %+v, %v", u, again, err)
		}
		if strings.Contains(u.Region, "/") || strings.Contains(u.Bucket, "/") || u.Object == "" || strings.HasSuffix(u.Object, "/") {
			t.Fatalf("bad split %+v", u)
		}
	})
}
