package cosuri_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/e2eimage/e2e/internal/cosuri"
)

func TestParseGood(t *testing.T) {
	for _, c := range goodURIs {
		u, err := cosuri.Parse(c.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", c.in, err)
			continue
		}
		if u != c.want {
			t.Errorf("Parse(%q) = %+v, want %+v", c.in, u, c.want)
		}
		if u.String() != c.in {
			t.Errorf("Parse(%q).String() = %q", c.in, u.String())
		}
		if err := u.Validate(); err != nil {
			t.Errorf("%+v.Validate() = %v", u, err)
		}
	}
}

func TestParseBad(t *testing.T) {
	for _, c := range badURIs {
		u, err := cosuri.Parse(c.in)
		var ce *cosuri.Error
		switch {
		case err == nil:
			t.Errorf("Parse(%q) = %+v, want an error (%s)", c.in, u, c.why)
		case !errors.Is(err, c.kind):
			t.Errorf("Parse(%q) = %v, want kind %v", c.in, err, c.kind)
		case !errors.As(err, &ce) || ce.Kind != c.kind:
			t.Errorf("Parse(%q) = %#v, want a *cosuri.Error of kind %v", c.in, err, c.kind)
		case !strings.Contains(err.Error(), c.why):
			t.Errorf("Parse(%q) = %q, want the reason to say %q", c.in, err, c.why)
		case u != cosuri.URI{}:
			t.Errorf("Parse(%q) returned %+v with its error", c.in, u)
		}
	}
}

// TestValidateBuiltURIs: a URI built from parts (as the upload does) is
// held to the same rules as a parsed one, and its error names the URI.
func TestValidateBuiltURIs(t *testing.T) {
	for _, c := range badURIs {
		if c.kind == cosuri.ErrSyntax {
			continue // no parts to build from
		}
		rest := strings.TrimPrefix(c.in, cosuri.Scheme)
		region, rest, _ := strings.Cut(rest, "/")
		bucket, object, _ := strings.Cut(rest, "/")
		u := cosuri.URI{Region: region, Bucket: bucket, Object: object}
		err := u.Validate()
		var ce *cosuri.Error
		if !errors.Is(err, c.kind) || !errors.As(err, &ce) || ce.URI == "" {
			t.Errorf("%+v.Validate() = %v, want a *cosuri.Error of kind %v naming the URI", u, err, c.kind)
		}
	}
}

func TestPartValidatorsAlone(t *testing.T) {
	checks := []struct {
		name string
		fn   func(string) error
		kind error
		good []string
		bad  []string
	}{
		{"region", cosuri.ValidateRegion, cosuri.ErrRegion,
			[]string{"us-south", "us", "eu", "ap", "ams03", "us-geo", "a1-b2-c3"}, []string{"", "Us", "us-", "-us", "us--south", "9", "us.south"}},
		{"bucket", cosuri.ValidateBucket, cosuri.ErrBucket,
			[]string{"abc", "a.b.c", "a-b", "1.2.3", "0.9-a"}, []string{"", "ab", "a_b", "a..b", ".ab", "10.0.0.1", "Abc"}},
		{"object", cosuri.ValidateObject, cosuri.ErrObject,
			[]string{"a", "a/b", "/a", "a b", "ü", "."}, []string{"", "a/", "/", "a\tb", "\xc3"}},
	}
	for _, c := range checks {
		for _, s := range c.good {
			if err := c.fn(s); err != nil {
				t.Errorf("%s %q: %v", c.name, s, err)
			}
		}
		for _, s := range c.bad {
			err := c.fn(s)
			var ce *cosuri.Error
			if !errors.Is(err, c.kind) || !errors.As(err, &ce) || ce.URI != "" {
				t.Errorf("%s %q: %v, want a *cosuri.Error of kind %v without a URI", c.name, s, err, c.kind)
			}
		}
	}
}

// TestErrorTextIsBounded: a huge input is not repeated whole in the error.
func TestErrorTextIsBounded(t *testing.T) {
	for _, s := range []string{
		"s3://" + strings.Repeat("x", 1<<20),
		"cos://us-south/" + strings.Repeat("b", 1<<20) + "/o",
		"cos://us-south/bucket/" + strings.Repeat("k", 1<<20) + "/",
	} {
		_, err := cosuri.Parse(s)
		if err == nil || len(err.Error()) > 600 {
			t.Errorf("Parse(%d bytes): error of %d bytes: %.100v", len(s), len(err.Error()), err)
		}
	}
}
