// Command audit-trail reads who used your root key from Activity Tracker
// events in IBM Cloud Logs: every wrap and unwrap, the failed ones apart
// (a WDEK that does not unwrap can mean someone tries the wrong key), and
// the trail of one run (its root key, template and server) in time order.
//
//	go run ./examples/audit-trail
//
// Without IBMCLOUD_API_KEY it runs against an emulated IBM Cloud (package
// e2etest), where it first uses a root key so there are events to read. With
// it, against IBM Cloud: E2E_LOGS_URL is the Cloud Logs instance endpoint
// that Activity Tracker Event Routing sends to; E2E_ROOT_KEY_CRN narrows the
// events to one root key and, with E2E_TEMPLATE_ID and E2E_HOSTNAME, names
// the run whose trail to show; E2E_SINCE is how far back to look (default
// 24h); E2E_LIMIT caps the events (default none); E2E_IAM_URL overrides IAM.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"time"

	"github.com/e2eimage/e2e/audit"
	"github.com/e2eimage/e2e/iam"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Stdout, os.Getenv); err != nil {
		fmt.Fprintln(os.Stderr, "audit-trail:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, out io.Writer, env func(string) string) error {
	env, done, err := cloudEnv(ctx, out, env)
	if err != nil {
		return err
	}
	defer done()
	since, err := time.ParseDuration(or(env("E2E_SINCE"), "24h"))
	if err != nil {
		return fmt.Errorf("E2E_SINCE: %w", err)
	}
	limit, err := strconv.Atoi(or(env("E2E_LIMIT"), "0"))
	if err != nil {
		return fmt.Errorf("E2E_LIMIT: %w", err)
	}
	if env("E2E_LOGS_URL") == "" {
		return errors.New("E2E_LOGS_URL (the Cloud Logs instance endpoint) is required with IBMCLOUD_API_KEY")
	}
	tokens, err := iam.NewTokenSource(env("IBMCLOUD_API_KEY"), env("E2E_IAM_URL"))
	if err != nil {
		return err
	}
	// A wrong API key fails here, at once, rather than in the query's retries.
	if _, err := tokens.Token(ctx); err != nil {
		return err
	}
	client, err := audit.NewClient(audit.Config{Endpoint: env("E2E_LOGS_URL"), Authenticator: tokens})
	if err != nil {
		return err
	}

	end := time.Now()
	q := audit.Query{Start: end.Add(-since), End: end, Actions: []string{"kms.secrets."}, Limit: limit}
	if crn := env("E2E_ROOT_KEY_CRN"); crn != "" {
		q.TargetIDs = []string{crn}
	}
	counts := map[string]int{}
	// Events streams as the service answers, window by window.
	for ev, err := range client.Events(ctx, q) {
		if errors.Is(err, audit.ErrTruncated) {
			fmt.Fprintln(out, "  … more events than E2E_LIMIT; narrow the query or raise it")
			break
		}
		if err != nil {
			return err // a *audit.QueryError says what the service answered
		}
		counts[ev.Outcome]++
		fmt.Fprintf(out, "  %s  %-22s %-8s key %s by %s\n", ev.Time.Format(time.DateTime), ev.Action, ev.Outcome, ev.Target.ID, ev.Initiator.Name)
	}
	fmt.Fprintf(out, "key operations since %s: %d succeeded, %d failed\n", q.Start.Format(time.DateTime), counts["success"], counts["failure"])

	run := audit.Run{RootKeyCRN: env("E2E_ROOT_KEY_CRN"), TemplateID: env("E2E_TEMPLATE_ID"), Hostname: env("E2E_HOSTNAME"), Start: q.Start, End: end}
	if run.RootKeyCRN == "" && run.TemplateID == "" && run.Hostname == "" {
		return nil
	}
	trail, err := client.Trail(ctx, run)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "trail of the run (%d events):\n", len(trail))
	for _, ev := range trail {
		fmt.Fprintf(out, "  %s  %-36s %-8s %s\n", ev.Time.Format(time.TimeOnly), ev.Action, ev.Outcome, ev.Target.Name)
	}
	return nil
}

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
