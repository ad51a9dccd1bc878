package e2etest

// SoftLayer_Virtual_Guest_Block_Device_Template_Group: image templates,
// imports from Cloud Object Storage (createFromIcos with the checks IBM makes
// before an encrypted image becomes usable) and exports.

import (
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/e2eimage/e2e/internal/cosuri"
)

// Template group status key names.
const (
	slTemplateActive  = "ACTIVE"
	slTemplatePending = "CREATE_PENDING"
	slTemplateError   = "ERROR"
)

// How long IBM Cloud takes, before TimeScale.
const (
	slImportDuration    = 10 * time.Minute
	slExportDuration    = 5 * time.Minute
	slArchiveDuration   = 5 * time.Minute
	slProvisionDuration = 5 * time.Minute
)

var slImportSteps = []string{"CLOUD_IMAGE_IMPORT_DOWNLOAD", "CLOUD_IMAGE_IMPORT_VALIDATE", "CLOUD_IMAGE_IMPORT_CONVERT", "CLOUD_IMAGE_IMPORT_COMPLETE"}

// slTemplate is an image template group (a parent) or its per-datacenter
// child. Guarded by Cloud.mu.
type slTemplate struct {
	ID               int
	ParentID         int
	ChildIDs         []int
	GlobalIdentifier string
	Name, Note       string
	Summary          string
	CreateDate       time.Time
	OSReferenceCode  string
	Public           bool
	Encrypted        bool
	CloudInit, BYOL  bool
	BootMode         string
	URI              string
	RootKeyCRN       string
	SourceGuestID    int
	Datacenters      []string
	Status           string
	StatusMessage    string
	Transaction      *slTransaction
	Format           string // what the import check recognised ("LUKS", …)
}

// Template is an image template as tests see it.
type Template struct {
	ID               int
	GlobalIdentifier string
	Name             string
	Note             string
	OSReferenceCode  string
	Status           string // "ACTIVE", "CREATE_PENDING" or "ERROR"
	StatusMessage    string // why an import failed
	Encrypted        bool
	URI              string // cos:// source of an import
	RootKeyCRN       string
	Format           string
	Datacenters      []string
	SourceGuestID    int  // set for a template captured from a guest
	Busy             bool // a transaction (import, export, capture) is running
	CRN              string
	CreateDate       time.Time
}

// Templates returns the account's private image templates (parents), oldest first.
func (c *Cloud) Templates() []Template {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []Template
	for _, id := range slSortedIDs(c.softlayer.templates) {
		t := c.softlayer.templates[id]
		if t.Public || t.ParentID != 0 {
			continue
		}
		out = append(out, Template{
			ID: t.ID, GlobalIdentifier: t.GlobalIdentifier, Name: t.Name, Note: t.Note,
			OSReferenceCode: t.OSReferenceCode, Status: t.Status, StatusMessage: t.StatusMessage,
			Encrypted: t.Encrypted, URI: t.URI, RootKeyCRN: t.RootKeyCRN, Format: t.Format,
			Datacenters: append([]string(nil), t.Datacenters...), SourceGuestID: t.SourceGuestID,
			Busy: c.slTemplateTx(t) != nil, CRN: c.slTemplateCRN(t.ID), CreateDate: t.CreateDate,
		})
	}
	return out
}

func (c *Cloud) slTemplateCRN(id int) string {
	return "crn:v1:bluemix:public:classic-infrastructure:" + c.Region + ":a/" + c.AccountID + "::image-template:" + strconv.Itoa(id)
}

