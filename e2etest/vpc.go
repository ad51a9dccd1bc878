package e2etest

// VPC custom images (/v1/images) as vpcv1 speaks them: import a qcow2 from
// Cloud Object Storage, optionally encrypted (qcow2+LUKS whose passphrase
// Key Protect wraps), get, list and delete. The import runs the checks IBM
// makes in the background and ends available or failed with status reasons.

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/e2eimage/e2e/internal/cosuri"
)

// How long a VPC image import takes on IBM Cloud, before TimeScale.
const vpcImportDuration = 10 * time.Minute

// The image statuses the emulator uses.
const (
	vpcPending   = "pending"
	vpcAvailable = "available"
	vpcFailed    = "failed"
)

// vpcState holds the region's images. Guarded by Cloud.mu.
type vpcState struct {
	images    []*vpcImage    // creation order
	instances []*vpcInstance // creation order; see vpc_instances.go
}

// vpcImage is an image as the emulator keeps it.
type vpcImage struct {
	id, crn, name   string
	status          string
	reasons         []VPCStatusReason
	fileHref        string
	osName          string
	keyCRN          string // empty: not encrypted
	created         time.Time
	resourceGroupID string
}

// VPCImage is a VPC custom image as tests see it.
type VPCImage struct {
	ID, CRN, Name string
	// Status is "pending", "available" or "failed".
	Status string
	// StatusReasons say why an import failed.
	StatusReasons []VPCStatusReason
	// FileHref is the cos:// object the image was imported from.
	FileHref string
	// OSName is the operating system name, e.g. "ubuntu-24-04-amd64".
	OSName string
	// Encryption is "user_managed" for an encrypted image, else "none".
	Encryption string
	// EncryptionKeyCRN is the root key of an encrypted image.
	EncryptionKeyCRN string
	CreatedAt        time.Time
}

// VPCStatusReason is one reason of an image status (code and message).
type VPCStatusReason struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// VPCImages returns the region's custom images, oldest first.
func (c *Cloud) VPCImages() []VPCImage {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]VPCImage, 0, len(c.vpc.images))
	for _, im := range c.vpc.images {
		enc := "none"
		if im.keyCRN != "" {
			enc = "user_managed"
		}
		out = append(out, VPCImage{ID: im.id, CRN: im.crn, Name: im.name, Status: im.status,
			StatusReasons: append([]VPCStatusReason(nil), im.reasons...), FileHref: im.fileHref, OSName: im.osName,
			Encryption: enc, EncryptionKeyCRN: im.keyCRN, CreatedAt: im.created})
	}
	return out
}

func (c *Cloud) vpcHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/images", c.vpcRoute("CreateImage", c.vpcCreateImage))
	mux.HandleFunc("GET /v1/images", c.vpcRoute("ListImages", c.vpcListImages))
	mux.HandleFunc("GET /v1/images/{id}", c.vpcRoute("GetImage", c.vpcGetImage))
	mux.HandleFunc("DELETE /v1/images/{id}", c.vpcRoute("DeleteImage", c.vpcDeleteImage))
	c.vpcInstanceRoutes(mux)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeVPCError(w, http.StatusNotFound, "not_found", "The requested resource was not found.")
	})
	return mux
}

var vpcVersionPattern = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)

// vpcRoute applies faults, checks the version and generation query
// parameters every VPC call carries, and authenticates the bearer token.
func (c *Cloud) vpcRoute(op string, h func(w http.ResponseWriter, r *http.Request, who Identity)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w, handled := c.applyFault(ServiceVPC, op, w, r, writeVPCError)
		if handled {
			return
		}
		q := r.URL.Query()
		if v := q.Get("version"); !vpcVersionPattern.MatchString(v) {
			writeVPCError(w, http.StatusBadRequest, "missing_version", "The version query parameter is required (YYYY-MM-DD).")
			return
		}
		if g := q.Get("generation"); g != "" && g != "2" {
			writeVPCError(w, http.StatusBadRequest, "bad_generation", "Only generation 2 is supported.")
			return
		}
		who, err := c.authenticate(r)
		if err != nil {
			code := "not_authorized"
			if errors.Is(err, errExpiredToken) {
				code = "token_expired"
			}
			writeVPCError(w, http.StatusUnauthorized, code, "Authorization failed: "+err.Error())
			return
		}
		if who.AccountID != c.AccountID {
			writeVPCError(w, http.StatusForbidden, "forbidden", "The caller has no access to this account.")
			return
		}
		h(w, r, who)
	}
}

