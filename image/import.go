package image

import (
	"context"
	"encoding/base64"
	"fmt"
	"regexp"
	"strings"

	"github.com/softlayer/softlayer-go/datatypes"
	"github.com/softlayer/softlayer-go/services"
	"github.com/softlayer/softlayer-go/session"
	"github.com/softlayer/softlayer-go/sl"

	"github.com/e2eimage/e2e/internal/cosuri"
	"github.com/e2eimage/e2e/internal/slsession"
)

// Format is the container of an encrypted image.
type Format string

// The encrypted formats a classic import accepts.
const (
	// LUKSRaw is a raw disk inside a LUKS container whose passphrase is the
	// base64 text of the DEK (IBM's original design).
	LUKSRaw Format = "LUKSRaw"
	// EncryptedVHD is a dynamic VHD encrypted the way blktap does, with the
	// raw DEK as the AES-XTS key (current classic docs). IBM expects the
	// object to be named like "name.vhd-0.vhd".
	EncryptedVHD Format = "EncryptedVHD"
)

// MaxImageSize is the largest boot disk a classic import accepts (100 GB).
const MaxImageSize = 100 << 30

// ImportRequest describes an image in COS to import as a template.
type ImportRequest struct {
	// Name of the template (required, at most 100 characters) and a note.
	Name string
	Note string
	// OSReferenceCode names the operating system, e.g. "UBUNTU_22_64" (required).
	OSReferenceCode string
	// URI is the object, cos://<region>/<bucket>/<object> (required).
	URI string
	// IBMAPIKey is the API key IBM uses to read the object; alternatively an
	// HMAC pair. One of the two is required. Never logged.
	IBMAPIKey           string
	HMACAccessKeyID     string
	HMACSecretAccessKey string
	// RootKeyCRN names the Key Protect or HPCS root key that wraps the DEK,
	// and WrappedDEK is the WDEK as Key Protect returns it (base64).
	// Required for ImportEncrypted, refused by Import.
	RootKeyCRN string
	WrappedDEK string
	// Format of an encrypted image. The default is LUKSRaw.
	Format Format
	// CloudInit marks an image that runs cloud-init (Linux images need it).
	CloudInit bool
	// BYOL marks an image that brings its own OS license.
	BYOL bool
	// BootMode is "HVM" or "PV"; empty lets IBM choose.
	BootMode string
	// Size is the object's size in bytes, when known, to check the 100 GB
	// limit before asking IBM; 0 skips the check.
	Size int64
}

// COSURI is a parsed cos://<region>/<bucket>/<object> URI. Region is a
// COS location: regional ("us-south"), cross-region ("us") or single-site
// ("ams03"); the object key is taken literally and must not end in "/" (a
// folder). The rules are exactly those of storage.ParseURI: both wrap one
// parser, so an object the upload named is never refused here.
type COSURI cosuri.URI

// String returns the URI as cos://region/bucket/object.
func (u COSURI) String() string { return cosuri.URI(u).String() }

var osRefPattern = regexp.MustCompile(`^[A-Z][A-Z0-9]*(_[A-Z0-9.-]+)*_(32|64)$`)

// ParseCOSURI parses and checks a cos://<region>/<bucket>/<object> URI.
// Errors are a *ValidationError on the field "URI".
func ParseCOSURI(s string) (COSURI, error) {
	u, err := cosuri.Parse(s)
	if err != nil {
		return COSURI{}, invalid("URI", "%v", err)
	}
	return COSURI(u), nil
}

// validate checks what IBM would refuse, before any call.
func (r *ImportRequest) validate(encrypted bool) (COSURI, error) {
	if strings.TrimSpace(r.Name) == "" {
		return COSURI{}, invalid("Name", "is required")
	}
	if len(r.Name) > 100 {
		return COSURI{}, invalid("Name", "is %d characters; at most 100", len(r.Name))
	}
	if r.OSReferenceCode == "" {
		return COSURI{}, invalid("OSReferenceCode", "is required (e.g. UBUNTU_22_64)")
	}
	if !osRefPattern.MatchString(r.OSReferenceCode) {
		return COSURI{}, invalid("OSReferenceCode", "%q is not a reference code like UBUNTU_22_64", r.OSReferenceCode)
	}
	u, err := ParseCOSURI(r.URI)
	if err != nil {
		return COSURI{}, err
	}
	switch {
	case r.IBMAPIKey != "" && (r.HMACAccessKeyID != "" || r.HMACSecretAccessKey != ""):
		return COSURI{}, invalid("IBMAPIKey", "set either IBMAPIKey or the HMAC pair, not both")
	case r.IBMAPIKey == "" && (r.HMACAccessKeyID == "") != (r.HMACSecretAccessKey == ""):
		return COSURI{}, invalid("HMACSecretAccessKey", "HMACAccessKeyID and HMACSecretAccessKey go together")
	case r.IBMAPIKey == "" && r.HMACAccessKeyID == "":
		return COSURI{}, invalid("IBMAPIKey", "an API key or an HMAC pair is required for IBM to read the object")
	}
	switch r.BootMode {
	case "", "HVM", "PV":
	default:
		return COSURI{}, invalid("BootMode", "%q is not HVM or PV", r.BootMode)
	}
	if r.Size < 0 {
		return COSURI{}, invalid("Size", "is negative")
	}
	if r.Size > MaxImageSize {
		return COSURI{}, invalid("Size", "%d bytes exceeds the 100 GB limit of classic imports", r.Size)
	}
	if !encrypted {
		if r.RootKeyCRN != "" || r.WrappedDEK != "" {
			return COSURI{}, invalid("RootKeyCRN", "is set: use ImportEncrypted for an encrypted image")
		}
		if lower := strings.ToLower(u.Object); !strings.HasSuffix(lower, ".vhd") && !strings.HasSuffix(lower, ".iso") {
			return COSURI{}, invalid("URI", "object %q must be a .vhd or .iso file for an unencrypted import", u.Object)
		}
		return u, nil
	}
	switch r.Format {
	case "", LUKSRaw:
	case EncryptedVHD:
		if !strings.HasSuffix(u.Object, ".vhd") {
			return COSURI{}, invalid("URI", "object %q of an encrypted VHD must end in .vhd (IBM expects names like image.vhd-0.vhd)", u.Object)
		}
	default:
		return COSURI{}, invalid("Format", "%q is not LUKSRaw or EncryptedVHD", r.Format)
	}
	if err := checkKeyCRN(r.RootKeyCRN, u.Region); err != nil {
		return COSURI{}, err
	}
	if r.WrappedDEK == "" {
		return COSURI{}, invalid("WrappedDEK", "is required")
	}
	if _, err := base64.StdEncoding.DecodeString(r.WrappedDEK); err != nil {
		return COSURI{}, invalid("WrappedDEK", "is not base64 as Key Protect returns it")
	}
	return u, nil
}

