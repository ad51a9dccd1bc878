package provision

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/softlayer/softlayer-go/datatypes"
	"github.com/softlayer/softlayer-go/services"
	"github.com/softlayer/softlayer-go/session"
	"github.com/softlayer/softlayer-go/sl"
)

// Order describes one classic virtual server to order from an image template.
type Order struct {
	// Hostname and Domain name the server (required). The hostname must be
	// unique in the account: it is how a rerun finds the server.
	Hostname string
	Domain   string
	// Datacenter is a classic datacenter such as "dal10" (required).
	Datacenter string
	// CPUs and MemoryMB size the server; or set Flavor (e.g. "B1_2X4X25").
	CPUs     int
	MemoryMB int
	Flavor   string
	// Monthly bills the server monthly. The default is hourly.
	Monthly bool
	// LocalDisk puts the boot disk on the host instead of SAN.
	LocalDisk bool
	// NetworkSpeed is the port speed in Mbps (10, 100 or 1000). The default is 100.
	NetworkSpeed int
	// PrivateNetworkOnly orders no public interface.
	PrivateNetworkOnly bool
	// SSHKeyIDs are classic SSH key IDs to install.
	SSHKeyIDs []int
	// UserData is passed to cloud-init.
	UserData string
	// Tags are added to the server, besides the idempotency tag.
	Tags []string
	// TemplateGUID is the image template's global identifier (required).
	TemplateGUID string
	// IdempotencyKey identifies this order across reruns. The default is
	// the fully qualified domain name.
	IdempotencyKey string
}

// IdempotencyTagPrefix starts the tag that marks a server as the result of
// an Order; the rest is a hash of the idempotency key.
const IdempotencyTagPrefix = "e2eimage-order:"

var (
	hostLabel  = regexp.MustCompile(`^[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$`)
	tldPattern = regexp.MustCompile(`^[a-zA-Z]{2,63}$`)
	tagPattern = regexp.MustCompile(`^[A-Za-z0-9 _.:-]{1,128}$`)
	dcPattern  = regexp.MustCompile(`^[a-z]{3}[0-9]{2}$`)
	guidRE     = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
)

// Tag is the idempotency tag of o.
func (o Order) Tag() string {
	key := o.IdempotencyKey
	if key == "" {
		key = strings.ToLower(o.Hostname + "." + o.Domain)
	}
	sum := sha256.Sum256([]byte(key))
	return IdempotencyTagPrefix + hex.EncodeToString(sum[:8])
}

func (o *Order) validate() error {
	if !hostLabel.MatchString(o.Hostname) {
		return invalid("Hostname", "%q must be 1-63 letters, digits or dashes, not starting or ending with a dash", o.Hostname)
	}
	labels := strings.Split(o.Domain, ".")
	if len(labels) < 2 || !tldPattern.MatchString(labels[len(labels)-1]) {
		return invalid("Domain", "%q must have at least two labels and an alphabetic top-level domain", o.Domain)
	}
	for _, l := range labels {
		if !hostLabel.MatchString(l) {
			return invalid("Domain", "label %q of %q is not letters, digits and dashes", l, o.Domain)
		}
	}
	if len(o.Hostname)+1+len(o.Domain) > 253 {
		return invalid("Domain", "the fully qualified name is longer than 253 characters")
	}
	if !dcPattern.MatchString(o.Datacenter) {
		return invalid("Datacenter", "%q is not a classic datacenter name like dal10", o.Datacenter)
	}
	switch {
	case o.Flavor != "" && (o.CPUs != 0 || o.MemoryMB != 0):
		return invalid("Flavor", "set either a flavor or CPUs and MemoryMB, not both")
	case o.Flavor == "" && o.CPUs <= 0:
		return invalid("CPUs", "must be positive (or set a Flavor)")
	case o.Flavor == "" && o.MemoryMB < 1024:
		return invalid("MemoryMB", "%d is below the 1024 MB minimum", o.MemoryMB)
	}
	switch o.NetworkSpeed {
	case 0, 10, 100, 1000:
	default:
		return invalid("NetworkSpeed", "%d Mbps is not 10, 100 or 1000", o.NetworkSpeed)
	}
	if !guidRE.MatchString(o.TemplateGUID) {
		return invalid("TemplateGUID", "%q is not an image template global identifier", o.TemplateGUID)
	}
	for _, id := range o.SSHKeyIDs {
		if id <= 0 {
			return invalid("SSHKeyIDs", "%d is not an SSH key ID", id)
		}
	}
	for _, t := range o.Tags {
		if !tagPattern.MatchString(t) || strings.HasPrefix(t, IdempotencyTagPrefix) {
			return invalid("Tags", "%q is not a tag (letters, digits, spaces, _ - . :) or uses the reserved prefix", t)
		}
	}
	if len(o.UserData) > 64<<10 {
		return invalid("UserData", "is larger than 64 KiB")
	}
	return nil
}

