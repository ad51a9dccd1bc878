// Command order-server orders a classic virtual server from an image
// template and waits until it is ready. It verifies the order first (price
// and validation errors before anything is bought) and places it at most
// once: rerunning it after a crash or a lost answer finds the server it
// ordered instead of buying a second one.
//
//	go run ./examples/order-server
//
// Without IBMCLOUD_API_KEY it runs against an emulated IBM Cloud (package
// e2etest), which first gets a template to order from. With it, against IBM
// Cloud: E2E_TEMPLATE_GUID is the template's global identifier (see
// ../import-image); E2E_HOSTNAME (default "e2e-example-vsi"), E2E_DOMAIN
// (default "example.com") and E2E_DATACENTER (default "dal10") place the
// server; E2E_POLL_INTERVAL (default 10s); E2E_SOFTLAYER_URL overrides the
// endpoint. On IBM Cloud it only verifies and prints the price unless
// E2E_CONFIRM_ORDER=yes: the server is billed.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"time"

	"github.com/e2eimage/e2e/provision"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Stdout, os.Getenv); err != nil {
		fmt.Fprintln(os.Stderr, "order-server:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, out io.Writer, env func(string) string) error {
	env, done, err := cloudEnv(ctx, out, env)
	if err != nil {
		return err
	}
	defer done()
	poll, err := time.ParseDuration(or(env("E2E_POLL_INTERVAL"), "10s"))
	if err != nil {
		return fmt.Errorf("E2E_POLL_INTERVAL: %w", err)
	}
	if env("E2E_TEMPLATE_GUID") == "" {
		return errors.New("E2E_TEMPLATE_GUID is required with IBMCLOUD_API_KEY")
	}
	pc, err := provision.NewClient(provision.Config{Endpoint: env("E2E_SOFTLAYER_URL"), APIKey: env("IBMCLOUD_API_KEY")})
	if err != nil {
		return err
	}
	// The hostname must be unique in the account: it is how a rerun finds
	// the server this order placed.
	o := provision.Order{
		Hostname:     or(env("E2E_HOSTNAME"), "e2e-example-vsi"),
		Domain:       or(env("E2E_DOMAIN"), "example.com"),
		Datacenter:   or(env("E2E_DATACENTER"), "dal10"),
		CPUs:         1,
		MemoryMB:     2048,
		TemplateGUID: env("E2E_TEMPLATE_GUID"),
		Tags:         []string{"e2e-example"},
	}

	q, err := pc.Verify(ctx, o)
	var apiErr *provision.APIError
	if errors.As(err, &apiErr) {
		return fmt.Errorf("SoftLayer refused the order (%s): %w", apiErr.Exception, err)
	}
	if err != nil {
		return err // a *provision.ValidationError names a bad field
	}
	fmt.Fprintf(out, "verified %s in %s: $%.3f/hour\n", o.Hostname+"."+o.Domain, o.Datacenter, q.HourlyCost)
	if env("E2E_CONFIRM_ORDER") != "yes" {
		fmt.Fprintln(out, "not ordered: set E2E_CONFIRM_ORDER=yes to buy it")
		return nil
	}

	s, err := pc.Order(ctx, o) // finds an earlier order of o before placing one
	if errors.Is(err, provision.ErrOutcomeUnknown) {
		return fmt.Errorf("%w: rerun to find the server (it will not be ordered twice)", err)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "server %d (%s) ordered, tagged %s; waiting until it is ready…\n", s.ID, s.FQDN(), o.Tag())

	// Cancelling ctx stops the wait, not the provisioning.
	s, err = pc.Wait(ctx, s.ID, provision.WithPollInterval(poll), provision.WithProgress(func(p provision.Progress) {
		fmt.Fprintf(out, "  %q provisioned=%t (%s)\n", p.Transaction, p.Provisioned, p.Elapsed.Round(time.Millisecond))
	}))
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "server %d %s is ready: %s, public IP %s, private IP %s\n", s.ID, s.FQDN(), s.PowerState, s.PublicIP, s.PrivateIP)
	fmt.Fprintf(out, "delete it when done: provision.Client.Cancel(ctx, %d)\n", s.ID)
	return nil
}

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
