package audit_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/softlayer/softlayer-go/datatypes"
	"github.com/softlayer/softlayer-go/services"
	"github.com/softlayer/softlayer-go/session"
	"github.com/softlayer/softlayer-go/sl"

	"github.com/e2eimage/e2e/audit"
)

// TestTrailOfAServer orders a classic server through softlayer-go, powers
// it off and on, and reads those events back by server ID and host name.
func TestTrailOfAServer(t *testing.T) {
	cloud := startCloud(t)
	ctx := context.Background()
	start := time.Now().Add(-time.Second)
	sess := &session.Session{Endpoint: cloud.SoftLayerURL, UserName: cloud.Username, APIKey: cloud.APIKey, Timeout: 10 * time.Second}
	guests := services.GetVirtualGuestService(sess)
	order := func(host string) int {
		g, err := guests.CreateObject(&datatypes.Virtual_Guest{
			Hostname: sl.String(host), Domain: sl.String("example.com"), StartCpus: sl.Int(1), MaxMemory: sl.Int(1024),
			HourlyBillingFlag: sl.Bool(true), LocalDiskFlag: sl.Bool(true),
			Datacenter:                   &datatypes.Location{Name: sl.String("dal10")},
			OperatingSystemReferenceCode: sl.String("UBUNTU_22_64"),
		})
		if err != nil {
			t.Fatal(err)
		}
		return *g.Id
	}
	id := order("web1")
	other := order("web10") // a decoy: its name extends "web1"
	deadline := time.Now().Add(20 * time.Second)
	for {
		tx, err := guests.Id(id).GetActiveTransaction()
		if err == nil && tx.Id == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("server %d never finished provisioning (%v)", id, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, err := guests.Id(id).PowerOff(); err != nil {
		t.Fatal(err)
	}
	if _, err := guests.Id(id).PowerOn(); err != nil {
		t.Fatal(err)
	}

	c := newClient(t, cloud)
	for name, run := range map[string]audit.Run{
		"by ID":        {ServerID: strconv.Itoa(id), Start: start},
		"by host name": {Hostname: "web1", Start: start},
	} {
		trail, err := c.Trail(ctx, run)
		if err != nil {
			t.Fatal(err)
		}
		var actions []string
		for _, ev := range trail {
			actions = append(actions, ev.Action)
			if ev.Target.ID != strconv.Itoa(id) || ev.Target.Name != "web1.example.com" || ev.Subsystem != "classic-infrastructure" ||
				ev.Initiator.ID == "" || ev.Outcome != "success" {
				t.Errorf("%s: event %+v", name, ev)
			}
		}
		if got := strings.Join(actions, " "); got != "audit-log.vsi.provision audit-log.vsi.power-off audit-log.vsi.power-on" {
			t.Errorf("%s: trail %s (server %d, decoy %d)", name, got, id, other)
		}
	}
}
