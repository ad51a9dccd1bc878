// Command authorize makes sure IBM Cloud may use your root key for an
// encrypted image import: Cloud Block Storage ("server-protect") needs the
// Reader role on the Key Protect (or HPCS) instance. It checks first,
// creates the authorization policy only when it is missing, and checks
// again; rerunning it changes nothing.
//
//	go run ./examples/authorize
//
// Without IBMCLOUD_API_KEY it runs against an emulated IBM Cloud (package
// e2etest). With it, against IBM Cloud: KP_INSTANCE_ID (or HPCS_INSTANCE_ID)
// names the instance, E2E_IAM_URL overrides the IAM endpoint. The API key
// needs the Administrator role on IAM Identity / policy management.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"

	"github.com/e2eimage/e2e/e2etest"
	"github.com/e2eimage/e2e/iam"
	"github.com/e2eimage/e2e/internal/demo"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Stdout, os.Getenv); err != nil {
		fmt.Fprintln(os.Stderr, "authorize:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, out io.Writer, env func(string) string) error {
	env, done, err := cloudEnv(ctx, out, env)
	if err != nil {
		return err
	}
	defer done()
	instance, hpcs := env("KP_INSTANCE_ID"), false
	if v := env("HPCS_INSTANCE_ID"); v != "" {
		instance, hpcs = v, true
	}
	if instance == "" {
		return errors.New("KP_INSTANCE_ID (or HPCS_INSTANCE_ID) is required with IBMCLOUD_API_KEY")
	}
	// One token source for every call; the API key never shows in its output.
	tokens, err := iam.NewTokenSource(env("IBMCLOUD_API_KEY"), env("E2E_IAM_URL"))
	if err != nil {
		return err
	}
	ic, err := iam.NewClient(iam.Config{URL: env("E2E_IAM_URL"), Authenticator: tokens})
	if err != nil {
		return err
	}
	account, err := ic.AccountID(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "account %s\n", account)

	need := iam.ServerProtectToKMS(instance, hpcs)
	err = ic.VerifyAuthorizations(ctx, need)
	var missing *iam.MissingAuthorizationError
	switch {
	case errors.As(err, &missing):
		for _, a := range missing.Missing {
			fmt.Fprintf(out, "missing: %s\n", a)
		}
	case err != nil:
		return err
	default:
		fmt.Fprintf(out, "present: %s\n", need)
	}

	// EnsureAuthorization reuses an equivalent policy, so reruns (and a
	// concurrent creation, which IAM answers 409) create no duplicates.
	id, created, err := ic.EnsureAuthorization(ctx, need)
	if err != nil {
		return err
	}
	verb := "found"
	if created {
		verb = "created"
	}
	fmt.Fprintf(out, "%s policy %s: %s\n", verb, id, need)

	if err := ic.VerifyAuthorizations(ctx, need); err != nil {
		return fmt.Errorf("still not authorized after creating policy %s: %w", id, err)
	}
	fmt.Fprintln(out, "verified: encrypted imports may now read keys of instance", instance)
	return nil
}

// cloudEnv returns env when IBMCLOUD_API_KEY is set. Otherwise it starts an
// emulated IBM Cloud and returns its settings under the same names; done
// stops it.
func cloudEnv(ctx context.Context, out io.Writer, env func(string) string) (_ func(string) string, done func(), _ error) {
	return demo.Env(ctx, out, env, func(_ context.Context, cloud *e2etest.Cloud) (map[string]string, error) {
		return map[string]string{
			"IBMCLOUD_API_KEY": cloud.APIKey, "E2E_IAM_URL": cloud.IAMURL, "KP_INSTANCE_ID": cloud.KPInstanceID,
		}, nil
	})
}
