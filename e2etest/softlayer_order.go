package e2etest

// Ordering classic virtual servers: SoftLayer_Virtual_Guest::createObject
// and generateOrderTemplate, SoftLayer_Product_Order::verifyOrder and
// placeOrder, with the validation the real catalog applies.

import (
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
)

var slOrderMethods = map[string]slHandler{
	"SoftLayer_Virtual_Guest::createObject":          (*Cloud).slGuestCreateObject,
	"SoftLayer_Virtual_Guest::generateOrderTemplate": (*Cloud).slGenerateOrderTemplate,
	"SoftLayer_Product_Order::verifyOrder":           (*Cloud).slVerifyOrder,
	"SoftLayer_Product_Order::placeOrder":            (*Cloud).slPlaceOrder,
}

// The catalog of the classic public virtual server package.
const slPackageID = 46

var (
	slCPUs          = []int{1, 2, 4, 8, 16, 32, 48, 56}
	slMemoryMB      = []int{1024, 2048, 4096, 8192, 12288, 16384, 32768, 49152, 65536}
	slPortSpeeds    = []int{10, 100, 1000}
	slDiskSizesGB   = []int{25, 100}
	slFlavors       = []string{"B1_1X2X25", "B1_2X4X25", "B1_2X4X100", "B1_4X8X25", "B1_4X8X100", "B1_8X16X100", "C1_2X2X25", "C1_4X4X25", "M1_2X16X25", "M1_4X32X100"}
	slFlavorPattern = regexp.MustCompile(`^[BCM]1_(\d+)X(\d+)X(\d+)$`)
	slHostLabel     = regexp.MustCompile(`^[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$`)
	slTLDPattern    = regexp.MustCompile(`^[a-zA-Z]{2,63}$`)
)

// Item price IDs: a category base plus the item's capacity.
const (
	slPriceCore   = 11_000
	slPriceRAM    = 12_000 // + GB
	slPriceDisk   = 13_000 // + GB
	slPricePort   = 14_000 // + Mbps
	slPresetFirst = 16_000 // + index in slFlavors
)

func slContainsInt(list []int, v int) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// slGuestSpec is a validated order for one virtual server.
type slGuestSpec struct {
	Hostname, Domain  string
	Datacenter        string
	CPUs, MemoryMB    int
	Flavor            string
	DiskGB            int
	Hourly, LocalDisk bool
	PortSpeed         int
	PrivateOnly       bool
	TemplateID        int
	TemplateGUID      string
	OSReferenceCode   string
	UserData          string
	SSHKeyIDs         []int
	PostInstallURI    string
}

// slGuestTemplate is the SoftLayer_Virtual_Guest template object of
// createObject and generateOrderTemplate.
type slGuestTemplate struct {
	Hostname          string `json:"hostname"`
	Domain            string `json:"domain"`
	StartCpus         int    `json:"startCpus"`
	MaxMemory         int    `json:"maxMemory"`
	HourlyBillingFlag *bool  `json:"hourlyBillingFlag"`
	LocalDiskFlag     *bool  `json:"localDiskFlag"`
	Datacenter        *struct {
		Name string `json:"name"`
	} `json:"datacenter"`
	BlockDeviceTemplateGroup *struct {
		GlobalIdentifier string `json:"globalIdentifier"`
	} `json:"blockDeviceTemplateGroup"`
	OperatingSystemReferenceCode string `json:"operatingSystemReferenceCode"`
	NetworkComponents            []struct {
		MaxSpeed int `json:"maxSpeed"`
	} `json:"networkComponents"`
	SupplementalCreateObjectOptions *struct {
		FlavorKeyName string `json:"flavorKeyName"`
	} `json:"supplementalCreateObjectOptions"`
	UserData []struct {
		Value string `json:"value"`
	} `json:"userData"`
	SSHKeys []struct {
		ID int `json:"id"`
	} `json:"sshKeys"`
	PostInstallScriptURI   string `json:"postInstallScriptUri"`
	PrivateNetworkOnlyFlag bool   `json:"privateNetworkOnlyFlag"`
	BlockDevices           []struct {
		Device    string `json:"device"`
		DiskImage struct {
			Capacity int `json:"capacity"`
		} `json:"diskImage"`
	} `json:"blockDevices"`
}