// writeVPCError answers in the VPC API's error envelope.
func writeVPCError(w http.ResponseWriter, status int, code, msg string) {
	if code == "" {
		code = strings.ToLower(strings.ReplaceAll(http.StatusText(status), " ", "_"))
	}
	writeVPCJSON(w, status, map[string]any{
		"errors": []map[string]string{{"code": code, "message": msg,
			"more_info": "https://cloud.ibm.com/docs/vpc?topic=vpc-rias-error-messages#" + code}},
		"trace": newUUID(),
	})
}

func writeVPCJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Request-Id", newUUID())
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// vpcImagePrototype is ImagePrototypeImageByFile on the wire.
type vpcImagePrototype struct {
	Name string `json:"name"`
	File *struct {
		Href string `json:"href"`
	} `json:"file"`
	OperatingSystem *struct {
		Name string `json:"name"`
		Href string `json:"href"`
	} `json:"operating_system"`
	EncryptedDataKey string `json:"encrypted_data_key"`
	EncryptionKey    *struct {
		CRN string `json:"crn"`
	} `json:"encryption_key"`
	ResourceGroup *struct {
		ID string `json:"id"`
	} `json:"resource_group"`
	SourceVolume json.RawMessage `json:"source_volume"`
}

var (
	// vpcNamePattern is the VPC rule for resource names.
	vpcNamePattern = regexp.MustCompile(`^([a-z]|[a-z][-a-z0-9]*[a-z0-9])$`)
	vpcOSPattern   = regexp.MustCompile(`^[a-z][-a-z0-9]*-(amd64|s390x|arm64)$`)
)

// vpcReject records a refused create of a kind of resource ("image",
// "instance") in the audit trail and answers 4xx.
func (c *Cloud) vpcReject(w http.ResponseWriter, r *http.Request, who Identity, kind, name string, status int, code, msg string) {
	c.record(r, who, Event{
		Action: "is." + kind + "." + kind + ".create", Service: ServiceVPC, Outcome: "failure", Severity: "warning",
		Message: "Virtual Private Cloud: create " + kind + " " + name + " -failure: " + msg,
		Target: EventTarget{ID: "crn:v1:bluemix:public:is:" + c.Region + ":a/" + c.AccountID + "::" + kind + ":", Name: name,
			TypeURI: "is." + kind + "/" + kind},
		Reason: EventReason{ReasonCode: status},
	})
	writeVPCError(w, status, code, msg)
}