var slTemplateMethods = map[string]slHandler{
	"SoftLayer_Virtual_Guest_Block_Device_Template_Group::createFromIcos":           (*Cloud).slCreateFromIcos,
	"SoftLayer_Virtual_Guest_Block_Device_Template_Group::createFromExternalSource": (*Cloud).slCreateFromIcos,
	"SoftLayer_Virtual_Guest_Block_Device_Template_Group::getObject":                (*Cloud).slTemplateGetObject,
	"SoftLayer_Virtual_Guest_Block_Device_Template_Group::getStatus":                (*Cloud).slTemplateGetStatus,
	"SoftLayer_Virtual_Guest_Block_Device_Template_Group::getChildren":              (*Cloud).slTemplateGetChildren,
	"SoftLayer_Virtual_Guest_Block_Device_Template_Group::getTransaction":           (*Cloud).slTemplateGetTransaction,
	"SoftLayer_Virtual_Guest_Block_Device_Template_Group::getDatacenters":           (*Cloud).slTemplateGetDatacenters,
	"SoftLayer_Virtual_Guest_Block_Device_Template_Group::getGlobalIdentifier":      (*Cloud).slTemplateGetGlobalIdentifier,
	"SoftLayer_Virtual_Guest_Block_Device_Template_Group::isEncrypted":              (*Cloud).slTemplateIsEncrypted,
	"SoftLayer_Virtual_Guest_Block_Device_Template_Group::deleteObject":             (*Cloud).slTemplateDelete,
	"SoftLayer_Virtual_Guest_Block_Device_Template_Group::copyToIcos":               (*Cloud).slTemplateCopyToIcos,
	"SoftLayer_Virtual_Guest_Block_Device_Template_Group::getPublicImages":          (*Cloud).slGetPublicImages,
	"SoftLayer_Account::getBlockDeviceTemplateGroups":                               (*Cloud).slAccountTemplates,
	"SoftLayer_Account::getPrivateBlockDeviceTemplateGroups":                        (*Cloud).slAccountTemplates,
}

// slTemplateTx is the running transaction of a template or of its child.
func (c *Cloud) slTemplateTx(t *slTemplate) *slTransaction {
	if t.Transaction != nil {
		return t.Transaction
	}
	for _, id := range t.ChildIDs {
		if ch := c.softlayer.templates[id]; ch != nil && ch.Transaction != nil {
			return ch.Transaction
		}
	}
	return nil
}

// slRenderTemplate is the full representation of a template; masks prune it.
func (c *Cloud) slRenderTemplate(t *slTemplate, now time.Time) map[string]any {
	m := map[string]any{
		"id":               t.ID,
		"name":             t.Name,
		"createDate":       slTime(t.CreateDate),
		"statusId":         slTemplateStatusID(t.Status),
		"publicFlag":       slBoolInt(t.Public),
		"imageTypeKeyName": "SYSTEM",
		"flexImageFlag":    false,
		"nextGenFlag":      false,
		"byolFlag":         t.BYOL,
		"status":           slTemplateStatus(t),
		"datacenters":      slLocations(t.Datacenters),
		"encryptionAttributes": func() []any {
			if t.Encrypted {
				return []any{"ENCRYPTED"}
			}
			return []any{}
		}(),
	}
	if !t.Public {
		m["accountId"] = c.slAccountID()
	}
	if t.Note != "" {
		m["note"] = t.Note
	}
	if t.Summary != "" {
		m["summary"] = t.Summary
	}
	if t.ParentID == 0 {
		m["globalIdentifier"] = t.GlobalIdentifier
		children := []map[string]any{}
		for _, id := range t.ChildIDs {
			if ch := c.softlayer.templates[id]; ch != nil {
				children = append(children, c.slRenderTemplate(ch, now))
			}
		}
		m["children"] = children
		m["childrenCount"] = len(children)
		if len(children) > 0 {
			m["firstChild"] = children[0]
		}
	} else {
		m["parentId"] = t.ParentID
		if len(t.Datacenters) > 0 {
			m["datacenter"] = slLocation(t.Datacenters[0])
		}
	}
	if tx := t.Transaction; tx != nil {
		m["transactionId"] = tx.ID
	}
	if tx := c.slTemplateTx(t); tx != nil {
		m["transaction"] = tx.render(now)
	}
	return m
}

