package iam_test

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/e2eimage/e2e/iam"
)

// TestLive talks to IBM Cloud. It runs only when IBMCLOUD_API_KEY is set
// (IBMCLOUD_IAM_URL overrides the IAM endpoint); with KP_INSTANCE_ID it also
// reports whether the server-protect → kms authorization exists. It changes
// nothing in the account.
func TestLive(t *testing.T) {
	apiKey := os.Getenv("IBMCLOUD_API_KEY")
	if apiKey == "" {
		t.Skip("IBMCLOUD_API_KEY not set; skipping the live IAM test")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ts, err := iam.NewTokenSource(apiKey, os.Getenv("IBMCLOUD_IAM_URL"))
	if err != nil {
		t.Fatal(err)
	}
	acct, err := ts.AccountID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("account %s", acct)
	inst := os.Getenv("KP_INSTANCE_ID")
	if inst == "" {
		return
	}
	cl, err := iam.NewClient(iam.Config{Authenticator: ts, URL: os.Getenv("IBMCLOUD_IAM_URL")})
	if err != nil {
		t.Fatal(err)
	}
	err = cl.VerifyAuthorizations(ctx, iam.ServerProtectToKMS(inst, false))
	switch {
	case err == nil:
		t.Log("server-protect → kms authorization exists")
	case errors.Is(err, iam.ErrMissingAuthorization):
		t.Logf("not authorized yet: %v", err)
	default:
		t.Fatal(err)
	}
}