func (c *Cloud) vpcCreateImage(w http.ResponseWriter, r *http.Request, who Identity) {
	var p vpcImagePrototype
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&p); err != nil {
		c.vpcReject(w, r, who, "image", "", http.StatusBadRequest, "bad_request", "The request body is not a JSON image prototype: "+err.Error())
		return
	}
	bad := func(code, format string, args ...any) {
		c.vpcReject(w, r, who, "image", p.Name, http.StatusBadRequest, code, fmt.Sprintf(format, args...))
	}
	switch {
	case len(p.SourceVolume) > 0:
		bad("validation_unsupported", "Creating an image from a volume is not supported by the emulator.")
		return
	case p.File == nil || p.File.Href == "":
		bad("validation_required_field_missing", "file.href is required.")
		return
	case p.OperatingSystem == nil || p.OperatingSystem.Name == "":
		bad("validation_required_field_missing", "operating_system.name is required.")
		return
	case !vpcOSPattern.MatchString(p.OperatingSystem.Name):
		bad("validation_invalid_operating_system", "Operating system %q does not exist.", p.OperatingSystem.Name)
		return
	case p.Name != "" && (len(p.Name) > 63 || !vpcNamePattern.MatchString(p.Name)):
		bad("validation_invalid_name", "Image name %q is not valid: 1-63 lowercase letters, digits and dashes, starting with a letter.", p.Name)
		return
	case (p.EncryptedDataKey == "") != (p.EncryptionKey == nil || p.EncryptionKey.CRN == ""):
		bad("validation_encryption_fields", "encrypted_data_key and encryption_key must be given together.")
		return
	}
	u, err := cosuri.Parse(p.File.Href)
	if err != nil {
		bad("validation_invalid_file_href", "file.href %q is not cos://<region>/<bucket>/<object>.", p.File.Href)
		return
	}
	region, bucket, object := u.Region, u.Bucket, u.Object
	lower := strings.ToLower(object)
	if !strings.HasSuffix(lower, ".qcow2") && !strings.HasSuffix(lower, ".vhd") {
		bad("validation_invalid_file_format", "Image file %q must be a .qcow2 or .vhd file.", object)
		return
	}
	if p.EncryptedDataKey != "" {
		if _, _, _, err := slParseKeyCRN(p.EncryptionKey.CRN); err != nil {
			bad("validation_invalid_encryption_key", "encryption_key.crn: %v", err)
			return
		}
		if !strings.HasSuffix(lower, ".qcow2") {
			bad("validation_invalid_file_format", "An encrypted image must be a qcow2 file with LUKS encryption.")
			return
		}
	}
	im := &vpcImage{id: "r006-" + newUUID(), status: vpcPending, fileHref: p.File.Href, osName: p.OperatingSystem.Name,
		created: time.Now().UTC().Truncate(time.Second), resourceGroupID: c.AccountID}
	if p.EncryptionKey != nil {
		im.keyCRN = p.EncryptionKey.CRN
	}
	if p.ResourceGroup != nil && p.ResourceGroup.ID != "" {
		im.resourceGroupID = p.ResourceGroup.ID
	}
	im.crn = "crn:v1:bluemix:public:is:" + c.Region + ":a/" + c.AccountID + "::image:" + im.id
	c.mu.Lock()
	im.name = p.Name
	if im.name == "" {
		im.name = "image-" + strconv.Itoa(len(c.vpc.images)+1) + "-" + randomHex(4)
	}
	dup := slices.ContainsFunc(c.vpc.images, func(o *vpcImage) bool { return o.name == im.name })
	if !dup {
		c.vpc.images = append(c.vpc.images, im)
	}
	body := c.vpcRender(im)
	c.mu.Unlock()
	if dup {
		c.vpcReject(w, r, who, "image", p.Name, http.StatusConflict, "image_name_duplicate", fmt.Sprintf("An image named %q already exists in the region.", p.Name))
		return
	}

	deadline := time.Now().Add(c.scaled(vpcImportDuration))
	wdek := p.EncryptedDataKey
	c.bg.goFunc(func() { // Close waits for the checks
		reasons := c.vpcRunImportChecks(im, region, bucket, object, wdek)
		c.slAfter(time.Until(deadline), func() { c.vpcFinishImport(r, who, im, reasons) })
	})
	writeVPCJSON(w, http.StatusCreated, body)
}