func slOrderErr(code, format string, args ...any) *slError {
	return slErr(http.StatusInternalServerError, code, format, args...)
}

func (g *slGuestTemplate) spec() slGuestSpec {
	s := slGuestSpec{
		Hostname: g.Hostname, Domain: g.Domain, CPUs: g.StartCpus, MemoryMB: g.MaxMemory,
		Hourly: g.HourlyBillingFlag == nil || *g.HourlyBillingFlag, LocalDisk: g.LocalDiskFlag != nil && *g.LocalDiskFlag,
		OSReferenceCode: g.OperatingSystemReferenceCode, PostInstallURI: g.PostInstallScriptURI, PrivateOnly: g.PrivateNetworkOnlyFlag,
		PortSpeed: 100, DiskGB: 25,
	}
	if g.Datacenter != nil {
		s.Datacenter = g.Datacenter.Name
	}
	if g.BlockDeviceTemplateGroup != nil {
		s.TemplateGUID = g.BlockDeviceTemplateGroup.GlobalIdentifier
	}
	if len(g.NetworkComponents) > 0 && g.NetworkComponents[0].MaxSpeed != 0 {
		s.PortSpeed = g.NetworkComponents[0].MaxSpeed
	}
	if g.SupplementalCreateObjectOptions != nil {
		s.Flavor = g.SupplementalCreateObjectOptions.FlavorKeyName
	}
	for _, u := range g.UserData {
		s.UserData = u.Value
	}
	for _, k := range g.SSHKeys {
		s.SSHKeyIDs = append(s.SSHKeyIDs, k.ID)
	}
	for _, b := range g.BlockDevices {
		if b.Device == "0" && b.DiskImage.Capacity != 0 {
			s.DiskGB = b.DiskImage.Capacity
		}
	}
	return s
}