// guestTemplate is o as a SoftLayer_Virtual_Guest template object.
func (o *Order) guestTemplate() *datatypes.Virtual_Guest {
	g := &datatypes.Virtual_Guest{
		Hostname: sl.String(o.Hostname), Domain: sl.String(o.Domain),
		HourlyBillingFlag: sl.Bool(!o.Monthly), LocalDiskFlag: sl.Bool(o.LocalDisk),
		Datacenter:               &datatypes.Location{Name: sl.String(o.Datacenter)},
		BlockDeviceTemplateGroup: &datatypes.Virtual_Guest_Block_Device_Template_Group{GlobalIdentifier: sl.String(o.TemplateGUID)},
	}
	if o.Flavor != "" {
		g.SupplementalCreateObjectOptions = &datatypes.Virtual_Guest_SupplementalCreateObjectOptions{FlavorKeyName: sl.String(o.Flavor)}
	} else {
		g.StartCpus, g.MaxMemory = sl.Int(o.CPUs), sl.Int(o.MemoryMB)
	}
	if o.NetworkSpeed != 0 {
		g.NetworkComponents = []datatypes.Virtual_Guest_Network_Component{{MaxSpeed: sl.Int(o.NetworkSpeed)}}
	}
	if o.PrivateNetworkOnly {
		g.PrivateNetworkOnlyFlag = sl.Bool(true)
	}
	if o.UserData != "" {
		g.UserData = []datatypes.Virtual_Guest_Attribute{{Value: sl.String(o.UserData)}}
	}
	for _, id := range o.SSHKeyIDs {
		g.SshKeys = append(g.SshKeys, datatypes.Security_Ssh_Key{Id: sl.Int(id)})
	}
	return g
}

// Quote is a verified order: what it costs and what it buys.
type Quote struct {
	HourlyCost  float64 // recurring cost per hour
	MonthlyCost float64 // recurring cost per month
	Prices      []Price
	order       datatypes.Container_Product_Order_Virtual_Guest
}

// Price is one item of a quote.
type Price struct {
	Category    string // e.g. "guest_core", "ram", "port_speed"
	Description string
	HourlyFee   float64
	MonthlyFee  float64
}