// vpcRunImportChecks does what the Image Service for VPC checks while it
// imports; it returns the reasons the import fails, or nil.
//
// IBM's VPC docs require an authorization from the Image Service for VPC
// (source "is", resource type "image") to Cloud Object Storage with the
// Reader role, and for an encrypted image one from the same source to the
// key's Key Protect or HPCS instance, also Reader; the emulator checks both.
func (c *Cloud) vpcRunImportChecks(im *vpcImage, region, bucket, object, wdek string) []VPCStatusReason {
	if !c.vpcAuthorized("cloud-object-storage", c.COSInstanceID) {
		return vpcFailure("image_file_authorization_missing", "no IAM authorization lets the Image Service for VPC (is, resource type image) read Cloud Object Storage instance %s with the Reader role", c.COSInstanceID)
	}
	rd, size, bucketRegion, err := c.cosObject(bucket, object)
	if err != nil {
		return vpcFailure("image_file_not_found", "%s could not be read: %v", im.fileHref, err)
	}
	if bucketRegion != "" && bucketRegion != region {
		return vpcFailure("image_file_region_mismatch", "bucket %s is in region %s, not %s as file.href says", bucket, bucketRegion, region)
	}
	if size == 0 {
		return vpcFailure("image_data_corrupted", "%s is empty", im.fileHref)
	}
	if size > 250<<30 {
		return vpcFailure("image_provisioned_size_unsupported", "the image file is %d bytes; images are limited to 250 GB", size)
	}
	if im.keyCRN == "" {
		if err := openPlainImage(rd, size); err != nil {
			return vpcFailure("image_data_corrupted", "the image file does not open as an unencrypted image: %v", err)
		}
		return nil
	}
	service, _, instance, _ := slParseKeyCRN(im.keyCRN)
	if !c.vpcAuthorized(service, instance) {
		return vpcFailure("encryption_key_authorization_missing", "no IAM authorization lets the Image Service for VPC (is, resource type image) use %s instance %s with the Reader role", service, instance)
	}
	if msg := c.vpcRootKeyProblem(im.keyCRN); msg != "" {
		return vpcFailure("encryption_key_not_usable", "%s", msg)
	}
	dek, err := c.unwrapWDEK("is", im.keyCRN, []byte(wdek))
	if err != nil {
		return vpcFailure("encrypted_data_key_invalid", "the encrypted data key could not be unwrapped with root key %s: %v", im.keyCRN, err)
	}
	defer clear(dek)
	if err := openQCOW2LUKSImage(rd, size, dek); err != nil {
		return vpcFailure("image_data_corrupted", "the image file does not open as qcow2+LUKS with the unwrapped passphrase: %v", err)
	}
	return nil
}

// vpcFailure is the one status reason of a failed import or boot.
func vpcFailure(code, format string, args ...any) []VPCStatusReason {
	return []VPCStatusReason{{Code: code, Message: fmt.Sprintf(format, args...)}}
}