func slTemplateStatus(t *slTemplate) map[string]any {
	s := map[string]any{"keyName": t.Status, "id": slTemplateStatusID(t.Status)}
	switch t.Status {
	case slTemplateActive:
		s["name"], s["description"] = "Active", "The image template is available."
	case slTemplatePending:
		s["name"], s["description"] = "Create Pending", "The image template is being created."
	case slTemplateError:
		s["name"], s["description"] = "Error", t.StatusMessage
	}
	return s
}

func slTemplateStatusID(s string) int {
	switch s {
	case slTemplateActive:
		return 1
	case slTemplatePending:
		return 3
	default:
		return 4
	}
}

func slBoolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func slLocations(dcs []string) []map[string]any {
	out := make([]map[string]any, 0, len(dcs))
	for _, d := range dcs {
		out = append(out, slLocation(d))
	}
	return out
}

// slLookupTemplate finds a template the caller may see. Called with c.mu held.
func (c *Cloud) slLookupTemplate(id int) (*slTemplate, error) {
	t, ok := c.softlayer.templates[id]
	if !ok {
		return nil, slNotFound(id)
	}
	return t, nil
}

func (c *Cloud) slWithTemplate(call *slCall, f func(t *slTemplate) (any, error)) (any, error) {
	if err := call.requireID(); err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	t, err := c.slLookupTemplate(call.id)
	if err != nil {
		return nil, err
	}
	return f(t)
}

func (c *Cloud) slTemplateGetObject(call *slCall) (any, error) {
	return c.slWithTemplate(call, func(t *slTemplate) (any, error) { return c.slRenderTemplate(t, time.Now()), nil })
}

func (c *Cloud) slTemplateGetStatus(call *slCall) (any, error) {
	return c.slWithTemplate(call, func(t *slTemplate) (any, error) { return slTemplateStatus(t), nil })
}

func (c *Cloud) slTemplateGetGlobalIdentifier(call *slCall) (any, error) {
	return c.slWithTemplate(call, func(t *slTemplate) (any, error) { return t.GlobalIdentifier, nil })
}

func (c *Cloud) slTemplateIsEncrypted(call *slCall) (any, error) {
	return c.slWithTemplate(call, func(t *slTemplate) (any, error) { return t.Encrypted, nil })
}

func (c *Cloud) slTemplateGetDatacenters(call *slCall) (any, error) {
	return c.slWithTemplate(call, func(t *slTemplate) (any, error) { return slLocations(t.Datacenters), nil })
}

func (c *Cloud) slTemplateGetChildren(call *slCall) (any, error) {
	return c.slWithTemplate(call, func(t *slTemplate) (any, error) {
		now := time.Now()
		out := []map[string]any{}
		for _, id := range t.ChildIDs {
			if ch := c.softlayer.templates[id]; ch != nil {
				out = append(out, c.slRenderTemplate(ch, now))
			}
		}
		return out, nil
	})
}

func (c *Cloud) slTemplateGetTransaction(call *slCall) (any, error) {
	return c.slWithTemplate(call, func(t *slTemplate) (any, error) {
		if tx := c.slTemplateTx(t); tx != nil {
			return tx.render(time.Now()), nil
		}
		return nil, nil // the API answers null
	})
}

func (c *Cloud) slGetPublicImages(call *slCall) (any, error) {
	return c.slListTemplates(func(t *slTemplate) bool { return t.Public }), nil
}

func (c *Cloud) slAccountTemplates(call *slCall) (any, error) {
	return c.slListTemplates(func(t *slTemplate) bool { return !t.Public }), nil
}

func (c *Cloud) slListTemplates(keep func(*slTemplate) bool) []map[string]any {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now()
	out := []map[string]any{}
	for _, id := range slSortedIDs(c.softlayer.templates) {
		t := c.softlayer.templates[id]
		if t.ParentID == 0 && keep(t) {
			out = append(out, c.slRenderTemplate(t, now))
		}
	}
	return out
}

