package e2etest

// VPC virtual server instances (/v1/instances) as vpcv1 speaks them:
// create from a custom image, get, list (name filter) and delete. An
// instance goes pending → starting → running on the emulator's clock; its
// boot volume is created at the first step, where the cloud's checks run:
// for an encrypted image (or a boot volume key given in the request) Cloud
// Block Storage (server-protect) must be authorized to use the key's KMS
// instance with the Reader role, and the image's and the volume's root keys
// must be active. Otherwise the instance ends failed with a status reason,
// as on IBM Cloud. Every account has one VPC with a subnet per zone
// (VPCNetwork); there are no VPC SSH keys to check, so key IDs are taken as given.

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// How long IBM Cloud takes to create an instance's boot volume (pending),
// to boot it (starting) and to delete it, before TimeScale.
const (
	vpcInstancePendingDuration  = 40 * time.Second
	vpcInstanceStartingDuration = 60 * time.Second
	vpcInstanceDeleteDuration   = 30 * time.Second
)

// The instance statuses the emulator uses.
const (
	vpcInstancePending  = "pending"
	vpcInstanceStarting = "starting"
	vpcInstanceRunning  = "running"
	vpcInstanceFailed   = "failed"
	vpcInstanceDeleting = "deleting"
)

// vpcInstance is an instance as the emulator keeps it. Guarded by Cloud.mu.
type vpcInstance struct {
	id, crn, name   string
	status          string
	reasons         []VPCStatusReason
	imageID         string
	imageKeyCRN     string // the image's root key, "" for an unencrypted image
	volumeKeyCRN    string // the boot volume's root key, "" when provider managed
	profile         string
	vcpus, memoryGB int
	zone            string
	vpcID, subnetID string
	primaryIP       string
	keyIDs          []string
	userData        string
	resourceGroupID string
	bootVolumeID    string
	created         time.Time
}

// VPCInstance is a VPC virtual server instance as tests see it.
type VPCInstance struct {
	ID, CRN, Name string
	// Status is "pending", "starting", "running", "failed" or "deleting".
	Status string
	// StatusReasons say why an instance failed.
	StatusReasons []VPCStatusReason
	ImageID       string
	// BootVolumeEncryptionKeyCRN is the root key of the boot volume ("" when
	// IBM manages its key): the request's, else the image's.
	BootVolumeEncryptionKeyCRN string
	Profile                    string
	Zone                       string
	VPCID, SubnetID            string
	PrimaryIP                  string
	KeyIDs                     []string
	UserData                   string
	ResourceGroupID            string
	CreatedAt                  time.Time
}

// VPCNetwork is the VPC every emulated account has, with one subnet in
// each zone of the region.
type VPCNetwork struct {
	VPCID, VPCCRN string
	// Subnets maps a zone name (e.g. "us-south-1") to its subnet ID.
	Subnets map[string]string
}

// VPCNetwork returns the account's VPC and subnets. Their IDs derive from
// the account, so they are the same on every call.
func (c *Cloud) VPCNetwork() VPCNetwork {
	n := VPCNetwork{VPCID: "r006-" + c.vpcDerivedUUID("vpc"), Subnets: map[string]string{}}
	n.VPCCRN = "crn:v1:bluemix:public:is:" + c.Region + ":a/" + c.AccountID + "::vpc:" + n.VPCID
	for i, z := range c.vpcZones() {
		n.Subnets[z] = fmt.Sprintf("07%d7-", i+1) + c.vpcDerivedUUID("subnet-"+z)
	}
	return n
}

func (c *Cloud) vpcZones() []string {
	return []string{c.Region + "-1", c.Region + "-2", c.Region + "-3"}
}