// Verify validates o, builds its order (generateOrderTemplate) and has
// SoftLayer verify it (verifyOrder) without buying anything.
func (c *Client) Verify(ctx context.Context, o Order) (*Quote, error) {
	if err := o.validate(); err != nil {
		return nil, err
	}
	var tmpl datatypes.Container_Product_Order
	err := c.s.Call(ctx, "SoftLayer_Virtual_Guest", "generateOrderTemplate", true, func(s *session.Session) error {
		var err error
		tmpl, err = services.GetVirtualGuestService(s).GenerateOrderTemplate(o.guestTemplate())
		return err
	})
	if err != nil {
		return nil, err
	}
	order := datatypes.Container_Product_Order_Virtual_Guest{
		Container_Product_Order_Hardware_Server: datatypes.Container_Product_Order_Hardware_Server{Container_Product_Order: tmpl},
	}
	var verified datatypes.Container_Product_Order
	err = c.s.Call(ctx, "SoftLayer_Product_Order", "verifyOrder", true, func(s *session.Session) error {
		var err error
		verified, err = services.GetProductOrderService(s).VerifyOrder(&order)
		return err
	})
	if err != nil {
		return nil, err
	}
	q := &Quote{order: order}
	q.HourlyCost = float64(deref(verified.PostTaxRecurringHourly))
	q.MonthlyCost = float64(deref(verified.PostTaxRecurringMonthly))
	for _, p := range verified.Prices {
		pr := Price{HourlyFee: float64(deref(p.HourlyRecurringFee)), MonthlyFee: float64(deref(p.RecurringFee))}
		if p.Item != nil {
			pr.Description = deref(p.Item.Description)
		}
		if len(p.Categories) > 0 {
			pr.Category = deref(p.Categories[0].CategoryCode)
		}
		q.Prices = append(q.Prices, pr)
	}
	return q, nil
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// Order orders the server o describes, unless a rerun finds it already
// ordered, and returns it (usually still provisioning: Wait for it).
//
// It looks for the server first (Find), verifies the order, places it
// once — never retried, since a retry can buy twice — then finds the new
// server and tags it with o's idempotency tag. If placeOrder's answer is
// lost, it looks for the server; if it is not there yet the error wraps
// ErrOutcomeUnknown and rerunning Order is safe. Reruns are sequential:
// two concurrent Orders of the same server can both find nothing and buy
// twice.
func (c *Client) Order(ctx context.Context, o Order) (*Server, error) {
	if err := o.validate(); err != nil {
		return nil, err
	}
	if srv, found, err := c.Find(ctx, o); err != nil {
		return nil, err
	} else if found {
		return srv, c.ensureTags(ctx, srv, o)
	}
	q, err := c.Verify(ctx, o)
	if err != nil {
		return nil, err
	}
	var receipt datatypes.Container_Product_Order_Receipt
	err = c.s.Call(ctx, "SoftLayer_Product_Order", "placeOrder", false, func(s *session.Session) error {
		var err error
		receipt, err = services.GetProductOrderService(s).PlaceOrder(&q.order, sl.Bool(false))
		return err
	})
	if err != nil && ctx.Err() != nil {
		return nil, fmt.Errorf("%w: placeOrder interrupted: %w", ErrOutcomeUnknown, err)
	}
	var ae *APIError
	if err != nil && (!errors.As(err, &ae) || !ae.Temporary() || errors.Is(err, ErrRateLimited)) {
		return nil, err // refused by SoftLayer: nothing was ordered
	}
	if err == nil && receipt.OrderId == nil {
		return nil, fmt.Errorf("%w: placeOrder answered without an order id", ErrUnexpectedResponse)
	}
	placeErr := err
	srv, err := c.awaitServer(ctx, o)
	if err != nil {
		if placeErr != nil {
			return nil, fmt.Errorf("%w: placeOrder failed (%w) and the server was not found: %w", ErrOutcomeUnknown, placeErr, err)
		}
		return nil, fmt.Errorf("provision: order %d placed but the server was not found: %w", deref(receipt.OrderId), err)
	}
	if err := c.ensureTags(ctx, srv, o); err != nil {
		return srv, err
	}
	return srv, nil
}

// Find looks for the server of o by hostname and domain. A server with o's
// idempotency tag, or with no order tag at all (an order interrupted before
// tagging), is o's; one tagged by another order makes ErrHostnameTaken.
func (c *Client) Find(ctx context.Context, o Order) (*Server, bool, error) {
	if err := o.validate(); err != nil {
		return nil, false, err
	}
	var guests []datatypes.Virtual_Guest
	err := c.s.Call(ctx, "SoftLayer_Account", "getVirtualGuests", true, func(s *session.Session) error {
		filter := fmt.Sprintf(`{"virtualGuests":{"hostname":{"operation":%q},"domain":{"operation":%q}}}`, o.Hostname, o.Domain)
		var err error
		guests, err = services.GetAccountService(s).Mask(serverMask).Filter(filter).GetVirtualGuests()
		return err
	})
	if err != nil {
		return nil, false, err
	}
	tag := o.Tag()
	var untagged *Server
	for i := range guests {
		srv := fromDatatype(&guests[i])
		if !strings.EqualFold(srv.Hostname, o.Hostname) || !strings.EqualFold(srv.Domain, o.Domain) {
			continue // the filter is a request, not a guarantee
		}
		switch other := orderTag(srv.Tags); other {
		case tag:
			return srv, true, nil
		case "":
			if untagged == nil || srv.ID > untagged.ID {
				untagged = srv
			}
		default:
			return nil, false, fmt.Errorf("%w: %s.%s is server %d of order tag %s", ErrHostnameTaken, o.Hostname, o.Domain, srv.ID, other)
		}
	}
	if untagged != nil {
		return untagged, true, nil
	}
	return nil, false, nil
}

func orderTag(tags []string) string {
	for _, t := range tags {
		if strings.HasPrefix(t, IdempotencyTagPrefix) {
			return t
		}
	}
	return ""
}

// awaitServer polls Find until the ordered server shows up.
func (c *Client) awaitServer(ctx context.Context, o Order) (*Server, error) {
	ctx, cancel := context.WithTimeout(ctx, c.findTimeout)
	defer cancel()
	wait := c.retryWait
	for {
		srv, found, err := c.Find(ctx, o)
		if err == nil && found {
			return srv, nil
		}
		if err != nil && !errors.Is(err, ErrTransport) && !errors.Is(err, ErrRateLimited) {
			return nil, err
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			if err == nil {
				err = ctx.Err()
			}
			return nil, err
		case <-t.C:
		}
		wait = min(wait*2, 15*time.Second)
	}
}

// ensureTags sets o's tags and idempotency tag on srv if they are missing.
func (c *Client) ensureTags(ctx context.Context, srv *Server, o Order) error {
	want := append([]string{o.Tag()}, o.Tags...)
	have := map[string]bool{}
	for _, t := range srv.Tags {
		have[t] = true
	}
	missing := false
	for _, t := range want {
		missing = missing || !have[t]
	}
	if !missing {
		return nil
	}
	all := append([]string(nil), srv.Tags...)
	for _, t := range want {
		if !have[t] {
			all = append(all, t)
		}
	}
	err := c.s.Call(ctx, "SoftLayer_Virtual_Guest", "setTags", true, func(s *session.Session) error {
		_, err := services.GetVirtualGuestService(s).Id(srv.ID).SetTags(sl.String(strings.Join(all, ",")))
		return err
	})
	if err != nil {
		return fmt.Errorf("provision: server %d ordered but not tagged (a rerun tags it): %w", srv.ID, err)
	}
	srv.Tags = all
	return nil
}