func (c *Cloud) slTemplateDelete(call *slCall) (any, error) {
	var res any
	var name string
	_, err := c.slWithTemplate(call, func(t *slTemplate) (any, error) {
		if t.Public {
			return nil, slErr(http.StatusInternalServerError, exPublic, "Public image templates cannot be deleted.")
		}
		if t.ParentID != 0 {
			return nil, slErr(http.StatusInternalServerError, exPublic, "Delete the parent image template group %d, not its child.", t.ParentID)
		}
		tx := c.slNewTransaction("Delete Image Template", []string{"CLOUD_DELETE_IMAGE_TEMPLATE"}, time.Minute)
		for _, id := range t.ChildIDs {
			delete(c.softlayer.templates, id)
		}
		delete(c.softlayer.templates, t.ID)
		name = t.Name
		res = tx.render(time.Now())
		return nil, nil
	})
	if err != nil {
		return nil, err
	}
	c.record(call.r, call.who, Event{
		Action: "audit-log.vsi-image-template.delete", Service: ServiceSoftLayer,
		Message: "Classic Virtual Server image template " + name + " deleted",
		Target:  EventTarget{ID: c.slTemplateCRN(call.id), Name: name, TypeURI: "classic-infrastructure/image-template"},
	})
	return res, nil
}

// slTemplateConfig is SoftLayer_Container_Virtual_Guest_Block_Device_Template_Configuration.
type slTemplateConfig struct {
	Name                         string   `json:"name"`
	Note                         string   `json:"note"`
	OperatingSystemReferenceCode string   `json:"operatingSystemReferenceCode"`
	URI                          string   `json:"uri"`
	IBMAPIKey                    string   `json:"ibmApiKey"`
	IBMAccessKey                 string   `json:"ibmAccessKey"`
	IBMSecretKey                 string   `json:"ibmSecretKey"`
	CRKCRN                       string   `json:"crkCrn"`
	RootKeyID                    string   `json:"rootKeyId"`
	WrappedDEK                   string   `json:"wrappedDek"`
	IsEncrypted                  *bool    `json:"isEncrypted"`
	CloudInit                    bool     `json:"cloudInit"`
	BYOL                         bool     `json:"byol"`
	BootMode                     string   `json:"bootMode"`
	SupportedBootModes           []string `json:"supportedBootModes"`
}

var (
	slOSRefPattern = regexp.MustCompile(`^(UBUNTU|DEBIAN|CENTOS|REDHAT|WIN|ROCKY|ALMALINUX)_[0-9A-Z_-]*_(32|64)$`)
)

// slValidateImport makes the synchronous checks createFromIcos makes before
// it starts a transaction.
func (c *Cloud) slValidateImport(cfg *slTemplateConfig, external bool) (region, bucket, object string, err error) {
	bad := func(format string, args ...any) error {
		return slErr(http.StatusInternalServerError, exPublic, format, args...)
	}
	if strings.TrimSpace(cfg.Name) == "" {
		return "", "", "", bad("The image template name is required.")
	}
	if len(cfg.Name) > 100 {
		return "", "", "", bad("The image template name may be at most 100 characters.")
	}
	if cfg.URI == "" {
		return "", "", "", bad("A uri is required.")
	}
	u, err := cosuri.Parse(cfg.URI)
	if err != nil {
		if external && strings.HasPrefix(cfg.URI, "swift://") {
			return "", "", "", bad("Swift object storage is not available in this emulator; use a cos:// uri.")
		}
		return "", "", "", bad("Invalid uri %q: expected cos://<region>/<bucket>/<object>.", cfg.URI)
	}
	region, bucket, object = u.Region, u.Bucket, u.Object
	if _, ok := slRegionDatacenters[region]; !ok {
		return "", "", "", bad("Unknown Cloud Object Storage region %q in uri.", region)
	}
	if cfg.OperatingSystemReferenceCode == "" {
		return "", "", "", bad("An operatingSystemReferenceCode is required.")
	}
	if !slOSRefPattern.MatchString(cfg.OperatingSystemReferenceCode) {
		return "", "", "", bad("Unknown operating system reference code %q.", cfg.OperatingSystemReferenceCode)
	}
	if cfg.IBMAPIKey == "" && (cfg.IBMAccessKey == "" || cfg.IBMSecretKey == "") {
		return "", "", "", bad("Either ibmApiKey or both ibmAccessKey and ibmSecretKey are required to read Cloud Object Storage.")
	}
	switch cfg.BootMode {
	case "", "HVM", "PV":
	default:
		return "", "", "", bad("Invalid bootMode %q: use HVM or PV.", cfg.BootMode)
	}
	encrypted := cfg.CRKCRN != "" || cfg.WrappedDEK != "" || (cfg.IsEncrypted != nil && *cfg.IsEncrypted)
	if encrypted {
		if external {
			return "", "", "", bad("Encrypted images are imported with createFromIcos.")
		}
		if cfg.CRKCRN == "" || cfg.WrappedDEK == "" {
			return "", "", "", bad("An encrypted image needs both crkCrn and wrappedDek.")
		}
		if _, _, _, err := slParseKeyCRN(cfg.CRKCRN); err != nil {
			return "", "", "", bad("Invalid crkCrn: %v", err)
		}
	}
	return region, bucket, object, nil
}

