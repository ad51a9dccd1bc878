package iam_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/IBM/go-sdk-core/v5/core"

	"github.com/e2eimage/e2e/iam"
)

// A policy list whose next page token never changes must end in an error,
// not loop (and grow memory) forever.
func TestListPoliciesRepeatedPageToken(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"policies":[],"next":{"href":"x","start":"same-page"}}`))
	}))
	defer srv.Close()
	cl, err := iam.NewClient(iam.Config{URL: srv.URL, AccountID: "acct", MaxRetries: -1,
		Authenticator: &core.BearerTokenAuthenticator{BearerToken: "t"}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = cl.VerifyAuthorizations(ctx, iam.ServerProtectToKMS("inst", false))
	if err == nil || !strings.Contains(err.Error(), "twice") || ctx.Err() != nil {
		t.Fatalf("VerifyAuthorizations over a looping list: %v (after %d calls)", err, calls.Load())
	}
	if calls.Load() > 3 {
		t.Fatalf("%d list calls, want 2", calls.Load())
	}
}
