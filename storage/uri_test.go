package storage_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/e2eimage/e2e/storage"
)

func TestParseURI(t *testing.T) {
	good := map[string]storage.URI{
		"cos://us-south/images/ubuntu.vhd-0.vhd":  {"us-south", "images", "ubuntu.vhd-0.vhd"},
		"cos://eu-de/my.bucket-1/dir/sub/a b.img": {"eu-de", "my.bucket-1", "dir/sub/a b.img"},
		"cos://us/abc/x":               {"us", "abc", "x"},
		"cos://jp-tok/abc/%41/ünïcode": {"jp-tok", "abc", "%41/ünïcode"},
	}
	for s, want := range good {
		u, err := storage.ParseURI(s)
		if err != nil {
			t.Errorf("ParseURI(%q): %v", s, err)
			continue
		}
		if u != want {
			t.Errorf("ParseURI(%q) = %+v, want %+v", s, u, want)
		}
		if u.String() != s {
			t.Errorf("String() = %q, want %q", u.String(), s)
		}
	}
	bad := []string{
		"", "cos://", "cos://us-south", "cos://us-south/bucket", "cos://us-south/bucket/",
		"s3://us-south/bucket/key", "COS://us-south/bucket/key", "cos:///bucket/key",
		"cos://US-SOUTH/bucket/key", "cos://us_south/bucket/key", "cos://us--south/bucket/key", "cos://1us/bucket/key",
		"cos://us-south/ab/key", "cos://us-south/" + strings.Repeat("a", 64) + "/key",
		"cos://us-south/Bucket/key", "cos://us-south/bu_cket/key", "cos://us-south/-bucket/key",
		"cos://us-south/bucket-/key", "cos://us-south/buc..ket/key", "cos://us-south/192.168.1.1/key",
		"cos://us-south/bucket/" + strings.Repeat("k", 1025), "cos://us-south/bucket/a\nb", "cos://us-south/bucket/\xff",
	}
	for _, s := range bad {
		if u, err := storage.ParseURI(s); !errors.Is(err, storage.ErrInvalidURI) {
			t.Errorf("ParseURI(%q) = %+v, %v; want ErrInvalidURI", s, u, err)
		}
	}
}

func FuzzParseURI(f *testing.F) {
	for _, s := range []string{
		"cos://us-south/images/ubuntu.vhd-0.vhd", "cos://eu-de/my.bucket-1/dir/sub/a b.img",
		"cos://us-south/bucket/", "cos://us-south/192.168.1.1/key", "cos://us/abc/%2F/x", "cos://a-1/abc/\xff",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, err := storage.ParseURI(s)
		if err != nil {
			if !errors.Is(err, storage.ErrInvalidURI) {
				t.Fatalf("error %v does not wrap ErrInvalidURI", err)
			}
			return
		}
		if u.String() != s {
			t.Fatalf("round trip: %q → %+v → %q", s, u, u.String())
		}
		if err := u.Validate(); err != nil {
			t.Fatalf("parsed URI does not validate: %v", err)
		}
		if u.Region == "" || u.Bucket == "" || u.Object == "" || strings.Contains(u.Bucket, "/") || strings.Contains(u.Region, "/") {
			t.Fatalf("bad split %+v", u)
		}
	})
}
