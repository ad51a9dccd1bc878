package storage_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/e2eimage/e2e/storage"
)

func TestParseURI(t *testing.T) {
	good := map[string]storage.URI{
		"cos://us-south/images/ubuntu.vhd-0.vhd":  {"us-south", "images", "ubuntu.vhd-0.vhd"},
		"cos://eu-de/my.bucket-1/dir/sub/a b.img": {"eu-de", "my.bucket-1", "dir/sub/a b.img"},
		"cos://us/abc/x":               {"us", "abc", "x"},        // cross-region
		"cos://ams03/abc/x.vhd":        {"ams03", "abc", "x.vhd"}, // single-site
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
		"", "cos://", "cos://us-south", "cos://us-south/bucket", "cos://us-south/bucket/", "cos://us-south/bucket/dir/",
		"s3://us-south/bucket/key", "COS://us-south/bucket/key", "cos:///bucket/key",
		"cos://US-SOUTH/bucket/key", "cos://us_south/bucket/key", "cos://us--south/bucket/key", "cos://1us/bucket/key",
		"cos://us-south/ab/key", "cos://us-south/" + strings.Repeat("a", 64) + "/key",
		"cos://us-south/Bucket/key", "cos://us-south/bu_cket/key", "cos://us-south/-bucket/key",
		"cos://us-south/bucket-/key", "cos://us-south/buc..ket/key", "cos://us-south/192.168.1.1/key",
		"cos://us-south/bucket/" + strings.Repeat("k", 1025), "cos://us-south/bucket/a\nb", "cos://us-south/bucket/\xff",
	}
	for _, s := range bad {
		u, err := storage.ParseURI(s)
		if !errors.Is(err, storage.ErrInvalidURI) {
			t.Errorf("ParseURI(%q) = %+v, %v; want ErrInvalidURI", s, u, err)
		} else if !strings.HasPrefix(err.Error(), "storage: invalid cos:// URI ") {
			t.Errorf("ParseURI(%q): error %q lacks the package prefix", s, err)
		}
	}
}

func FuzzParseURI(f *testing.F) {
	for _, s := range []string{
		"cos://us-south/images/ubuntu.vhd-0.vhd", "cos://eu-de/my.bucket-1/dir/sub/a b.img",
		"cos://us-south/bucket/", "cos://us-south/192.168.1.1/key", "cos://us/abc/%2F/x", "cos://a-1/abc/\xff",
		"cos://ams03/abc/dir/", "cos://us-geo/abc/x",
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
		if u.Region == "" || u.Bucket == "" || u.Object == "" || strings.HasSuffix(u.Object, "/") || strings.Contains(u.Bucket, "/") || strings.Contains(u.Region, "/") {
			t.Fatalf("bad split %+v", u)
		}
	})
}

// TestURIValidateBuilt: a URI built from parts, as Upload builds one, is
// held to the parser's rules, a folder key included.
func TestURIValidateBuilt(t *testing.T) {
	for _, u := range []storage.URI{
		{Region: "us-south", Bucket: "images", Object: "dir/"},
		{Region: "US", Bucket: "images", Object: "x"},
		{Region: "us-south", Bucket: "a..b", Object: "x"},
	} {
		if err := u.Validate(); !errors.Is(err, storage.ErrInvalidURI) {
			t.Errorf("%+v.Validate() = %v, want ErrInvalidURI", u, err)
		}
	}
	if err := (storage.URI{Region: "eu", Bucket: "images", Object: "x.qcow2"}).Validate(); err != nil {
		t.Errorf("cross-region URI: %v", err)
	}
}

// TestValidateBucketNameSentinel: a bad bucket name matches
// ErrInvalidBucketName, alone and through EnsureBucket's ErrInvalidOption,
// and its message still says what is wrong.
func TestValidateBucketNameSentinel(t *testing.T) {
	for _, name := range []string{"B_ad", "ab", "a..b", "192.168.1.1", "-ab"} {
		err := storage.ValidateBucketName(name)
		if !errors.Is(err, storage.ErrInvalidBucketName) || !strings.Contains(err.Error(), "bucket name") {
			t.Errorf("ValidateBucketName(%q) = %v, want ErrInvalidBucketName saying why", name, err)
		}
	}
	if err := storage.ValidateBucketName("good-bucket.1"); err != nil {
		t.Errorf("ValidateBucketName(good-bucket.1) = %v", err)
	}
	cl, err := storage.NewClient(storage.Config{Endpoint: "http://127.0.0.1:1", Region: "us-south", AccessKeyID: "a", SecretAccessKey: "b"})
	if err != nil {
		t.Fatal(err)
	}
	err = cl.EnsureBucket(context.Background(), "B_ad")
	if !errors.Is(err, storage.ErrInvalidOption) || !errors.Is(err, storage.ErrInvalidBucketName) {
		t.Errorf("EnsureBucket(B_ad) = %v, want ErrInvalidOption and ErrInvalidBucketName", err)
	}
}
