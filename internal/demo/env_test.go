package demo_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"testing"

	"github.com/e2eimage/e2e/e2etest"
	"github.com/e2eimage/e2e/internal/demo"
)

func TestEnv(t *testing.T) {
	ctx := context.Background()
	real := func(k string) string { return map[string]string{"IBMCLOUD_API_KEY": "k", "X": "x"}[k] }
	prepare := func(context.Context, *e2etest.Cloud) (map[string]string, error) {
		t.Fatal("prepare ran with IBMCLOUD_API_KEY set")
		return nil, nil
	}
	env, done, err := demo.Env(ctx, io.Discard, real, prepare)
	if err != nil || env("X") != "x" || env("IBMCLOUD_API_KEY") != "k" {
		t.Fatalf("with an API key: env(X) %q, err %v; want the caller's env", env("X"), err)
	}
	done()

	// Without one, prepare's settings lie over the caller's env.
	var iam string
	env, done, err = demo.Env(ctx, io.Discard, func(k string) string { return map[string]string{"X": "x", "Y": "y"}[k] },
		func(_ context.Context, c *e2etest.Cloud) (map[string]string, error) {
			iam = c.IAMURL
			return map[string]string{"IBMCLOUD_API_KEY": c.APIKey, "Y": "cloud"}, nil
		})
	if err != nil {
		t.Fatal(err)
	}
	if env("IBMCLOUD_API_KEY") == "" || env("X") != "x" || env("Y") != "cloud" {
		t.Errorf("emulated env: key set %v, X %q, Y %q; want set, x, cloud", env("IBMCLOUD_API_KEY") != "", env("X"), env("Y"))
	}
	done()
	if _, err := http.Get(iam); err == nil {
		t.Errorf("the emulated cloud still serves %s after done", iam)
	}

	// A failed prepare stops the cloud it started and says so.
	boom := errors.New("boom")
	_, _, err = demo.Env(ctx, io.Discard, func(string) string { return "" },
		func(_ context.Context, c *e2etest.Cloud) (map[string]string, error) {
			iam = c.IAMURL
			return nil, boom
		})
	if !errors.Is(err, boom) {
		t.Fatalf("failed prepare: %v, want it wrapped", err)
	}
	if _, err := http.Get(iam); err == nil {
		t.Errorf("the emulated cloud still serves %s after a failed prepare", iam)
	}
}