func (c *Cloud) slCreateFromIcos(call *slCall) (any, error) {
	var cfg slTemplateConfig
	if err := call.param(0, &cfg); err != nil {
		return nil, err
	}
	external := strings.HasSuffix(call.method, "ExternalSource")
	region, bucket, object, err := c.slValidateImport(&cfg, external)
	if err != nil {
		return nil, err
	}
	encrypted := cfg.CRKCRN != ""
	dc := slRegionDatacenters[region][0]

	c.mu.Lock()
	s := &c.softlayer
	s.nextTemplateID++
	parent := &slTemplate{
		ID: s.nextTemplateID, GlobalIdentifier: newUUID(), Name: cfg.Name, Note: cfg.Note,
		CreateDate: time.Now(), OSReferenceCode: cfg.OperatingSystemReferenceCode, Encrypted: encrypted,
		CloudInit: cfg.CloudInit, BYOL: cfg.BYOL, BootMode: cfg.BootMode, URI: cfg.URI, RootKeyCRN: cfg.CRKCRN,
		Datacenters: []string{dc}, Status: slTemplatePending,
	}
	s.nextTemplateID++
	child := *parent
	child.ID, child.ParentID, child.GlobalIdentifier = s.nextTemplateID, parent.ID, ""
	child.Transaction = c.slNewTransaction("Image Import", slImportSteps, slImportDuration)
	parent.ChildIDs = []int{child.ID}
	s.templates[parent.ID] = parent
	s.templates[child.ID] = &child
	res := c.slRenderTemplate(parent, time.Now())
	deadline := child.Transaction.Start.Add(child.Transaction.Duration)
	c.mu.Unlock()

	// The storage service fetches and checks the image in the background;
	// the template shows the outcome when the transaction ends. Close
	// waits for the checks.
	c.bg.goFunc(func() {
		format, checkErr := c.slRunImportChecks(&cfg, region, bucket, object)
		c.slAfter(time.Until(deadline), func() { c.slFinishImport(call, parent.ID, format, checkErr) })
	})
	return res, nil
}

// slImportCheckError says which import check failed, as the template's
// status message.
type slImportCheckError struct {
	check string
	msg   string
}

func (e *slImportCheckError) Error() string { return e.check + ": " + e.msg }