// vpcDerivedUUID is a UUID-shaped hash of the account and label.
func (c *Cloud) vpcDerivedUUID(label string) string {
	sum := sha256.Sum256([]byte(c.AccountID + "/" + label))
	h := hex.EncodeToString(sum[:16])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// VPCInstances returns the account's instances, oldest first.
func (c *Cloud) VPCInstances() []VPCInstance {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]VPCInstance, 0, len(c.vpc.instances))
	for _, in := range c.vpc.instances {
		out = append(out, VPCInstance{ID: in.id, CRN: in.crn, Name: in.name, Status: in.status,
			StatusReasons: append([]VPCStatusReason(nil), in.reasons...), ImageID: in.imageID,
			BootVolumeEncryptionKeyCRN: in.volumeKeyCRN, Profile: in.profile, Zone: in.zone, VPCID: in.vpcID,
			SubnetID: in.subnetID, PrimaryIP: in.primaryIP, KeyIDs: append([]string(nil), in.keyIDs...),
			UserData: in.userData, ResourceGroupID: in.resourceGroupID, CreatedAt: in.created})
	}
	return out
}

// vpcInstanceRoutes registers /v1/instances on mux. Fault operations are
// "CreateInstance", "ListInstances", "GetInstance" and "DeleteInstance".
func (c *Cloud) vpcInstanceRoutes(mux *http.ServeMux) {
	mux.HandleFunc("POST /v1/instances", c.vpcRoute("CreateInstance", c.vpcCreateInstance))
	mux.HandleFunc("GET /v1/instances", c.vpcRoute("ListInstances", c.vpcListInstances))
	mux.HandleFunc("GET /v1/instances/{id}", c.vpcRoute("GetInstance", c.vpcGetInstance))
	mux.HandleFunc("DELETE /v1/instances/{id}", c.vpcRoute("DeleteInstance", c.vpcDeleteInstance))
}

// vpcIdentity is a reference by id, name or crn, as every VPC identity is.
type vpcIdentity struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	CRN  string `json:"crn"`
	Href string `json:"href"`
}

// vpcInstancePrototype is InstancePrototypeInstanceByImage on the wire.
type vpcInstancePrototype struct {
	Name                    string        `json:"name"`
	Profile                 *vpcIdentity  `json:"profile"`
	Zone                    *vpcIdentity  `json:"zone"`
	VPC                     *vpcIdentity  `json:"vpc"`
	Image                   *vpcIdentity  `json:"image"`
	Keys                    []vpcIdentity `json:"keys"`
	ResourceGroup           *vpcIdentity  `json:"resource_group"`
	UserData                *string       `json:"user_data"`
	PrimaryNetworkInterface *struct {
		Name   string       `json:"name"`
		Subnet *vpcIdentity `json:"subnet"`
	} `json:"primary_network_interface"`
	PrimaryNetworkAttachment json.RawMessage `json:"primary_network_attachment"`
	SourceTemplate           json.RawMessage `json:"source_template"`
	BootVolumeAttachment     *struct {
		Volume *struct {
			Name          string       `json:"name"`
			Profile       *vpcIdentity `json:"profile"`
			EncryptionKey *vpcIdentity `json:"encryption_key"`
		} `json:"volume"`
	} `json:"boot_volume_attachment"`
}

// vpcProfilePattern is an instance profile name: family-<vCPUs>x<GiB>.
var vpcProfilePattern = regexp.MustCompile(`^[a-z]+[0-9]+[a-z]*-([0-9]{1,3})x([0-9]{1,4})(x[0-9a-z]+)?$`)