// validate checks an order the way the catalog and verifyOrder do. Called with c.mu held.
func (c *Cloud) slValidateSpec(s *slGuestSpec) error {
	if s.Hostname == "" || s.Domain == "" {
		return slOrderErr(exPublic, "Both hostname and domain are required.")
	}
	if !slHostLabel.MatchString(s.Hostname) {
		return slOrderErr(exPublic, "The hostname %q is invalid: it must be an alphanumeric string that may contain dashes, at most 63 characters, not beginning or ending with a dash.", s.Hostname)
	}
	labels := strings.Split(s.Domain, ".")
	if len(labels) < 2 || !slTLDPattern.MatchString(labels[len(labels)-1]) {
		return slOrderErr(exPublic, "The domain %q is invalid: it must be at least two labels with an alphabetic top-level domain.", s.Domain)
	}
	for _, l := range labels {
		if !slHostLabel.MatchString(l) {
			return slOrderErr(exPublic, "The domain %q is invalid: label %q may only contain letters, digits and dashes.", s.Domain, l)
		}
	}
	if len(s.Hostname)+1+len(s.Domain) > 253 {
		return slOrderErr(exPublic, "The fully qualified domain name may be at most 253 characters.")
	}
	if s.Datacenter == "" {
		return slOrderErr(exInvalidLocation, "A datacenter is required.")
	}
	if _, ok := slDatacenterRegion(s.Datacenter); !ok {
		return slOrderErr(exInvalidLocation, "The location provided for this order (%s) is invalid.", s.Datacenter)
	}
	if s.Flavor != "" {
		if s.CPUs != 0 || s.MemoryMB != 0 {
			return slOrderErr(exPublic, "Specify either a flavor or startCpus and maxMemory, not both.")
		}
		m := slFlavorPattern.FindStringSubmatch(s.Flavor)
		if m == nil || slIndexOf(slFlavors, s.Flavor) < 0 {
			return slOrderErr(exItemInvalid, "Unable to find a preset with the key name %s.", s.Flavor)
		}
		cpus, _ := strconv.Atoi(m[1])
		gb, _ := strconv.Atoi(m[2])
		disk, _ := strconv.Atoi(m[3])
		s.CPUs, s.MemoryMB, s.DiskGB = cpus, gb*1024, disk
	} else {
		if !slContainsInt(slCPUs, s.CPUs) {
			return slOrderErr(exItemInvalid, "Unable to find a price for %d cores (startCpus): choose one of %v.", s.CPUs, slCPUs)
		}
		if !slContainsInt(slMemoryMB, s.MemoryMB) {
			return slOrderErr(exItemInvalid, "Unable to find a price for %d MB of memory (maxMemory): choose one of %v.", s.MemoryMB, slMemoryMB)
		}
		if s.MemoryMB > s.CPUs*16384 {
			return slOrderErr(exItemInvalid, "%d MB of memory exceeds 16 GB per core for %d cores.", s.MemoryMB, s.CPUs)
		}
	}
	if !slContainsInt(slPortSpeeds, s.PortSpeed) {
		return slOrderErr(exItemInvalid, "Unable to find a price for a %d Mbps port: choose one of %v.", s.PortSpeed, slPortSpeeds)
	}
	if !slContainsInt(slDiskSizesGB, s.DiskGB) {
		return slOrderErr(exItemInvalid, "Unable to find a price for a %d GB first disk.", s.DiskGB)
	}
	for _, k := range s.SSHKeyIDs {
		if k <= 0 {
			return slOrderErr(exPublic, "Invalid SSH key id %d.", k)
		}
	}
	if len(s.UserData) > 64<<10 {
		return slOrderErr(exPublic, "User data may be at most 64 KiB.")
	}
	switch {
	case s.TemplateGUID != "" || s.TemplateID != 0:
		t := c.slFindTemplate(s.TemplateGUID, s.TemplateID)
		if t == nil {
			return slOrderErr(exPublic, "Unable to find the image template %s.", slFirstNonEmpty(s.TemplateGUID, strconv.Itoa(s.TemplateID)))
		}
		if t.Status != slTemplateActive || c.slTemplateTx(t) != nil {
			return slOrderErr(exNotReady, "The image template %s is not available for provisioning (status %s).", t.GlobalIdentifier, t.Status)
		}
		s.TemplateGUID, s.TemplateID, s.OSReferenceCode = t.GlobalIdentifier, t.ID, t.OSReferenceCode
	case s.OSReferenceCode == "":
		return slOrderErr(exPublic, "Either operatingSystemReferenceCode or blockDeviceTemplateGroup.globalIdentifier is required.")
	case !slOSRefPattern.MatchString(s.OSReferenceCode):
		return slOrderErr(exItemInvalid, "Unable to find an operating system with reference code %s.", s.OSReferenceCode)
	}
	return nil
}

func slIndexOf(list []string, v string) int {
	for i, x := range list {
		if x == v {
			return i
		}
	}
	return -1
}

func slFirstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// slFindTemplate finds a parent template by global identifier or ID. Called with c.mu held.
func (c *Cloud) slFindTemplate(guid string, id int) *slTemplate {
	for _, t := range c.softlayer.templates {
		if t.ParentID == 0 && ((guid != "" && t.GlobalIdentifier == guid) || (guid == "" && t.ID == id)) {
			return t
		}
	}
	return nil
}