func (c *Cloud) slRunImportChecks(cfg *slTemplateConfig, region, bucket, object string) (string, error) {
	fail := func(check, format string, args ...any) (string, error) {
		return "", &slImportCheckError{check: check, msg: fmt.Sprintf(format, args...)}
	}
	if cfg.IBMAPIKey != "" {
		if _, ok := c.lookupAPIKey(cfg.IBMAPIKey); !ok {
			return fail("cos-credentials", "the ibmApiKey was refused by IAM; the storage service cannot read cos://%s/%s/%s", region, bucket, object)
		}
	} else if cfg.IBMAccessKey != c.HMACAccessKeyID || cfg.IBMSecretKey != c.HMACSecretAccessKey {
		return fail("cos-credentials", "the HMAC credentials were refused by Cloud Object Storage")
	}
	r, size, bucketRegion, err := c.cosObject(bucket, object)
	if err != nil {
		return fail("object", "cos://%s/%s/%s could not be read: %v", region, bucket, object, err)
	}
	if bucketRegion != "" && bucketRegion != region {
		return fail("object", "bucket %s is in region %s, not %s as the uri says", bucket, bucketRegion, region)
	}
	if size == 0 {
		return fail("object", "cos://%s/%s/%s is empty", region, bucket, object)
	}
	if size > 100<<30 {
		return fail("object", "the image is %d bytes; imports are limited to 100 GB", size)
	}
	if cfg.CRKCRN == "" {
		return "RAW", nil
	}
	service, keyRegion, instance, _ := slParseKeyCRN(cfg.CRKCRN)
	if bucketRegion != "" && keyRegion != bucketRegion {
		return fail("region", "the key's %s instance is in %s but the bucket is in %s; they must be in the same region", service, keyRegion, bucketRegion)
	}
	if !c.hasAuthorization("server-protect", service, instance) {
		return fail("authorization", "no IAM authorization lets Cloud Block Storage (server-protect) use %s instance %s with the Reader role", service, instance)
	}
	dek, err := c.unwrapWDEK("server-protect", cfg.CRKCRN, []byte(cfg.WrappedDEK))
	if err != nil {
		return fail("unwrap", "the wrapped data key could not be unwrapped with root key %s: %v", cfg.CRKCRN, err)
	}
	defer clear(dek)
	format := detectImageFormat(r, size)
	if err := c.checkImageOpens(r, size, dek); err != nil {
		return fail("decrypt", "the image does not open with the unwrapped data key: %v", err)
	}
	return format, nil
}

// slParseKeyCRN splits crn:v1:bluemix:public:<kms|hs-crypto>:<region>:a/<account>:<instance>:key:<id>.
func slParseKeyCRN(crn string) (service, region, instance string, err error) {
	p := strings.Split(crn, ":")
	if len(p) != 10 || p[0] != "crn" || p[1] != "v1" || p[8] != "key" || p[9] == "" || p[7] == "" {
		return "", "", "", fmt.Errorf("%q is not a root key CRN (crn:v1:bluemix:public:kms:<region>:a/<account>:<instance>:key:<id>)", crn)
	}
	if p[4] != "kms" && p[4] != "hs-crypto" {
		return "", "", "", fmt.Errorf("the CRN names service %q, not kms or hs-crypto", p[4])
	}
	return p[4], p[5], p[7], nil
}

func (c *Cloud) slFinishImport(call *slCall, id int, format string, checkErr error) {
	c.mu.Lock()
	parent := c.softlayer.templates[id]
	if parent == nil { // deleted while importing
		c.mu.Unlock()
		return
	}
	status, msg := slTemplateActive, ""
	if checkErr != nil {
		status, msg = slTemplateError, "Image import failed: "+checkErr.Error()
	}
	for _, t := range append([]*slTemplate{parent}, c.slChildTemplates(parent)...) {
		t.Status, t.StatusMessage, t.Format, t.Transaction = status, msg, format, nil
	}
	name := parent.Name
	c.mu.Unlock()

	ev := Event{
		Action: "audit-log.vsi-image-template.create", Service: ServiceSoftLayer,
		Message: "Classic Virtual Server image template " + name + " created",
		Target:  EventTarget{ID: c.slTemplateCRN(id), Name: name, TypeURI: "classic-infrastructure/image-template"},
	}
	if checkErr != nil {
		ev.Outcome, ev.Severity = "failure", "warning"
		ev.Reason.ReasonCode = http.StatusBadRequest
		ev.Message = "Classic Virtual Server image template " + name + " import failed: " + checkErr.Error()
	}
	c.record(call.r, call.who, ev)
}