// vpcRootKeyProblem says why a key cannot protect a new image ("" when it
// can): it must exist, be a root key, and be active.
func (c *Cloud) vpcRootKeyProblem(crn string) string {
	p := strings.Split(crn, ":")
	if p[6] != "a/"+c.AccountID {
		return "root key " + crn + " belongs to another account"
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	k := c.lookupKey(p[7], p[9])
	switch {
	case k == nil || k.crn != crn:
		return "root key " + crn + " does not exist"
	case k.extractable:
		return "key " + crn + " is a standard key, not a root key"
	case k.state != KeyActive:
		return "root key " + crn + " is " + keyStateName(k.state) + "; an encrypted image needs an active key"
	}
	return ""
}

// vpcAuthorized reports whether an authorization policy lets the Image
// Service for VPC (serviceName "is", resourceType "image" or unset) use an
// instance of target with the Reader role. The instance may be named by
// its GUID or its CRN, as the COS instance often is.
func (c *Cloud) vpcAuthorized(target, instance string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, p := range c.policies.policies {
		if p.Type != "authorization" || len(p.Subjects) == 0 {
			continue
		}
		sub := p.Subjects[0].Attributes
		if attr(sub, "serviceName") != "is" {
			continue
		}
		if rt := attr(sub, "resourceType"); rt != "" && rt != "image" {
			continue
		}
		if acct := attr(sub, "accountId"); acct != "" && acct != c.AccountID {
			continue
		}
		if !slices.ContainsFunc(p.Roles, func(r iamRole) bool { return roleGrants(roleName(r.RoleID), "Reader") }) {
			continue
		}
		for _, res := range p.Resources {
			a := res.Attributes
			if attr(a, "serviceName") != target {
				continue
			}
			if acct := attr(a, "accountId"); acct != "" && acct != c.AccountID {
				continue
			}
			got := attr(a, "serviceInstance")
			if got == "" || got == instance || strings.Contains(instance, ":"+got+":") || strings.Contains(got, ":"+instance+":") {
				return true
			}
		}
	}
	return false
}

func (c *Cloud) vpcFinishImport(r *http.Request, who Identity, im *vpcImage, reasons []VPCStatusReason) {
	c.mu.Lock()
	if !slices.Contains(c.vpc.images, im) { // deleted while importing
		c.mu.Unlock()
		return
	}
	if reasons == nil {
		im.status = vpcAvailable
	} else {
		im.status, im.reasons = vpcFailed, reasons
	}
	c.mu.Unlock()
	ev := Event{
		Action: "is.image.image.create", Service: ServiceVPC,
		Message: "Virtual Private Cloud: create image " + im.name,
		Target:  EventTarget{ID: im.crn, Name: im.name, TypeURI: "is.image/image"},
	}
	if reasons != nil {
		ev.Outcome, ev.Severity = "failure", "warning"
		ev.Reason.ReasonCode = http.StatusBadRequest
		ev.Message += " -failure: " + reasons[0].Code + ": " + reasons[0].Message
	}
	c.record(r, who, ev)
}

func (c *Cloud) vpcFind(id string) *vpcImage {
	for _, im := range c.vpc.images {
		if im.id == id {
			return im
		}
	}
	return nil
}

func (c *Cloud) vpcGetImage(w http.ResponseWriter, r *http.Request, who Identity) {
	vpcGet(c, w, r.PathValue("id"), c.vpcFind, c.vpcRender, "image_not_found", "Image")
}

// vpcGet answers a GET of one resource: find and render it under c.mu, or
// answer 404 with code ("image_not_found") naming the noun ("Image").
func vpcGet[T any](c *Cloud, w http.ResponseWriter, id string, find func(string) *T, render func(*T) map[string]any, code, noun string) {
	c.mu.Lock()
	var body map[string]any
	if x := find(id); x != nil {
		body = render(x)
	}
	c.mu.Unlock()
	if body == nil {
		writeVPCError(w, http.StatusNotFound, code, noun+" not found: "+id)
		return
	}
	writeVPCJSON(w, http.StatusOK, body)
}

func (c *Cloud) vpcDeleteImage(w http.ResponseWriter, r *http.Request, who Identity) {
	id := r.PathValue("id")
	c.mu.Lock()
	im := c.vpcFind(id)
	if im != nil {
		c.vpc.images = slices.DeleteFunc(c.vpc.images, func(o *vpcImage) bool { return o == im })
	}
	c.mu.Unlock()
	if im == nil {
		writeVPCError(w, http.StatusNotFound, "image_not_found", "Image not found: "+id)
		return
	}
	c.record(r, who, Event{
		Action: "is.image.image.delete", Service: ServiceVPC,
		Message: "Virtual Private Cloud: delete image " + im.name,
		Target:  EventTarget{ID: im.crn, Name: im.name, TypeURI: "is.image/image"},
		Reason:  EventReason{ReasonCode: http.StatusAccepted},
	})
	w.WriteHeader(http.StatusAccepted)
}

func (c *Cloud) vpcListImages(w http.ResponseWriter, r *http.Request, who Identity) {
	q := r.URL.Query()
	limit, start, ok := vpcPageParams(w, q)
	if !ok {
		return
	}
	var statuses []string
	if s := q.Get("status"); s != "" {
		statuses = strings.Split(s, ",")
	}
	c.mu.Lock()
	var match []map[string]any
	for _, im := range c.vpc.images {
		if n := q.Get("name"); n != "" && im.name != n {
			continue
		}
		if statuses != nil && !slices.Contains(statuses, im.status) {
			continue
		}
		if v := q.Get("visibility"); v != "" && v != "private" {
			continue
		}
		match = append(match, c.vpcRender(im))
	}
	c.mu.Unlock()
	writeVPCPage(w, c.VPCURL+"/images", "images", limit, start, match)
}

// vpcPageParams reads the limit (1 to 100, default 50) and start token of
// a VPC collection request; it answers 400 and reports false when one is bad.
func vpcPageParams(w http.ResponseWriter, q url.Values) (limit, start int, ok bool) {
	limit = 50
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 100 {
			writeVPCError(w, http.StatusBadRequest, "validation_invalid_limit", "limit must be 1 to 100.")
			return 0, 0, false
		}
		limit = n
	}
	if s := q.Get("start"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			writeVPCError(w, http.StatusBadRequest, "validation_invalid_start", "start is not a page token of this collection.")
			return 0, 0, false
		}
		start = n
	}
	return limit, start, true
}