func (c *Cloud) vpcCreateInstance(w http.ResponseWriter, r *http.Request, who Identity) {
	var p vpcInstancePrototype
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&p); err != nil {
		c.vpcReject(w, r, who, "instance", "", http.StatusBadRequest, "bad_request", "The request body is not a JSON instance prototype: "+err.Error())
		return
	}
	bad := func(code, format string, args ...any) {
		c.vpcReject(w, r, who, "instance", p.Name, http.StatusBadRequest, code, fmt.Sprintf(format, args...))
	}
	net := c.VPCNetwork()
	switch {
	case len(p.SourceTemplate) > 0 || len(p.PrimaryNetworkAttachment) > 0:
		bad("validation_unsupported", "The emulator creates instances from an image with a primary_network_interface only.")
		return
	case p.Name != "" && (len(p.Name) > 63 || !vpcNamePattern.MatchString(p.Name)):
		bad("validation_invalid_name", "Instance name %q is not valid: 1-63 lowercase letters, digits and dashes, starting with a letter.", p.Name)
		return
	case p.Image == nil || p.Image.ID == "":
		bad("validation_required_field_missing", "image.id is required.")
		return
	case p.Zone == nil || p.Zone.Name == "":
		bad("validation_required_field_missing", "zone.name is required.")
		return
	case !slices.Contains(c.vpcZones(), p.Zone.Name):
		bad("validation_invalid_zone", "Zone %q is not a zone of region %s.", p.Zone.Name, c.Region)
		return
	case p.Profile == nil || p.Profile.Name == "":
		bad("validation_required_field_missing", "profile.name is required.")
		return
	case !vpcProfilePattern.MatchString(p.Profile.Name):
		bad("instance_profile_not_found", "Instance profile %q does not exist.", p.Profile.Name)
		return
	case p.PrimaryNetworkInterface == nil || p.PrimaryNetworkInterface.Subnet == nil || p.PrimaryNetworkInterface.Subnet.ID == "":
		bad("validation_required_field_missing", "primary_network_interface.subnet.id is required.")
		return
	case net.Subnets[p.Zone.Name] != p.PrimaryNetworkInterface.Subnet.ID:
		bad("subnet_not_found", "Subnet %q does not exist in zone %s.", p.PrimaryNetworkInterface.Subnet.ID, p.Zone.Name)
		return
	case p.VPC != nil && p.VPC.ID != "" && p.VPC.ID != net.VPCID:
		bad("vpc_not_found", "VPC %q does not exist.", p.VPC.ID)
		return
	case p.UserData != nil && len(*p.UserData) > 64<<10:
		bad("validation_user_data_too_large", "user_data is larger than 64 KiB.")
		return
	}
	for _, k := range p.Keys {
		if k.ID == "" {
			bad("validation_invalid_key", "Every key must be given by id.")
			return
		}
	}
	volumeKey := ""
	if bv := p.BootVolumeAttachment; bv != nil {
		if bv.Volume == nil || bv.Volume.Profile == nil || bv.Volume.Profile.Name == "" {
			bad("validation_required_field_missing", "boot_volume_attachment.volume.profile.name is required.")
			return
		}
		if k := bv.Volume.EncryptionKey; k != nil {
			if _, _, _, err := slParseKeyCRN(k.CRN); err != nil {
				bad("validation_invalid_encryption_key", "boot_volume_attachment.volume.encryption_key.crn: %v", err)
				return
			}
			volumeKey = k.CRN
		}
	}
	m := vpcProfilePattern.FindStringSubmatch(p.Profile.Name)
	vcpus, _ := strconv.Atoi(m[1])
	mem, _ := strconv.Atoi(m[2])
	zoneNum := p.Zone.Name[len(p.Zone.Name)-1:]
	in := &vpcInstance{id: "07" + zoneNum + "7_" + newUUID(), status: vpcInstancePending, imageID: p.Image.ID,
		profile: p.Profile.Name, vcpus: vcpus, memoryGB: mem, zone: p.Zone.Name, vpcID: net.VPCID,
		subnetID: p.PrimaryNetworkInterface.Subnet.ID, resourceGroupID: c.AccountID, bootVolumeID: "r006-" + newUUID(),
		created: time.Now().UTC().Truncate(time.Second)}
	in.crn = "crn:v1:bluemix:public:is:" + in.zone + ":a/" + c.AccountID + "::instance:" + in.id
	for _, k := range p.Keys {
		in.keyIDs = append(in.keyIDs, k.ID)
	}
	if p.UserData != nil {
		in.userData = *p.UserData
	}
	if p.ResourceGroup != nil && p.ResourceGroup.ID != "" {
		in.resourceGroupID = p.ResourceGroup.ID
	}

	c.mu.Lock()
	var status int
	var code, msg string
	im := c.vpcFind(in.imageID)
	switch {
	case im == nil:
		status, code, msg = http.StatusBadRequest, "image_not_found", "Image "+in.imageID+" does not exist."
	case im.status != vpcAvailable:
		status, code, msg = http.StatusBadRequest, "image_not_available", "Image "+im.name+" is "+im.status+"; instances need an available image."
	}
	if p.Name == "" {
		p.Name = "instance-" + strconv.Itoa(len(c.vpc.instances)+1) + "-" + randomHex(4)
	}
	in.name = p.Name
	if status == 0 && slices.ContainsFunc(c.vpc.instances, func(o *vpcInstance) bool { return o.name == in.name }) {
		status, code, msg = http.StatusConflict, "instance_name_duplicate", fmt.Sprintf("An instance named %q already exists in the region.", in.name)
	}
	var body map[string]any
	if status == 0 {
		in.imageKeyCRN = im.keyCRN
		in.volumeKeyCRN = volumeKey
		if in.volumeKeyCRN == "" {
			in.volumeKeyCRN = im.keyCRN // IBM encrypts the boot volume with the image's key
		}
		n := len(c.vpc.instances) + 4
		in.primaryIP = fmt.Sprintf("10.240.%s.%d", zoneNum, n%250+4)
		c.vpc.instances = append(c.vpc.instances, in)
		body = c.vpcRenderInstance(in)
	}
	c.mu.Unlock()
	if status != 0 {
		c.vpcReject(w, r, who, "instance", in.name, status, code, msg)
		return
	}
	c.record(r, who, Event{
		Action: "is.instance.instance.create", Service: ServiceVPC,
		Message: "Virtual Private Cloud: create instance " + in.name,
		Target:  EventTarget{ID: in.crn, Name: in.name, TypeURI: "is.instance/instance"},
		Reason:  EventReason{ReasonCode: http.StatusCreated},
		RequestData: map[string]any{"image": in.imageID, "profile": in.profile, "zone": in.zone,
			"boot_volume_encryption_key": in.volumeKeyCRN},
	})
	// Either timer may run first (a process starved of CPU starts expired
	// timers in any order), so each does everything due by its time.
	c.slAfter(c.scaled(vpcInstancePendingDuration), func() { c.vpcAdvanceInstance(in, false) })
	c.slAfter(c.scaled(vpcInstancePendingDuration+vpcInstanceStartingDuration), func() { c.vpcAdvanceInstance(in, true) })
	writeVPCJSON(w, http.StatusCreated, body)
}