// prices renders the item prices of a spec.
func (s *slGuestSpec) prices() []map[string]any {
	price := func(id int, key, desc, category string, hourly float64, capacity int) map[string]any {
		return map[string]any{
			"id": id, "hourlyRecurringFee": fmt.Sprintf("%.3f", hourly), "recurringFee": fmt.Sprintf("%.2f", hourly*730),
			"setupFee": "0", "oneTimeFee": "0", "laborFee": "0",
			"item":       map[string]any{"keyName": key, "description": desc, "capacity": strconv.Itoa(capacity)},
			"categories": []map[string]any{{"categoryCode": category}},
		}
	}
	var out []map[string]any
	if s.Flavor == "" {
		out = append(out,
			price(slPriceCore+s.CPUs, fmt.Sprintf("GUEST_CORE_%d", s.CPUs), fmt.Sprintf("%d x 2.0 GHz or higher Cores", s.CPUs), "guest_core", 0.025*float64(s.CPUs), s.CPUs),
			price(slPriceRAM+s.MemoryMB/1024, fmt.Sprintf("RAM_%d_GB", s.MemoryMB/1024), fmt.Sprintf("%d GB", s.MemoryMB/1024), "ram", 0.012*float64(s.MemoryMB/1024), s.MemoryMB/1024),
			price(slPriceDisk+s.DiskGB, fmt.Sprintf("GUEST_DISK_%d_GB_SAN", s.DiskGB), fmt.Sprintf("%d GB (SAN)", s.DiskGB), "guest_disk0", 0.0001*float64(s.DiskGB), s.DiskGB),
		)
	}
	out = append(out, price(slPricePort+s.PortSpeed, fmt.Sprintf("%d_MBPS_PUBLIC_PRIVATE_NETWORK_UPLINKS", s.PortSpeed), fmt.Sprintf("%d Mbps Public & Private Network Uplinks", s.PortSpeed), "port_speed", float64(s.PortSpeed)/25000, s.PortSpeed))
	return out
}

func (s *slGuestSpec) hourlyTotal() float64 {
	var t float64
	if s.Flavor != "" {
		t += 0.02*float64(s.CPUs) + 0.01*float64(s.MemoryMB/1024)
	}
	for _, p := range s.prices() {
		f, _ := strconv.ParseFloat(p["hourlyRecurringFee"].(string), 64)
		t += f
	}
	if s.LocalDisk {
		t *= 1.1
	}
	return t
}

// orderContainer renders a SoftLayer_Container_Product_Order_Virtual_Guest.
func (s *slGuestSpec) orderContainer(verified bool) map[string]any {
	guest := map[string]any{"hostname": s.Hostname, "domain": s.Domain, "localDiskFlag": s.LocalDisk, "hourlyBillingFlag": s.Hourly}
	if s.UserData != "" {
		guest["userData"] = []map[string]any{{"value": s.UserData}}
	}
	if s.PrivateOnly {
		guest["privateNetworkOnlyFlag"] = true
	}
	m := map[string]any{
		"complexType":      "SoftLayer_Container_Product_Order_Virtual_Guest",
		"packageId":        slPackageID,
		"location":         strconv.Itoa(slLocationID(s.Datacenter)),
		"locationObject":   slLocation(s.Datacenter),
		"quantity":         1,
		"useHourlyPricing": s.Hourly,
		"prices":           s.prices(),
		"virtualGuests":    []map[string]any{guest},
	}
	if s.Flavor != "" {
		m["presetId"] = slPresetFirst + slIndexOf(slFlavors, s.Flavor)
	}
	if s.TemplateGUID != "" {
		m["imageTemplateGlobalIdentifier"] = s.TemplateGUID
		m["imageTemplateId"] = s.TemplateID
	}
	if len(s.SSHKeyIDs) > 0 {
		m["sshKeys"] = []map[string]any{{"sshKeyIds": s.SSHKeyIDs}}
	}
	if s.PostInstallURI != "" {
		m["provisionScripts"] = []string{s.PostInstallURI}
	}
	if verified {
		h := s.hourlyTotal()
		m["postTaxRecurringHourly"] = fmt.Sprintf("%.3f", h)
		m["postTaxRecurringMonthly"] = fmt.Sprintf("%.2f", h*730)
		m["postTaxRecurring"] = fmt.Sprintf("%.3f", h)
		if !s.Hourly {
			m["postTaxRecurring"] = fmt.Sprintf("%.2f", h*730)
		}
		m["postTaxSetup"] = "0"
		m["totalRecurringTax"] = "0"
		m["totalSetupTax"] = "0"
	}
	return m
}

