package e2etest

import (
	"testing"
	"time"
)

// The two provisioning timers of a guest may run in either order: timers
// that expire in the same scheduler pass (a process starved of CPU for
// longer than the gap between them) start their goroutines last-first, the
// newest goroutine taking the P's runnext slot. Run in that order, the
// events left a guest with no transaction and no provisionDate, halted
// forever, and provision.Wait polled it until the chaos test timed out.
func TestSoftLayerProvisionEventsInEitherOrder(t *testing.T) {
	for _, reversed := range []bool{false, true} {
		name := "in order"
		if reversed {
			name = "end first"
		}
		t.Run(name, func(t *testing.T) {
			c, err := Start()
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			// A guest built by hand: no timer runs but the events the test calls.
			c.mu.Lock()
			c.softlayer.init()
			c.softlayer.nextGuestID++
			tx := c.slNewTransaction("Provision", slProvisionSteps, slProvisionDuration)
			g := &slGuest{ID: c.softlayer.nextGuestID, Spec: slGuestSpec{Hostname: "web1", Domain: "example.com"},
				CreateDate: time.Now(), PowerState: "HALTED", Transaction: tx}
			tx.GuestID = g.ID
			c.softlayer.guests[g.ID] = g
			provisioned, finished := c.slProvisionEvents(g, tx)
			c.mu.Unlock()

			first, second := provisioned, finished
			if reversed {
				first, second = finished, provisioned
			}
			first()
			if got := c.Guests()[0]; !reversed && (got.ProvisionDate.IsZero() || !got.Busy || got.PowerState != "RUNNING") {
				t.Fatalf("after provisionDate: %+v; want provisioned, running and still busy", got)
			}
			second()
			got := c.Guests()[0]
			if got.ProvisionDate.IsZero() || got.Busy || got.PowerState != "RUNNING" {
				t.Fatalf("after both events: provisionDate %v, busy %v, power %s; want provisioned, idle, running",
					got.ProvisionDate, got.Busy, got.PowerState)
			}
		})
	}
}
