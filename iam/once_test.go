package iam_test

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/IBM/platform-services-go-sdk/iamidentityv1"

	"github.com/e2eimage/e2e/e2etest"
	"github.com/e2eimage/e2e/iam"
)

// go-sdk-core's retries resent a service ID or API key creation whose
// answer was lost, making a duplicate service ID or a live API key nobody
// holds.
func TestCreatesNotResent(t *testing.T) {
	c := startCloud(t)
	ctx := context.Background()
	direct := newClient(t, c)

	cl := direct
	lost := e2etest.Fault{Status: http.StatusBadGateway, AfterHandling: true, Code: "gateway_timeout", Message: "upstream timed out"}
	c.InjectFault(e2etest.ServiceIAM, "identity", lost)
	_, err := cl.CreateServiceID(ctx, "importer", "")
	var se *iam.ServiceError
	if !errors.Is(err, iam.ErrOutcomeUnknown) || !errors.As(err, &se) || se.Status != http.StatusBadGateway || se.Code != "gateway_timeout" {
		t.Fatalf("CreateServiceID answered 502 after creating: %v, want a *ServiceError 502 wrapping ErrOutcomeUnknown", err)
	}
	sid, err := direct.FindServiceID(ctx, "importer")
	if err != nil {
		t.Fatalf("the service ID was not created: %v", err)
	}
	if n := countServiceIDs(t, c.IAMURL, c.APIKey, c.AccountID, "importer"); n != 1 {
		t.Fatalf("%d service IDs named importer, want 1", n)
	}

	c.InjectFault(e2etest.ServiceIAM, "identity", lost)
	if k, err := cl.CreateAPIKey(ctx, sid.IAMID, "importer-key"); !errors.Is(err, iam.ErrOutcomeUnknown) || k != nil {
		t.Fatalf("CreateAPIKey answered 502 after creating: %v, want ErrOutcomeUnknown", err)
	}
	if n := countAPIKeys(t, c.IAMURL, c.APIKey, c.AccountID, sid.IAMID); n != 1 {
		t.Fatalf("%d API keys for the service ID, want 1", n)
	}
	// Without a lost answer both work through the same client.
	if k, err := cl.CreateAPIKey(ctx, sid.IAMID, "second"); err != nil || k == nil {
		t.Fatalf("CreateAPIKey = %v", err)
	}
}

func identityClient(t *testing.T, iamURL, apiKey string) *iamidentityv1.IamIdentityV1 {
	t.Helper()
	ts, err := iam.NewTokenSource(apiKey, iamURL)
	if err != nil {
		t.Fatal(err)
	}
	id, err := iamidentityv1.NewIamIdentityV1(&iamidentityv1.IamIdentityV1Options{URL: iamURL, Authenticator: ts})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func countServiceIDs(t *testing.T, iamURL, apiKey, account, name string) int {
	t.Helper()
	list, _, err := identityClient(t, iamURL, apiKey).ListServiceIds(&iamidentityv1.ListServiceIdsOptions{AccountID: &account, Name: &name})
	if err != nil {
		t.Fatal(err)
	}
	return len(list.Serviceids)
}

func countAPIKeys(t *testing.T, iamURL, apiKey, account, iamID string) int {
	t.Helper()
	list, _, err := identityClient(t, iamURL, apiKey).ListAPIKeys(&iamidentityv1.ListAPIKeysOptions{AccountID: &account, IamID: &iamID})
	if err != nil {
		t.Fatal(err)
	}
	return len(list.Apikeys)
}