// slOrder is the product order container verifyOrder and placeOrder accept.
type slOrder struct {
	ComplexType                   string `json:"complexType"`
	PackageID                     int    `json:"packageId"`
	Location                      string `json:"location"`
	PresetID                      int    `json:"presetId"`
	Quantity                      int    `json:"quantity"`
	UseHourlyPricing              *bool  `json:"useHourlyPricing"`
	ImageTemplateGlobalIdentifier string `json:"imageTemplateGlobalIdentifier"`
	ImageTemplateID               int    `json:"imageTemplateId"`
	Prices                        []struct {
		ID int `json:"id"`
	} `json:"prices"`
	VirtualGuests []struct {
		Hostname               string `json:"hostname"`
		Domain                 string `json:"domain"`
		LocalDiskFlag          bool   `json:"localDiskFlag"`
		PrivateNetworkOnlyFlag bool   `json:"privateNetworkOnlyFlag"`
		UserData               []struct {
			Value string `json:"value"`
		} `json:"userData"`
	} `json:"virtualGuests"`
	SSHKeys []struct {
		SSHKeyIDs []int `json:"sshKeyIds"`
	} `json:"sshKeys"`
	ProvisionScripts []string `json:"provisionScripts"`
	OperatingSystem  string   `json:"-"`
}

// spec decodes an order container back into a guest spec. Called with c.mu held.
func (o *slOrder) spec() (slGuestSpec, error) {
	var s slGuestSpec
	if o.ComplexType != "SoftLayer_Container_Product_Order_Virtual_Guest" {
		return s, slOrderErr(exPublic, "Invalid order container type %q: virtual servers are ordered with SoftLayer_Container_Product_Order_Virtual_Guest.", o.ComplexType)
	}
	if o.PackageID != 0 && o.PackageID != slPackageID {
		return s, slOrderErr(exItemInvalid, "Package %d does not sell virtual servers.", o.PackageID)
	}
	if len(o.VirtualGuests) != 1 || (o.Quantity != 0 && o.Quantity != 1) {
		return s, slOrderErr(exPublic, "The emulated catalog orders exactly one virtual server per order (got %d).", len(o.VirtualGuests))
	}
	g := o.VirtualGuests[0]
	s.Hostname, s.Domain, s.LocalDisk, s.PrivateOnly = g.Hostname, g.Domain, g.LocalDiskFlag, g.PrivateNetworkOnlyFlag
	for _, u := range g.UserData {
		s.UserData = u.Value
	}
	s.Hourly = o.UseHourlyPricing == nil || *o.UseHourlyPricing
	s.TemplateGUID, s.TemplateID = o.ImageTemplateGlobalIdentifier, o.ImageTemplateID
	for _, k := range o.SSHKeys {
		s.SSHKeyIDs = append(s.SSHKeyIDs, k.SSHKeyIDs...)
	}
	if len(o.ProvisionScripts) > 0 {
		s.PostInstallURI = o.ProvisionScripts[0]
	}
	s.Datacenter = o.Location
	if id, err := strconv.Atoi(o.Location); err == nil {
		s.Datacenter = ""
		for _, dc := range slAllDatacenters() {
			if slLocationID(dc) == id {
				s.Datacenter = dc
			}
		}
		if s.Datacenter == "" {
			return s, slOrderErr(exInvalidLocation, "The location provided for this order (%s) is invalid.", o.Location)
		}
	}
	if o.PresetID != 0 {
		i := o.PresetID - slPresetFirst
		if i < 0 || i >= len(slFlavors) {
			return s, slOrderErr(exItemInvalid, "Unable to find preset %d.", o.PresetID)
		}
		s.Flavor = slFlavors[i]
	}
	seen := map[string]bool{}
	for _, p := range o.Prices {
		var cat string
		switch {
		case p.ID > slPriceCore && p.ID < slPriceRAM && o.PresetID == 0:
			cat, s.CPUs = "guest_core", p.ID-slPriceCore
		case p.ID > slPriceRAM && p.ID < slPriceDisk && o.PresetID == 0:
			cat, s.MemoryMB = "ram", (p.ID-slPriceRAM)*1024
		case p.ID > slPriceDisk && p.ID < slPricePort && o.PresetID == 0:
			cat, s.DiskGB = "guest_disk0", p.ID-slPriceDisk
		case p.ID > slPricePort && p.ID < slPresetFirst:
			cat, s.PortSpeed = "port_speed", p.ID-slPricePort
		default:
			return s, slOrderErr(exItemInvalid, "Price #%d is not available in package %d for this order.", p.ID, slPackageID)
		}
		if seen[cat] {
			return s, slOrderErr(exItemInvalid, "The order has more than one price for category %s.", cat)
		}
		seen[cat] = true
	}
	required := []string{"port_speed"}
	if o.PresetID == 0 {
		required = append(required, "guest_core", "ram", "guest_disk0")
	}
	for _, cat := range required {
		if !seen[cat] {
			return s, slOrderErr(exItemInvalid, "The order is missing a price for category %s.", cat)
		}
	}
	if s.Flavor != "" {
		// slValidateSpec derives CPUs, memory and disk from the flavor.
		s.CPUs, s.MemoryMB, s.DiskGB = 0, 0, 25
	}
	return s, nil
}

