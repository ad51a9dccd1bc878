package provision_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/e2eimage/e2e/provision"
)

// An unfinished Wait says what the server was last seen doing: the chaos
// test's hang (a guest left idle and unprovisioned by the emulator) was
// reported as a bare "context canceled".
func TestWaitErrorNamesLastState(t *testing.T) {
	f := newFixture(t)
	srv, err := f.vs.Order(context.Background(), f.order("web1"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var seen provision.Progress
	_, err = f.vs.Wait(ctx, srv.ID, append(fast, provision.WithProgress(func(p provision.Progress) {
		seen = p
		cancel() // after the first poll, whatever it saw
	}))...)
	var we *provision.WaitError
	if !errors.As(err, &we) || !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v (%T), want a *WaitError wrapping context.Canceled", err, err)
	}
	if we.ServerID != srv.ID || we.Last == nil || we.Last.ID != srv.ID || we.Last.Transaction != seen.Transaction ||
		we.Last.PowerState != seen.PowerState || we.Last.ProvisionDate.IsZero() == seen.Provisioned || we.Elapsed <= 0 {
		t.Fatalf("WaitError = %+v, last %+v; the first poll saw %+v", we, we.Last, seen)
	}
	tx := seen.Transaction
	if tx == "" {
		tx = "none"
	}
	msg := err.Error()
	for _, want := range []string{"wait for server", "context canceled", "transaction " + tx, "power " + seen.PowerState} {
		if !strings.Contains(msg, want) {
			t.Errorf("%q does not say %q", msg, want)
		}
	}
}

func TestWaitErrorNoPollSucceeded(t *testing.T) {
	f := newFixture(t)
	_, err := f.vs.Wait(context.Background(), 999, fast...)
	var we *provision.WaitError
	if !errors.As(err, &we) || !errors.Is(err, provision.ErrNotFound) {
		t.Fatalf("got %v (%T), want a *WaitError wrapping ErrNotFound", err, err)
	}
	if we.Last != nil || we.ServerID != 999 || !strings.Contains(err.Error(), "no poll succeeded") {
		t.Fatalf("WaitError = %+v: %v", we, err)
	}
}
