package iam_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/IBM/go-sdk-core/v5/core"

	"github.com/e2eimage/e2e/e2etest"
	"github.com/e2eimage/e2e/iam"
)

func startCloud(t *testing.T, opts ...e2etest.Options) *e2etest.Cloud {
	t.Helper()
	c, err := e2etest.Start(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func newClient(t *testing.T, c *e2etest.Cloud) *iam.Client {
	t.Helper()
	cl, err := iam.NewClient(iam.Config{APIKey: c.APIKey, IAMURL: c.IAMURL, MaxRetries: 2, MaxRetryInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return cl
}

func TestTokenSource(t *testing.T) {
	c := startCloud(t)
	ctx := context.Background()
	ts, err := iam.NewTokenSource(c.APIKey, c.IAMURL)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := ts.Token(ctx)
	if err != nil || strings.Count(tok, ".") != 2 {
		t.Fatalf("Token = %q, %v", tok, err)
	}
	if again, _ := ts.Token(ctx); again != tok {
		t.Fatal("the token source fetched a second token while the first is fresh")
	}
	if acct, err := ts.AccountID(ctx); err != nil || acct != c.AccountID {
		t.Fatalf("AccountID = %q, %v; want %q", acct, err, c.AccountID)
	}
	for _, s := range []string{fmt.Sprint(ts), fmt.Sprintf("%+v", ts), fmt.Sprintf("%#v", ts), fmt.Sprintf("%s", ts), ts.String()} {
		if strings.Contains(s, c.APIKey) || !strings.Contains(s, "REDACTED") {
			t.Fatalf("formatted token source shows the API key or no redaction: %s", s)
		}
	}
	var _ core.Authenticator = ts
	if ts.AuthenticationType() != core.AUTHTYPE_IAM || ts.Validate() != nil {
		t.Fatal("not a valid IAM authenticator")
	}

	bad, err := iam.NewTokenSource("wrong-key", c.IAMURL)
	if err != nil {
		t.Fatal(err)
	}
	_, err = bad.Token(ctx)
	var se *iam.ServiceError
	if !errors.Is(err, iam.ErrInvalidAPIKey) || !errors.As(err, &se) || se.Status != 400 || strings.Contains(err.Error(), "wrong-key") {
		t.Fatalf("wrong API key: %v", err)
	}
	if _, err := iam.NewTokenSource("", c.IAMURL); !errors.Is(err, iam.ErrInvalidAPIKey) {
		t.Fatalf("empty API key: %v", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := ts.Token(cctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled ctx: %v", err)
	}
	// The token endpoint accepts the full token URL too.
	if ts2, err := iam.NewTokenSource(c.APIKey, c.TokenURL()); err != nil || ts2.URL() != c.IAMURL {
		t.Fatalf("token URL form: %v, %v", ts2, err)
	}
}

func TestTokenSourceRenewsExpiredToken(t *testing.T) {
	c := startCloud(t, e2etest.Options{TokenLifetime: time.Second})
	ts, _ := iam.NewTokenSource(c.APIKey, c.IAMURL)
	cl, err := iam.NewClient(iam.Config{Authenticator: ts, URL: c.IAMURL})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := cl.VerifyAuthorizations(ctx); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1100 * time.Millisecond)
	if err := cl.VerifyAuthorizations(ctx); err != nil {
		t.Fatalf("after the token expired: %v", err)
	}
}

func TestExpiredStaticToken(t *testing.T) {
	c := startCloud(t, e2etest.Options{TokenLifetime: time.Second})
	cl, err := iam.NewClient(iam.Config{URL: c.IAMURL, AccountID: c.AccountID,
		Authenticator: &core.BearerTokenAuthenticator{BearerToken: c.NewToken()}})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(1100 * time.Millisecond)
	err = cl.VerifyAuthorizations(context.Background())
	var se *iam.ServiceError
	if !errors.Is(err, iam.ErrUnauthorized) || !errors.As(err, &se) || se.Status != 401 {
		t.Fatalf("expired token: %v", err)
	}
}

func TestAuthorization(t *testing.T) {
	c := startCloud(t)
	cl := newClient(t, c)
	ctx := context.Background()
	kp := iam.ServerProtectToKMS(c.KPInstanceID, false)
	hpcs := iam.ServerProtectToKMS(c.HPCSInstanceID, true)

	err := cl.VerifyAuthorizations(ctx, kp, hpcs)
	var missing *iam.MissingAuthorizationError
	if !errors.Is(err, iam.ErrMissingAuthorization) || !errors.As(err, &missing) || len(missing.Missing) != 2 {
		t.Fatalf("Verify before: %v", err)
	}
	if !strings.Contains(err.Error(), "server-protect → kms instance "+c.KPInstanceID+" (Reader)") {
		t.Fatalf("the error does not name the missing policy: %v", err)
	}

	id, created, err := cl.EnsureAuthorization(ctx, kp)
	if err != nil || !created || id == "" {
		t.Fatalf("Ensure = %q, %v, %v", id, created, err)
	}
	id2, created, err := cl.EnsureAuthorization(ctx, kp)
	if err != nil || created || id2 != id {
		t.Fatalf("second Ensure = %q, %v, %v; want %q, false", id2, created, err, id)
	}
	if _, err := cl.CreateAuthorization(ctx, kp); !errors.Is(err, iam.ErrPolicyExists) {
		t.Fatalf("duplicate create: %v", err)
	}
	err = cl.VerifyAuthorizations(ctx, kp, hpcs)
	if !errors.As(err, &missing) || len(missing.Missing) != 1 || missing.Missing[0] != hpcs {
		t.Fatalf("Verify with the KP policy only: %v", err)
	}
	if _, _, err := cl.EnsureAuthorization(ctx, hpcs); err != nil {
		t.Fatal(err)
	}
	if err := cl.VerifyAuthorizations(ctx, kp, hpcs); err != nil {
		t.Fatalf("Verify after: %v", err)
	}
	ps := c.Policies()
	if len(ps) != 2 || ps[1].Resource["serviceName"] != "hs-crypto" || ps[0].Subject["serviceName"] != "server-protect" || ps[0].Subject["accountId"] != c.AccountID {
		t.Fatalf("policies in the cloud: %+v", ps)
	}

	// An account-wide policy covers every instance.
	other := iam.Authorization{Source: "server-protect", Target: "kms", TargetInstance: "another-instance"}
	if err := cl.VerifyAuthorizations(ctx, other); err == nil {
		t.Fatal("a policy scoped to one instance covered another")
	}
	if _, _, err := cl.EnsureAuthorization(ctx, iam.Authorization{Source: "server-protect", Target: "kms"}); err != nil {
		t.Fatal(err)
	}
	if err := cl.VerifyAuthorizations(ctx, other); err != nil {
		t.Fatalf("account-wide policy: %v", err)
	}
	// VPC: is/image → COS.
	if _, created, err := cl.EnsureAuthorization(ctx, iam.ImageToCOS(c.COSInstanceID)); err != nil || !created {
		t.Fatalf("ImageToCOS: %v %v", created, err)
	}

	if err := cl.DeletePolicy(ctx, id); err != nil {
		t.Fatal(err)
	}
	if err := cl.DeletePolicy(ctx, id); !errors.Is(err, iam.ErrNotFound) {
		t.Fatalf("second delete: %v", err)
	}
	if _, _, err := cl.EnsureAuthorization(ctx, iam.Authorization{Target: "kms"}); err == nil {
		t.Fatal("an authorization without a source was accepted")
	}
}

func TestServiceIDsAndAccess(t *testing.T) {
	c := startCloud(t)
	cl := newClient(t, c)
	ctx := context.Background()

	sid, err := cl.CreateServiceID(ctx, "image-importer", "reads the image and the KMS")
	if err != nil {
		t.Fatal(err)
	}
	if found, err := cl.FindServiceID(ctx, "image-importer"); err != nil || found.IAMID != sid.IAMID {
		t.Fatalf("FindServiceID = %+v, %v", found, err)
	}
	if _, err := cl.FindServiceID(ctx, "nobody"); !errors.Is(err, iam.ErrNotFound) {
		t.Fatalf("FindServiceID(unknown): %v", err)
	}
	key, err := cl.CreateAPIKey(ctx, sid.IAMID, "importer-key")
	if err != nil {
		t.Fatal(err)
	}
	secret := key.Secret()
	if secret == "" || key.IAMID != sid.IAMID {
		t.Fatalf("API key = %v", key)
	}
	js, _ := json.Marshal(key)
	for _, s := range []string{fmt.Sprint(key), fmt.Sprintf("%+v", key), fmt.Sprintf("%#v", key), string(js)} {
		if strings.Contains(s, secret) {
			t.Fatalf("the API key secret leaked: %s", s)
		}
	}

	for _, a := range []iam.Access{iam.KMSAccess(c.KPInstanceID, false), iam.BucketAccess(c.COSInstanceID, "images", "Reader", "Writer")} {
		id, created, err := cl.GrantAccess(ctx, sid.IAMID, a)
		if err != nil || !created {
			t.Fatalf("GrantAccess(%+v) = %v, %v", a, created, err)
		}
		again, created, err := cl.GrantAccess(ctx, sid.IAMID, a)
		if err != nil || created || again != id {
			t.Fatalf("second GrantAccess = %q, %v, %v", again, created, err)
		}
	}
	var bucket *e2etest.PolicyInfo
	for _, p := range c.Policies() {
		if p.Resource["resourceType"] == "bucket" {
			bucket = &p
		}
	}
	if bucket == nil || bucket.Subject["iam_id"] != sid.IAMID || bucket.Resource["resource"] != "images" || len(bucket.Roles) != 2 {
		t.Fatalf("bucket policy = %+v", bucket)
	}

	// The new key authenticates, as the service ID.
	ts, _ := iam.NewTokenSource(secret, c.IAMURL)
	if _, err := ts.Token(ctx); err != nil {
		t.Fatalf("the service ID's key: %v", err)
	}
	// A service ID may not manage IAM.
	svc, _ := iam.NewClient(iam.Config{Authenticator: ts, URL: c.IAMURL})
	if _, err := svc.CreateServiceID(ctx, "sneaky", ""); !errors.Is(err, iam.ErrUnauthorized) {
		t.Fatalf("service ID creating service IDs: %v", err)
	}

	if err := cl.DeleteAPIKey(ctx, key.ID); err != nil {
		t.Fatal(err)
	}
	fresh, _ := iam.NewTokenSource(secret, c.IAMURL)
	if _, err := fresh.Token(ctx); !errors.Is(err, iam.ErrInvalidAPIKey) {
		t.Fatalf("deleted key: %v", err)
	}
	key.Destroy()
	if key.Secret() != "" {
		t.Fatal("Destroy left the secret")
	}
	if err := cl.DeleteAPIKey(ctx, key.ID); !errors.Is(err, iam.ErrNotFound) {
		t.Fatalf("second delete: %v", err)
	}
	if err := cl.DeleteServiceID(ctx, sid.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.FindServiceID(ctx, "image-importer"); !errors.Is(err, iam.ErrNotFound) {
		t.Fatalf("deleted service ID found: %v", err)
	}
	if _, err := cl.CreateAPIKey(ctx, "iam-ServiceId-unknown", "k"); !errors.Is(err, iam.ErrNotFound) {
		t.Fatalf("API key for an unknown identity: %v", err)
	}
}

func TestFaultsAndCancel(t *testing.T) {
	c := startCloud(t)
	cl := newClient(t, c)
	ctx := context.Background()
	a := iam.ServerProtectToKMS(c.KPInstanceID, false)

	// Two 503s are retried away (MaxRetries 2).
	c.InjectFault(e2etest.ServiceIAM, "policies", e2etest.Fault{Status: 503, Times: 2})
	if _, _, err := cl.EnsureAuthorization(ctx, a); err != nil {
		t.Fatalf("after two 503s: %v", err)
	}
	// More 500s than retries reach the caller as a ServiceError.
	c.InjectFault(e2etest.ServiceIAM, "policies", e2etest.Fault{Status: 500, Times: 3})
	err := cl.VerifyAuthorizations(ctx, a)
	var se *iam.ServiceError
	if !errors.As(err, &se) || se.Status != 500 {
		t.Fatalf("persistent 500: %v", err)
	}
	// Rate limiting: 429 honours Retry-After and gives up as ErrRateLimited.
	c.InjectFault(e2etest.ServiceIAM, "identity", e2etest.Fault{Status: 429, Times: 3})
	if _, err := cl.CreateServiceID(ctx, "x", ""); !errors.Is(err, iam.ErrRateLimited) {
		t.Fatalf("rate limited: %v", err)
	}

	c.InjectFault(e2etest.ServiceIAM, "policies", e2etest.Fault{Latency: 10 * time.Second})
	tctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := cl.VerifyAuthorizations(tctx, a); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("timed-out ctx: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("cancellation took %v", d)
	}
	cctx, cancel2 := context.WithCancel(ctx)
	cancel2()
	if _, err := cl.CreateServiceID(cctx, "y", ""); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled ctx: %v", err)
	}
}

func TestNewClientConfig(t *testing.T) {
	if _, err := iam.NewClient(iam.Config{}); err == nil {
		t.Fatal("a client without credentials was built")
	}
	cl, err := iam.NewClient(iam.Config{Authenticator: &core.NoAuthAuthenticator{}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cl.AccountID(context.Background()); err == nil {
		t.Fatal("an account ID was made up for an authenticator without one")
	}
}