func (c *Cloud) slGenerateOrderTemplate(call *slCall) (any, error) {
	var g slGuestTemplate
	if err := call.param(0, &g); err != nil {
		return nil, err
	}
	s := g.spec()
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.slValidateSpec(&s); err != nil {
		return nil, err
	}
	return s.orderContainer(false), nil
}

func (c *Cloud) verify(call *slCall) (slGuestSpec, error) {
	var o slOrder
	if err := call.param(0, &o); err != nil {
		return slGuestSpec{}, err
	}
	s, err := o.spec()
	if err != nil {
		return s, err
	}
	if err := c.slValidateSpec(&s); err != nil {
		return s, err
	}
	return s, nil
}

func (c *Cloud) slVerifyOrder(call *slCall) (any, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s, err := c.verify(call)
	if err != nil {
		return nil, err
	}
	return s.orderContainer(true), nil
}

func (c *Cloud) slPlaceOrder(call *slCall) (any, error) {
	var quote bool
	if err := call.param(1, &quote); err != nil {
		return nil, err
	}
	c.mu.Lock()
	s, err := c.verify(call)
	if err != nil {
		c.mu.Unlock()
		return nil, err
	}
	c.softlayer.nextOrderID++
	orderID := c.softlayer.nextOrderID
	now := time.Now()
	receipt := map[string]any{
		"orderId":      orderID,
		"orderDate":    slTime(now),
		"orderDetails": s.orderContainer(true),
	}
	if quote {
		receipt["quote"] = map[string]any{"id": orderID, "name": s.Hostname, "status": "SAVED"}
		c.mu.Unlock()
		return receipt, nil
	}
	g := c.slNewGuest(s, orderID)
	receipt["placedOrder"] = map[string]any{"id": orderID, "status": "APPROVED", "accountId": c.slAccountID(), "orderTypeId": 4}
	c.mu.Unlock()
	c.slRecordProvision(call, g)
	return receipt, nil
}

func (c *Cloud) slGuestCreateObject(call *slCall) (any, error) {
	var t slGuestTemplate
	if err := call.param(0, &t); err != nil {
		return nil, err
	}
	s := t.spec()
	c.mu.Lock()
	if err := c.slValidateSpec(&s); err != nil {
		c.mu.Unlock()
		return nil, err
	}
	c.softlayer.nextOrderID++
	g := c.slNewGuest(s, c.softlayer.nextOrderID)
	res := c.slRenderGuest(g, time.Now())
	c.mu.Unlock()
	c.slRecordProvision(call, g)
	return res, nil
}