// writeVPCPage answers one page of a VPC collection at href: its items
// under key, first, limit, total_count and a next link when more follow.
func writeVPCPage(w http.ResponseWriter, href, key string, limit, start int, match []map[string]any) {
	base := href + "?limit=" + strconv.Itoa(limit)
	page := []map[string]any{}
	if start < len(match) {
		page = match[start:min(start+limit, len(match))]
	}
	body := map[string]any{"first": map[string]string{"href": base}, "limit": limit, "total_count": len(match), key: page}
	if start+limit < len(match) {
		body["next"] = map[string]string{"href": base + "&start=" + strconv.Itoa(start+limit)}
	}
	writeVPCJSON(w, http.StatusOK, body)
}

// vpcRender is an image as the VPC API returns it. Called with c.mu held.
func (c *Cloud) vpcRender(im *vpcImage) map[string]any {
	reasons := []VPCStatusReason{}
	reasons = append(reasons, im.reasons...)
	zones := []map[string]string{}
	if im.status == vpcAvailable {
		for i := 1; i <= 3; i++ {
			z := c.Region + "-" + strconv.Itoa(i)
			zones = append(zones, map[string]string{"name": z, "href": c.VPCURL + "/regions/" + c.Region + "/zones/" + z})
		}
	}
	os := vpcOperatingSystem(c.VPCURL, im.osName)
	m := map[string]any{
		"id": im.id, "crn": im.crn, "href": c.VPCURL + "/images/" + im.id, "name": im.name,
		"created_at": im.created.Format(time.RFC3339), "status": im.status, "status_reasons": reasons,
		"visibility": "private", "resource_type": "image", "encryption": "none",
		"file":             map[string]any{},
		"operating_system": os, "user_data_format": os["user_data_format"],
		"catalog_offering": map[string]any{"managed": false},
		"allowed_use":      map[string]any{"api_version": "2026-06-23", "bare_metal_server": "true", "instance": "true"},
		"resource_group": map[string]any{"id": im.resourceGroupID, "name": "Default",
			"href": "https://resource-controller.cloud.ibm.com/v2/resource_groups/" + im.resourceGroupID},
		"zones": zones,
	}
	if im.keyCRN != "" {
		m["encryption"] = "user_managed"
		m["encryption_key"] = map[string]string{"crn": im.keyCRN}
	}
	if im.status == vpcAvailable {
		m["minimum_provisioned_size"] = 10
	}
	return m
}

// vpcOperatingSystem describes an operating system by its name, e.g.
// "ubuntu-24-04-amd64".
func vpcOperatingSystem(base, name string) map[string]any {
	arch := name[strings.LastIndexByte(name, '-')+1:]
	family := strings.SplitN(name, "-", 2)[0]
	version := strings.TrimSuffix(strings.TrimPrefix(name, family+"-"), "-"+arch)
	format := "cloud_init"
	if family == "esxi" {
		format = "esxi_kickstart"
	}
	return map[string]any{
		"name": name, "href": base + "/operating_systems/" + name, "architecture": arch, "family": family,
		"display_name": family + " " + strings.ReplaceAll(version, "-", ".") + " (" + arch + ")",
		"vendor":       family, "version": strings.ReplaceAll(version, "-", "."), "dedicated_host_only": false,
		"allow_user_image_creation": true, "user_data_format": format,
	}
}
