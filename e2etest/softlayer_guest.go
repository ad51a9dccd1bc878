package e2etest

// SoftLayer_Virtual_Guest: servers that provision over (scaled) time, power
// actions, tags, capture into an image template, cancellation; and
// SoftLayer_Account::getVirtualGuests.

import (
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// slTagPattern is the tag alphabet SoftLayer allows.
var slTagPattern = regexp.MustCompile(`^[A-Za-z0-9 _.:-]{1,128}$`)

var slProvisionSteps = []string{"PROVISION_DNS", "CLOUD_CREATE_DISKS", "CLOUD_PROVISION_SETUP", "CLOUD_INSTANCE_POWER_ON", "CLOUD_FINISH_POST_PROVISION"}

// slGuest is a virtual server. Guarded by Cloud.mu.
type slGuest struct {
	ID               int
	GlobalIdentifier string
	Spec             slGuestSpec
	OrderID          int
	CreateDate       time.Time
	ProvisionDate    time.Time // zero until ready
	PowerState       string    // "RUNNING" or "HALTED"
	PublicIP         string
	PrivateIP        string
	Tags             []string
	Transaction      *slTransaction
}

// Guest is a virtual server as tests see it.
type Guest struct {
	ID               int
	GlobalIdentifier string
	Hostname, Domain string
	Datacenter       string
	CPUs, MemoryMB   int
	Flavor           string
	Hourly           bool
	LocalDisk        bool
	NetworkSpeed     int
	TemplateGUID     string // image template it was built from
	OSReferenceCode  string
	UserData         string
	SSHKeyIDs        []int
	Tags             []string
	PowerState       string
	ProvisionDate    time.Time // zero while provisioning
	Busy             bool      // a transaction is running
	PublicIP         string
	PrivateIP        string
	OrderID          int
	CRN              string
}

// Guests returns the account's virtual servers, oldest first.
func (c *Cloud) Guests() []Guest {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []Guest
	for _, id := range slSortedIDs(c.softlayer.guests) {
		g := c.softlayer.guests[id]
		s := g.Spec
		out = append(out, Guest{
			ID: g.ID, GlobalIdentifier: g.GlobalIdentifier, Hostname: s.Hostname, Domain: s.Domain,
			Datacenter: s.Datacenter, CPUs: s.CPUs, MemoryMB: s.MemoryMB, Flavor: s.Flavor, Hourly: s.Hourly,
			LocalDisk: s.LocalDisk, NetworkSpeed: s.PortSpeed, TemplateGUID: s.TemplateGUID,
			OSReferenceCode: s.OSReferenceCode, UserData: s.UserData, SSHKeyIDs: append([]int(nil), s.SSHKeyIDs...),
			Tags: append([]string(nil), g.Tags...), PowerState: g.PowerState, ProvisionDate: g.ProvisionDate,
			Busy: g.Transaction != nil, PublicIP: g.PublicIP, PrivateIP: g.PrivateIP, OrderID: g.OrderID,
			CRN: c.slGuestCRN(g.ID),
		})
	}
	return out
}

func (c *Cloud) slGuestCRN(id int) string {
	return "crn:v1:bluemix:public:classic-infrastructure:" + c.Region + ":a/" + c.AccountID + "::virtual-guest:" + strconv.Itoa(id)
}

var slGuestMethods = map[string]slHandler{
	"SoftLayer_Virtual_Guest::getObject":                (*Cloud).slGuestGetObject,
	"SoftLayer_Virtual_Guest::getPowerState":            (*Cloud).slGuestGetPowerState,
	"SoftLayer_Virtual_Guest::getActiveTransaction":     (*Cloud).slGuestGetActiveTransaction,
	"SoftLayer_Virtual_Guest::getActiveTransactions":    (*Cloud).slGuestGetActiveTransactions,
	"SoftLayer_Virtual_Guest::getTagReferences":         (*Cloud).slGuestGetTagReferences,
	"SoftLayer_Virtual_Guest::setTags":                  (*Cloud).slGuestSetTags,
	"SoftLayer_Virtual_Guest::deleteObject":             (*Cloud).slGuestDelete,
	"SoftLayer_Virtual_Guest::powerOn":                  (*Cloud).slGuestPowerOn,
	"SoftLayer_Virtual_Guest::powerOff":                 (*Cloud).slGuestPowerOff,
	"SoftLayer_Virtual_Guest::powerOffSoft":             (*Cloud).slGuestPowerOff,
	"SoftLayer_Virtual_Guest::createArchiveTransaction": (*Cloud).slGuestCapture,
	"SoftLayer_Account::getVirtualGuests":               (*Cloud).slAccountGuests,
	"SoftLayer_Account::getHourlyVirtualGuests":         (*Cloud).slAccountGuests,
}

// slNewGuest creates a server and starts its provisioning transaction. Called with c.mu held.
func (c *Cloud) slNewGuest(s slGuestSpec, orderID int) *slGuest {
	sl := &c.softlayer
	sl.nextGuestID++
	g := &slGuest{
		ID: sl.nextGuestID, GlobalIdentifier: newUUID(), Spec: s, OrderID: orderID, CreateDate: time.Now(),
		PowerState: "HALTED", PrivateIP: fmt.Sprintf("10.%d.%d.%d", 100+sl.nextGuestID%100, sl.nextGuestID/250%250, 2+sl.nextGuestID%250),
	}
	if !s.PrivateOnly {
		g.PublicIP = fmt.Sprintf("198.51.100.%d", 1+sl.nextGuestID%254)
	}
	tx := c.slNewTransaction("Provision", slProvisionSteps, slProvisionDuration)
	tx.GuestID = g.ID
	g.Transaction = tx
	sl.guests[g.ID] = g
	provisioned, finished := c.slProvisionEvents(g, tx)
	c.slAfter(tx.Duration*4/5, provisioned)
	c.slAfter(tx.Duration, finished)
	return g
}

// slProvisionEvents returns what happens to g at 4/5 of its provisioning
// transaction tx (SoftLayer sets provisionDate before the last
// post-provision step ends: the reason clients wait for both, twice) and
// at its end. Their timers may run in either order — timers that expire
// in one scheduler pass, as in a process starved of CPU, start their
// goroutines newest first — so the end also does what is due at 4/5: a
// guest must never be left idle and unprovisioned.
func (c *Cloud) slProvisionEvents(g *slGuest, tx *slTransaction) (provisioned, finished func()) {
	step := func(end bool) func() {
		return func() {
			c.mu.Lock()
			defer c.mu.Unlock()
			if g.Transaction != tx {
				return // deleted, or its provisioning already ended
			}
			if g.ProvisionDate.IsZero() {
				g.ProvisionDate, g.PowerState = time.Now(), "RUNNING"
			}
			if end {
				g.Transaction = nil
			}
		}
	}
	return step(false), step(true)
}

func (c *Cloud) slRecordProvision(call *slCall, g *slGuest) {
	c.record(call.r, call.who, Event{
		Action: "audit-log.vsi.provision", Service: ServiceSoftLayer,
		Message: "Classic Virtual Server " + g.Spec.Hostname + "." + g.Spec.Domain + " provisioned",
		Target:  EventTarget{ID: c.slGuestCRN(g.ID), Name: g.Spec.Hostname + "." + g.Spec.Domain, TypeURI: "classic-infrastructure/virtual-guest"},
		RequestData: map[string]any{
			"datacenter": g.Spec.Datacenter, "imageTemplateGlobalIdentifier": g.Spec.TemplateGUID,
			"startCpus": g.Spec.CPUs, "maxMemory": g.Spec.MemoryMB, "orderId": g.OrderID,
		},
	})
}

// slRenderGuest is the full representation of a guest; masks prune it.
func (c *Cloud) slRenderGuest(g *slGuest, now time.Time) map[string]any {
	s := g.Spec
	m := map[string]any{
		"id": g.ID, "globalIdentifier": g.GlobalIdentifier, "hostname": s.Hostname, "domain": s.Domain,
		"fullyQualifiedDomainName": s.Hostname + "." + s.Domain, "startCpus": s.CPUs, "maxCpu": s.CPUs,
		"maxCpuUnits": "CORE", "maxMemory": s.MemoryMB, "hourlyBillingFlag": s.Hourly, "localDiskFlag": s.LocalDisk,
		"dedicatedAccountHostOnlyFlag": false, "privateNetworkOnlyFlag": s.PrivateOnly,
		"createDate": slTime(g.CreateDate), "modifyDate": slTime(now), "statusId": 1001, "accountId": c.slAccountID(),
		"uuid":                         g.GlobalIdentifier,
		"primaryBackendIpAddress":      g.PrivateIP,
		"operatingSystemReferenceCode": s.OSReferenceCode,
		"powerState":                   slPowerState(g.PowerState),
		"status":                       map[string]any{"keyName": "ACTIVE", "name": "Active"},
		"datacenter":                   slLocation(s.Datacenter),
		"tagReferences":                slTagRefs(g.Tags),
		"billingItem":                  map[string]any{"id": g.ID + 7_000_000, "orderItem": map[string]any{"order": map[string]any{"id": g.OrderID}}},
		"networkComponents":            []map[string]any{{"maxSpeed": s.PortSpeed, "name": "eth", "port": 1}},
		"activeTransactions":           []map[string]any{},
	}
	if g.PublicIP != "" {
		m["primaryIpAddress"] = g.PublicIP
	}
	if s.Flavor != "" {
		m["billingItem"].(map[string]any)["description"] = s.Flavor
		m["supplementalCreateObjectOptions"] = map[string]any{"flavorKeyName": s.Flavor}
	}
	if !g.ProvisionDate.IsZero() {
		m["provisionDate"] = slTime(g.ProvisionDate)
	}
	if g.Transaction != nil {
		tx := g.Transaction.render(now)
		m["activeTransaction"] = tx
		m["activeTransactions"] = []map[string]any{tx}
		m["activeTransactionCount"] = 1
	}
	if s.TemplateGUID != "" {
		m["blockDeviceTemplateGroup"] = map[string]any{"globalIdentifier": s.TemplateGUID, "id": s.TemplateID}
	}
	if s.UserData != "" {
		m["userData"] = []map[string]any{{"value": s.UserData}}
	}
	if len(s.SSHKeyIDs) > 0 {
		keys := []map[string]any{}
		for _, k := range s.SSHKeyIDs {
			keys = append(keys, map[string]any{"id": k})
		}
		m["sshKeys"] = keys
	}
	return m
}

func slPowerState(s string) map[string]any {
	name := "Halted"
	if s == "RUNNING" {
		name = "Running"
	}
	return map[string]any{"keyName": s, "name": name}
}

func slTagRefs(tags []string) []map[string]any {
	out := []map[string]any{}
	for i, t := range tags {
		out = append(out, map[string]any{"id": i + 1, "tag": map[string]any{"name": t}})
	}
	return out
}

func (c *Cloud) slWithGuest(call *slCall, f func(g *slGuest) (any, error)) (any, error) {
	if err := call.requireID(); err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	g, ok := c.softlayer.guests[call.id]
	if !ok {
		return nil, slNotFound(call.id)
	}
	return f(g)
}

func (c *Cloud) slGuestGetObject(call *slCall) (any, error) {
	return c.slWithGuest(call, func(g *slGuest) (any, error) { return c.slRenderGuest(g, time.Now()), nil })
}

func (c *Cloud) slGuestGetPowerState(call *slCall) (any, error) {
	return c.slWithGuest(call, func(g *slGuest) (any, error) { return slPowerState(g.PowerState), nil })
}

func (c *Cloud) slGuestGetActiveTransaction(call *slCall) (any, error) {
	return c.slWithGuest(call, func(g *slGuest) (any, error) {
		if g.Transaction == nil {
			return nil, nil
		}
		return g.Transaction.render(time.Now()), nil
	})
}

func (c *Cloud) slGuestGetActiveTransactions(call *slCall) (any, error) {
	return c.slWithGuest(call, func(g *slGuest) (any, error) {
		if g.Transaction == nil {
			return []map[string]any{}, nil
		}
		return []map[string]any{g.Transaction.render(time.Now())}, nil
	})
}

func (c *Cloud) slGuestGetTagReferences(call *slCall) (any, error) {
	return c.slWithGuest(call, func(g *slGuest) (any, error) { return slTagRefs(g.Tags), nil })
}

// slGuestSetTags replaces the guest's tags with a comma-separated list.
func (c *Cloud) slGuestSetTags(call *slCall) (any, error) {
	var tags string
	if err := call.param(0, &tags); err != nil {
		return nil, err
	}
	var list []string
	for _, t := range strings.Split(tags, ",") {
		t = strings.TrimSpace(t)
		if t == "" {
			continue
		}
		if !slTagPattern.MatchString(t) {
			return nil, slOrderErr(exPublic, "Invalid tag %q: tags may contain A-Z, 0-9, whitespace, _ - . and :.", t)
		}
		list = append(list, t)
	}
	return c.slWithGuest(call, func(g *slGuest) (any, error) {
		g.Tags = list
		return true, nil
	})
}

func (c *Cloud) slGuestDelete(call *slCall) (any, error) {
	var name string
	_, err := c.slWithGuest(call, func(g *slGuest) (any, error) {
		name = g.Spec.Hostname + "." + g.Spec.Domain
		g.Transaction = nil // stops the pending provisioning steps
		delete(c.softlayer.guests, g.ID)
		return nil, nil
	})
	if err != nil {
		return nil, err
	}
	c.record(call.r, call.who, Event{
		Action: "audit-log.vsi.delete", Service: ServiceSoftLayer,
		Message: "Classic Virtual Server " + name + " deleted",
		Target:  EventTarget{ID: c.slGuestCRN(call.id), Name: name, TypeURI: "classic-infrastructure/virtual-guest"},
	})
	return true, nil
}

func (c *Cloud) slGuestPowerOn(call *slCall) (any, error)  { return c.power(call, "RUNNING") }
func (c *Cloud) slGuestPowerOff(call *slCall) (any, error) { return c.power(call, "HALTED") }

func (c *Cloud) power(call *slCall, state string) (any, error) {
	var name string
	_, err := c.slWithGuest(call, func(g *slGuest) (any, error) {
		if g.Transaction != nil {
			return nil, slOrderErr(exNotReady, "The virtual server %d has an active transaction (%s).", g.ID, g.Transaction.step(time.Now()))
		}
		g.PowerState = state
		name = g.Spec.Hostname + "." + g.Spec.Domain
		return nil, nil
	})
	if err != nil {
		return nil, err
	}
	action := "audit-log.vsi.power-on"
	if state == "HALTED" {
		action = "audit-log.vsi.power-off"
	}
	c.record(call.r, call.who, Event{
		Action: action, Service: ServiceSoftLayer, Message: "Classic Virtual Server " + name + " " + strings.TrimPrefix(action, "audit-log.vsi."),
		Target: EventTarget{ID: c.slGuestCRN(call.id), Name: name, TypeURI: "classic-infrastructure/virtual-guest"},
	})
	return true, nil
}

// slGuestCapture is createArchiveTransaction(groupName, blockDevices, note):
// it captures a ready guest into a new private image template.
func (c *Cloud) slGuestCapture(call *slCall) (any, error) {
	var name, note string
	if err := call.param(0, &name); err != nil {
		return nil, err
	}
	if err := call.param(2, &note); err != nil {
		return nil, err
	}
	if strings.TrimSpace(name) == "" {
		return nil, slOrderErr(exPublic, "A name (groupName) is required for the image template.")
	}
	return c.slWithGuest(call, func(g *slGuest) (any, error) {
		if g.ProvisionDate.IsZero() || g.Transaction != nil {
			return nil, slOrderErr(exNotReady, "The virtual server %d is not ready to be captured: it has an active transaction.", g.ID)
		}
		sl := &c.softlayer
		tx := c.slNewTransaction("Image Capture", []string{"CLOUD_ARCHIVE_BLOCK_DEVICES", "CLOUD_ARCHIVE_COMPLETE"}, slArchiveDuration)
		tx.GuestID = g.ID
		g.Transaction = tx
		sl.nextTemplateID++
		parent := &slTemplate{ID: sl.nextTemplateID, GlobalIdentifier: newUUID(), Name: name, Note: note,
			CreateDate: time.Now(), OSReferenceCode: g.Spec.OSReferenceCode, SourceGuestID: g.ID,
			Datacenters: []string{g.Spec.Datacenter}, Status: slTemplatePending, CloudInit: true}
		sl.nextTemplateID++
		child := *parent
		child.ID, child.ParentID, child.GlobalIdentifier, child.Transaction = sl.nextTemplateID, parent.ID, "", tx
		parent.ChildIDs = []int{child.ID}
		sl.templates[parent.ID], sl.templates[child.ID] = parent, &child
		c.slAfter(tx.Duration, func() {
			c.mu.Lock()
			defer c.mu.Unlock()
			if g.Transaction == tx {
				g.Transaction = nil
			}
			for _, t := range []*slTemplate{parent, &child} {
				t.Status, t.Transaction = slTemplateActive, nil
			}
		})
		return tx.render(time.Now()), nil
	})
}

func (c *Cloud) slAccountGuests(call *slCall) (any, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now()
	out := []map[string]any{}
	for _, id := range slSortedIDs(c.softlayer.guests) {
		g := c.softlayer.guests[id]
		if call.method == "getHourlyVirtualGuests" && !g.Spec.Hourly {
			continue
		}
		out = append(out, c.slRenderGuest(g, now))
	}
	return out, nil
}

func slSortedIDs[V any](m map[int]V) []int {
	ids := make([]int, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	sort.Ints(ids)
	return ids
}

// DumpSoftLayer writes the classic infrastructure state (templates and
// guests, no credentials) as indented JSON, for debugging tests.
func (c *Cloud) DumpSoftLayer(w io.Writer) error {
	state := struct {
		Templates []Template `json:"templates"`
		Guests    []Guest    `json:"guests"`
	}{c.Templates(), c.Guests()}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(state); err != nil {
		return fmt.Errorf("e2etest: dump softlayer state: %w", err)
	}
	return nil
}
