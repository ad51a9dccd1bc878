package storage_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/e2eimage/e2e/storage"
)

func TestEnsureBucket(t *testing.T) {
	c := startCloud(t)
	ctx := context.Background()
	for name, cl := range map[string]*storage.Client{"ensure-iam": iamClient(t, c), "ensure-hmac": hmacClient(t, c)} {
		if err := cl.EnsureBucket(ctx, name); err != nil {
			t.Fatalf("create: %v", err)
		}
		if err := cl.EnsureBucket(ctx, name); err != nil {
			t.Fatalf("verify existing: %v", err)
		}
		loc, err := cl.BucketLocation(ctx, name)
		if err != nil || loc != "us-south-standard" {
			t.Errorf("location %q, %v; want us-south-standard", loc, err)
		}
	}
	if got := c.Buckets(); len(got) != 2 {
		t.Errorf("buckets %+v", got)
	}

	cl := hmacClient(t, c)
	if err := c.CreateBucket("frankfurt", "eu-de-standard"); err != nil {
		t.Fatal(err)
	}
	err := cl.EnsureBucket(ctx, "frankfurt")
	var rm *storage.RegionMismatchError
	if !errors.As(err, &rm) || rm.Bucket != "frankfurt" || rm.Want != "us-south" || rm.Got != "eu-de-standard" {
		t.Fatalf("got %v, want a RegionMismatchError", err)
	}
	t.Log(err)

	// A client for another region cannot create buckets at this endpoint.
	eu := newClient(t, storage.Config{Endpoint: c.COSURL, Region: "eu-de", PathStyle: true,
		AccessKeyID: c.HMACAccessKeyID, SecretAccessKey: c.HMACSecretAccessKey})
	err = eu.EnsureBucket(ctx, "new-eu-bucket")
	var re *storage.RequestError
	if !errors.As(err, &re) || re.Code != "InvalidLocationConstraint" {
		t.Errorf("got %v, want InvalidLocationConstraint", err)
	}
	if err := cl.EnsureBucket(ctx, "vault-bucket", storage.WithStorageClass("vault")); err != nil {
		t.Fatal(err)
	}
	if loc, _ := cl.BucketLocation(ctx, "vault-bucket"); loc != "us-south-vault" {
		t.Errorf("vault bucket location %q", loc)
	}
	for _, bad := range []storage.BucketOption{storage.WithStorageClass("gold"), storage.WithLocationConstraint("")} {
		if err := cl.EnsureBucket(ctx, "x-bucket", bad); !errors.Is(err, storage.ErrInvalidOption) {
			t.Errorf("bad option: %v", err)
		}
	}
	if err := cl.EnsureBucket(ctx, "UPPER"); !errors.Is(err, storage.ErrInvalidOption) {
		t.Errorf("bad name: %v", err)
	}
	if _, err := cl.BucketLocation(ctx, "missing-bucket"); !errors.Is(err, storage.ErrNoSuchBucket) {
		t.Errorf("missing bucket: %v", err)
	}
}

func TestLocationRegion(t *testing.T) {
	for in, want := range map[string]string{
		"us-south-standard": "us-south", "eu-de-vault": "eu-de", "jp-tok-onerate_active": "jp-tok",
		"us-south": "us-south", "": "",
	} {
		if got := storage.LocationRegion(in); got != want {
			t.Errorf("LocationRegion(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestNewClientConfig(t *testing.T) {
	ok := storage.Config{Endpoint: "https://s3.us-south.cloud-object-storage.appdomain.cloud", Region: "us-south", APIKey: "k"}
	if _, err := storage.NewClient(ok); err != nil {
		t.Fatal(err)
	}
	mod := func(f func(*storage.Config)) storage.Config { c := ok; f(&c); return c }
	bad := map[string]storage.Config{
		"no endpoint":     mod(func(c *storage.Config) { c.Endpoint = "" }),
		"bad endpoint":    mod(func(c *storage.Config) { c.Endpoint = "s3.example.com" }),
		"no region":       mod(func(c *storage.Config) { c.Region = "" }),
		"no credentials":  mod(func(c *storage.Config) { c.APIKey = "" }),
		"two credentials": mod(func(c *storage.Config) { c.AccessKeyID, c.SecretAccessKey = "a", "b" }),
		"half HMAC":       mod(func(c *storage.Config) { c.APIKey, c.AccessKeyID = "", "a" }),
		"quoted API key":  mod(func(c *storage.Config) { c.APIKey = `"key"` }),
	}
	for name, cfg := range bad {
		if _, err := storage.NewClient(cfg); !errors.Is(err, storage.ErrInvalidConfig) {
			t.Errorf("%s: got %v, want ErrInvalidConfig", name, err)
		}
	}
}

func TestConfigRedactsSecrets(t *testing.T) {
	cfg := storage.Config{Endpoint: "https://cos.example", Region: "us-south", APIKey: "api-key-secret-1",
		AccessKeyID: "akid", SecretAccessKey: "hmac-secret-2"}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%d", "%x", "%q", "%10.4v"} {
		out := fmt.Sprintf(verb, cfg)
		if strings.Contains(out, "api-key-secret-1") || strings.Contains(out, "hmac-secret-2") {
			t.Errorf("%s prints a secret: %s", verb, out)
		}
		if !strings.Contains(out, "akid") || !strings.Contains(out, "cos.example") {
			t.Errorf("%s hides too much: %s", verb, out)
		}
	}
	if out := fmt.Sprintf("%v", &cfg); strings.Contains(out, "hmac-secret-2") {
		t.Errorf("pointer prints a secret: %s", out)
	}
}