// checkKeyCRN checks crn:v1:<cname>:<ctype>:<kms|hs-crypto>:<region>:a/<account>:<instance>:key:<id>
// and that the key lives in the bucket's region, as IBM requires.
func checkKeyCRN(crn, bucketRegion string) error {
	if crn == "" {
		return invalid("RootKeyCRN", "is required")
	}
	p := strings.Split(crn, ":")
	if len(p) != 10 || p[0] != "crn" || p[1] != "v1" || p[8] != "key" || p[9] == "" || p[7] == "" || !strings.HasPrefix(p[6], "a/") {
		return invalid("RootKeyCRN", "%q is not a root key CRN (crn:v1:bluemix:public:kms:<region>:a/<account>:<instance>:key:<id>)", crn)
	}
	if p[4] != "kms" && p[4] != "hs-crypto" {
		return invalid("RootKeyCRN", "names service %q, not kms or hs-crypto", p[4])
	}
	if p[5] != bucketRegion {
		return invalid("RootKeyCRN", "the key is in %s but the bucket is in %s; they must be in the same region", p[5], bucketRegion)
	}
	return nil
}

// ImportEncrypted validates req and starts importing an encrypted image
// (createFromIcos). The returned template is pending: Wait for it.
func (c *Client) ImportEncrypted(ctx context.Context, req ImportRequest) (*Template, error) {
	if _, err := req.validate(true); err != nil {
		return nil, err
	}
	cfg := req.configuration()
	cfg.CrkCrn, cfg.WrappedDek, cfg.IsEncrypted = sl.String(req.RootKeyCRN), sl.String(req.WrappedDEK), sl.Bool(true)
	return c.create(ctx, "createFromIcos", cfg)
}

// Import validates req and starts importing an unencrypted VHD or ISO
// image from COS (createFromIcos). The returned template is pending: Wait for it.
func (c *Client) Import(ctx context.Context, req ImportRequest) (*Template, error) {
	if _, err := req.validate(false); err != nil {
		return nil, err
	}
	return c.create(ctx, "createFromIcos", req.configuration())
}

func (r *ImportRequest) configuration() *datatypes.Container_Virtual_Guest_Block_Device_Template_Configuration {
	cfg := &datatypes.Container_Virtual_Guest_Block_Device_Template_Configuration{
		Name: sl.String(r.Name), OperatingSystemReferenceCode: sl.String(r.OSReferenceCode), Uri: sl.String(r.URI),
		CloudInit: sl.Bool(r.CloudInit), Byol: sl.Bool(r.BYOL),
	}
	if r.Note != "" {
		cfg.Note = sl.String(r.Note)
	}
	if r.BootMode != "" {
		cfg.BootMode = sl.String(r.BootMode)
	}
	if r.IBMAPIKey != "" {
		cfg.IbmApiKey = sl.String(r.IBMAPIKey)
	} else {
		cfg.IbmAccessKey, cfg.IbmSecretKey = sl.String(r.HMACAccessKeyID), sl.String(r.HMACSecretAccessKey)
	}
	return cfg
}

// create calls createFromIcos once (a retry could import twice) and checks
// the answer: IBM has answered 200 with an exception in the body.
func (c *Client) create(ctx context.Context, method string, cfg *datatypes.Container_Virtual_Guest_Block_Device_Template_Configuration) (*Template, error) {
	var g datatypes.Virtual_Guest_Block_Device_Template_Group
	err := c.s.CallRaw(ctx, templateService, method, false, func(s *session.Session) error {
		var err error
		g, err = services.GetVirtualGuestBlockDeviceTemplateGroupService(s).CreateFromIcos(cfg)
		return err
	}, func(head []byte) error {
		if code, msg, ok := slsession.ErrorInBody(head); ok {
			return &APIError{Service: templateService, Method: method, StatusCode: 200, Exception: code, Message: msg}
		}
		if g.Id == nil {
			return fmt.Errorf("%w: %s answered without a template id", ErrUnexpectedResponse, method)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return fromDatatype(&g), nil
}