func (c *Cloud) slChildTemplates(t *slTemplate) []*slTemplate {
	var out []*slTemplate
	for _, id := range t.ChildIDs {
		if ch := c.softlayer.templates[id]; ch != nil {
			out = append(out, ch)
		}
	}
	return out
}

// slTemplateCopyToIcos exports an active template to COS. When the export
// transaction ends, the object holds the template's image: for an
// imported template the bytes it was imported from (the emulator keeps no
// disk of its own), for a captured one an empty placeholder.
func (c *Cloud) slTemplateCopyToIcos(call *slCall) (any, error) {
	var cfg slTemplateConfig
	if err := call.param(0, &cfg); err != nil {
		return nil, err
	}
	u, err := cosuri.Parse(cfg.URI)
	if err != nil {
		return nil, slErr(http.StatusInternalServerError, exPublic, "Invalid uri %q: expected cos://<region>/<bucket>/<object>.", cfg.URI)
	}
	region, bucket, object := u.Region, u.Bucket, u.Object
	if cfg.IBMAPIKey == "" {
		return nil, slErr(http.StatusInternalServerError, exPublic, "An ibmApiKey is required to write to Cloud Object Storage.")
	}
	if _, ok := c.lookupAPIKey(cfg.IBMAPIKey); !ok {
		return nil, slErr(http.StatusInternalServerError, exPublic, "The ibmApiKey was refused by IAM.")
	}
	bucketOK := false
	for _, b := range c.Buckets() {
		bucketOK = bucketOK || (b.Name == bucket && strings.HasPrefix(b.Location, region+"-"))
	}
	if !bucketOK {
		return nil, slErr(http.StatusInternalServerError, exPublic, "Bucket %s does not exist in %s.", bucket, region)
	}
	var source string
	res, err := c.slWithTemplate(call, func(t *slTemplate) (any, error) {
		if t.Public || t.ParentID != 0 {
			return nil, slErr(http.StatusInternalServerError, exPublic, "Only private parent image templates can be exported.")
		}
		if t.Status != slTemplateActive || c.slTemplateTx(t) != nil {
			return nil, slErr(http.StatusInternalServerError, exNotReady, "Image template %d is not active or has a transaction running.", t.ID)
		}
		if t.Encrypted {
			return nil, slErr(http.StatusInternalServerError, exPublic, "Encrypted image templates cannot be exported.")
		}
		children := c.slChildTemplates(t)
		if len(children) == 0 {
			return nil, slErr(http.StatusInternalServerError, exPublic, "Image template %d has no image to export.", t.ID)
		}
		source = t.URI
		tx := c.slNewTransaction("Image Export", []string{"CLOUD_IMAGE_EXPORT_COPY", "CLOUD_IMAGE_EXPORT_COMPLETE"}, slExportDuration)
		ch := children[0]
		ch.Transaction = tx
		c.slAfter(tx.Duration, func() {
			c.slExportObject(source, bucket, object)
			c.mu.Lock()
			defer c.mu.Unlock()
			if ch.Transaction == tx {
				ch.Transaction = nil
			}
		})
		return true, nil
	})
	return res, err
}

// slExportObject writes an exported image to COS.
func (c *Cloud) slExportObject(source, bucket, object string) {
	var data []byte
	if u, err := cosuri.Parse(source); err == nil {
		if r, size, _, err := c.cosObject(u.Bucket, u.Object); err == nil && size <= 1<<30 {
			data = make([]byte, size)
			if n, _ := r.ReadAt(data, 0); int64(n) < size {
				data = nil // unreadable: export an empty object rather than a torn one
			}
		}
	}
	_ = c.PutObject(bucket, object, data) // the bucket was checked when the export started
}