// vpcAdvanceInstance moves a pending instance to starting, or failed when
// its boot volume cannot be created; with boot it moves it on to running.
func (c *Cloud) vpcAdvanceInstance(in *vpcInstance, boot bool) {
	c.mu.Lock()
	pending := in.status == vpcInstancePending && slices.Contains(c.vpc.instances, in)
	c.mu.Unlock()
	var reasons []VPCStatusReason
	if pending {
		reasons = c.vpcBootVolumeProblems(in) // takes c.mu itself
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !slices.Contains(c.vpc.instances, in) {
		return // deleted meanwhile
	}
	if pending && in.status == vpcInstancePending {
		if reasons != nil {
			in.status, in.reasons = vpcInstanceFailed, reasons
			return
		}
		in.status = vpcInstanceStarting
	}
	if boot && in.status == vpcInstanceStarting {
		in.status = vpcInstanceRunning
	}
}

// vpcBootVolumeProblems runs the checks of creating an encrypted boot
// volume: the image's key must still be usable to unwrap the image's data
// key, and server-protect must be allowed to use the volume's key, which
// must be active.
func (c *Cloud) vpcBootVolumeProblems(in *vpcInstance) []VPCStatusReason {
	keyProblem := func(crn string) []VPCStatusReason {
		if msg := c.vpcRootKeyProblem(crn); msg != "" {
			code := "cannot_start_storage"
			if strings.Contains(msg, "does not exist") || strings.HasSuffix(msg, " is destroyed; an encrypted image needs an active key") {
				code = "encryption_key_deleted"
			}
			return vpcFailure(code, "the boot volume cannot be created: %s", msg)
		}
		return nil
	}
	if in.volumeKeyCRN == "" {
		return nil
	}
	service, _, instance, _ := slParseKeyCRN(in.volumeKeyCRN)
	if !c.hasAuthorization("server-protect", service, instance) {
		return vpcFailure("cannot_start_storage", "the boot volume cannot be created: no IAM authorization lets Cloud Block Storage (server-protect) use %s instance %s with the Reader role", service, instance)
	}
	if in.imageKeyCRN != "" {
		if r := keyProblem(in.imageKeyCRN); r != nil {
			return r
		}
	}
	if in.volumeKeyCRN != in.imageKeyCRN {
		return keyProblem(in.volumeKeyCRN)
	}
	return nil
}

func (c *Cloud) vpcFindInstance(id string) *vpcInstance {
	for _, in := range c.vpc.instances {
		if in.id == id {
			return in
		}
	}
	return nil
}

func (c *Cloud) vpcGetInstance(w http.ResponseWriter, r *http.Request, who Identity) {
	vpcGet(c, w, r.PathValue("id"), c.vpcFindInstance, c.vpcRenderInstance, "instance_not_found", "Instance")
}

// vpcDeleteInstance starts deleting an instance: it shows as deleting for
// a while, then is gone.
func (c *Cloud) vpcDeleteInstance(w http.ResponseWriter, r *http.Request, who Identity) {
	id := r.PathValue("id")
	c.mu.Lock()
	in := c.vpcFindInstance(id)
	first := in != nil && in.status != vpcInstanceDeleting
	if first {
		in.status, in.reasons = vpcInstanceDeleting, nil
	}
	c.mu.Unlock()
	if in == nil {
		writeVPCError(w, http.StatusNotFound, "instance_not_found", "Instance not found: "+id)
		return
	}
	if first {
		c.record(r, who, Event{
			Action: "is.instance.instance.delete", Service: ServiceVPC,
			Message: "Virtual Private Cloud: delete instance " + in.name,
			Target:  EventTarget{ID: in.crn, Name: in.name, TypeURI: "is.instance/instance"},
			Reason:  EventReason{ReasonCode: http.StatusNoContent},
		})
		c.slAfter(c.scaled(vpcInstanceDeleteDuration), func() {
			c.mu.Lock()
			defer c.mu.Unlock()
			c.vpc.instances = slices.DeleteFunc(c.vpc.instances, func(o *vpcInstance) bool { return o == in })
		})
	}
	w.WriteHeader(http.StatusNoContent)
}

func (c *Cloud) vpcListInstances(w http.ResponseWriter, r *http.Request, who Identity) {
	q := r.URL.Query()
	limit, start, ok := vpcPageParams(w, q)
	if !ok {
		return
	}
	c.mu.Lock()
	var match []map[string]any
	for _, in := range c.vpc.instances {
		if n := q.Get("name"); n != "" && in.name != n {
			continue
		}
		if v := q.Get("vpc.id"); v != "" && in.vpcID != v {
			continue
		}
		if g := q.Get("resource_group.id"); g != "" && in.resourceGroupID != g {
			continue
		}
		match = append(match, c.vpcRenderInstance(in))
	}
	c.mu.Unlock()
	writeVPCPage(w, c.VPCURL+"/instances", "instances", limit, start, match)
}

// vpcRenderInstance is an instance as the VPC API returns it. Called with c.mu held.
func (c *Cloud) vpcRenderInstance(in *vpcInstance) map[string]any {
	base := c.VPCURL
	reasons := []map[string]string{}
	for _, r := range in.reasons {
		reasons = append(reasons, map[string]string{"code": r.Code, "message": r.Message,
			"more_info": "https://cloud.ibm.com/docs/vpc?topic=vpc-instance-status-messages#" + r.Code})
	}
	ref := func(kind, id, name string) map[string]any {
		return map[string]any{"id": id, "name": name, "href": base + "/" + kind + "s/" + id, "resource_type": kind,
			"crn": "crn:v1:bluemix:public:is:" + in.zone + ":a/" + c.AccountID + "::" + kind + ":" + id}
	}
	volume := ref("volume", in.bootVolumeID, in.name+"-boot")
	bootAttachment := map[string]any{
		"id": in.bootVolumeID + "-attachment", "name": in.name + "-boot-attachment",
		"href":   base + "/instances/" + in.id + "/volume_attachments/" + in.bootVolumeID + "-attachment",
		"device": map[string]string{"id": in.bootVolumeID + "-device"}, "volume": volume,
	}
	subnet := ref("subnet", in.subnetID, "subnet-"+in.zone)
	nic := map[string]any{
		"id": in.id + "-nic", "name": "eth0", "href": base + "/instances/" + in.id + "/network_interfaces/" + in.id + "-nic",
		"resource_type": "network_interface", "subnet": subnet,
		"primary_ip": map[string]any{"address": in.primaryIP, "id": in.id + "-ip", "name": in.name + "-ip",
			"href": base + "/subnets/" + in.subnetID + "/reserved_ips/" + in.id + "-ip", "resource_type": "subnet_reserved_ip"},
	}
	image := map[string]any{"id": in.imageID, "href": base + "/images/" + in.imageID, "resource_type": "image",
		"crn": "crn:v1:bluemix:public:is:" + c.Region + ":a/" + c.AccountID + "::image:" + in.imageID}
	if im := c.vpcFind(in.imageID); im != nil {
		image["name"], image["crn"] = im.name, im.crn
	}
	health, lifecycle := "ok", "stable"
	switch in.status {
	case vpcInstancePending, vpcInstanceStarting:
		health, lifecycle = "inapplicable", "pending"
	case vpcInstanceFailed:
		health, lifecycle = "faulted", "failed"
	case vpcInstanceDeleting:
		health, lifecycle = "inapplicable", "deleting"
	}
	vpc := ref("vpc", in.vpcID, "default-vpc")
	vpc["crn"] = "crn:v1:bluemix:public:is:" + c.Region + ":a/" + c.AccountID + "::vpc:" + in.vpcID
	return map[string]any{
		"id": in.id, "crn": in.crn, "href": base + "/instances/" + in.id, "name": in.name,
		"created_at": in.created.Format(time.RFC3339), "status": in.status, "status_reasons": reasons,
		"resource_type": "instance", "startable": true, "lifecycle_state": lifecycle, "lifecycle_reasons": []any{},
		"health_state": health, "health_reasons": []any{},
		"availability":        map[string]any{"class": "standard"},
		"availability_policy": map[string]any{"host_failure": "restart", "preemption": "stop"},
		"bandwidth":           in.vcpus * 2000, "total_network_bandwidth": in.vcpus * 1500, "total_volume_bandwidth": in.vcpus * 500,
		"memory": in.memoryGB, "vcpu": map[string]any{"architecture": "amd64", "count": in.vcpus, "manufacturer": "intel"},
		"threads_per_core": 2, "confidential_compute_mode": "disabled", "enable_secure_boot": false,
		"profile":                     map[string]any{"name": in.profile, "href": base + "/instance/profiles/" + in.profile, "resource_type": "instance_profile"},
		"image":                       image,
		"boot_volume_attachment":      bootAttachment,
		"volume_attachments":          []any{bootAttachment},
		"volume_bandwidth_qos_mode":   "pooled",
		"primary_network_interface":   nic,
		"network_interfaces":          []any{nic},
		"network_attachments":         []any{},
		"cluster_network_attachments": []any{},
		"disks":                       []any{},
		"software_attachments":        []any{},
		"metadata_service":            map[string]any{"enabled": false, "protocol": "http", "response_hop_limit": 1},
		"reservation_affinity":        map[string]any{"policy": "disabled", "pool": []any{}},
		"resource_group": map[string]any{"id": in.resourceGroupID, "name": "Default",
			"href": "https://resource-controller.cloud.ibm.com/v2/resource_groups/" + in.resourceGroupID},
		"vpc":  vpc,
		"zone": map[string]any{"name": in.zone, "href": base + "/regions/" + c.Region + "/zones/" + in.zone},
	}
}
