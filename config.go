package e2e

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/e2eimage/e2e/internal/cosuri"
	"github.com/e2eimage/e2e/storage"
)

// Format is the encrypted image format a run produces.
type Format string

// The encrypted image formats.
const (
	// LUKSRaw is a raw disk in a LUKS1 container whose passphrase is the
	// base64 text of the DEK: the original 2018 design of classic imports.
	LUKSRaw Format = "luks"
	// EncryptedVHD is a dynamic VHD encrypted the way blktap's vhd-util does,
	// with the raw DEK as the AES-XTS key: today's classic imports.
	EncryptedVHD Format = "vhd"
	// QCOW2LUKS is a qcow2 image with LUKS encryption whose passphrase is the
	// DEK's text, imported as a VPC custom image (vpcv1 CreateImage).
	QCOW2LUKS Format = "qcow2"
)

// vpc reports whether the format is imported into VPC rather than classic.
func (f Format) vpc() bool { return f == QCOW2LUKS }

// Config is everything a run needs. Zero values take the documented
// defaults; LoadConfig reads it from a JSON file and the environment.
type Config struct {
	// Region is the IBM Cloud region of the KMS instance and the bucket.
	// The default is "us-south".
	Region string `json:"region,omitempty"`
	// APIKey is the IBM Cloud API key every client authenticates with. It is
	// read from IBMCLOUD_API_KEY and never written to the config file.
	APIKey string `json:"-"`
	// Endpoints overrides service URLs; empty ones default to IBM Cloud's
	// public endpoints for Region.
	Endpoints Endpoints   `json:"endpoints,omitzero"`
	KMS       KMSConfig   `json:"kms"`
	COS       COSConfig   `json:"cos"`
	Image     ImageConfig `json:"image"`
	// Server is the virtual server to order from the template (a classic
	// server, or a VPC instance for the qcow2 format); nil orders none.
	Server  *ServerConfig `json:"server,omitempty"`
	Encrypt EncryptConfig `json:"encrypt,omitzero"`
	// FullVerify decrypts the whole uploaded object after the upload instead
	// of only unlocking its header. The default is the header check.
	FullVerify bool `json:"fullVerify,omitempty"`
	// Audit collects the run's Activity Tracker events at the end (needs
	// Endpoints.Logs). The default is off.
	Audit bool `json:"audit,omitempty"`
	// PollInterval is the first interval between status polls of long
	// operations (the import, the provisioning); it backs off from there.
	// The default is the image and provision packages' own.
	PollInterval Duration `json:"pollInterval,omitempty"`
	// StateFile is where the run's progress is kept. The default is
	// "e2e-state.json" in the working directory.
	StateFile string `json:"stateFile,omitempty"`
}

// Endpoints are the service URLs of a run.
type Endpoints struct {
	IAM       string `json:"iam,omitempty"`       // default https://iam.cloud.ibm.com
	KMS       string `json:"kms,omitempty"`       // default https://<region>.kms.cloud.ibm.com
	COS       string `json:"cos,omitempty"`       // default https://s3.<region>.cloud-object-storage.appdomain.cloud
	SoftLayer string `json:"softlayer,omitempty"` // default https://api.softlayer.com/rest/v3.1
	VPC       string `json:"vpc,omitempty"`       // default https://<region>.iaas.cloud.ibm.com/v1
	Logs      string `json:"logs,omitempty"`      // the Cloud Logs instance URL; no default
}

// KMSConfig names the key management instance and the root key.
type KMSConfig struct {
	InstanceID string `json:"instanceId"`
	// HPCS selects Hyper Protect Crypto Services instead of Key Protect.
	HPCS bool `json:"hpcs,omitempty"`
	// RootKeyID uses an existing root key. Otherwise RootKeyName is ensured:
	// the active root key with that name is reused or created.
	RootKeyID   string `json:"rootKeyId,omitempty"`
	RootKeyName string `json:"rootKeyName,omitempty"`
	// ImportPayload, when set, is the key material (16, 24 or 32 bytes) of
	// the root key to import under RootKeyName if no active root key has
	// that name yet (bring your own key). It is never written to a file; the
	// environment variable E2E_ROOT_KEY_IMPORT_FILE names a file holding it.
	ImportPayload []byte `json:"-"`
}

// COSConfig names the bucket and object of the encrypted image.
type COSConfig struct {
	// InstanceID is the COS service instance ID (CRN) used to create buckets.
	InstanceID string `json:"instanceId"`
	Bucket     string `json:"bucket"`
	// Object is the object name; the default is the image name plus the
	// format's extension.
	Object string `json:"object,omitempty"`
	// PartSize and Concurrency tune the multipart upload; zero values take
	// the storage package's defaults.
	PartSize    int64 `json:"partSize,omitempty"`
	Concurrency int   `json:"concurrency,omitempty"`
	// PathStyle addresses buckets in the URL path instead of the host name,
	// for S3-compatible servers and emulators. The default is virtual-hosted.
	PathStyle bool `json:"pathStyle,omitempty"`
}

// ImageConfig describes the image template to create.
type ImageConfig struct {
	Name string `json:"name"`
	// OS is the operating system: a classic reference code such as
	// "UBUNTU_22_64", or a VPC operating system name such as
	// "ubuntu-24-04-amd64" for QCOW2LUKS.
	OS   string `json:"os"`
	Note string `json:"note,omitempty"`
	// Format is the encrypted format. The default is LUKSRaw.
	Format    Format `json:"format,omitempty"`
	CloudInit bool   `json:"cloudInit,omitempty"`
	BYOL      bool   `json:"byol,omitempty"`
}

// ServerConfig is the virtual server ordered from the template: a classic
// server (Hostname, Domain, Datacenter and the classic fields) for the luks
// and vhd formats, a VPC instance (Hostname as its name, Zone, SubnetID and
// the VPC fields) for the qcow2 format. Fields of the other kind are refused.
type ServerConfig struct {
	// Hostname is the classic host name, or the VPC instance's name (unique
	// in the region: a rerun finds the instance by it). Required.
	Hostname string `json:"hostname"`
	// Domain and Datacenter place a classic server (required for classic).
	Domain     string `json:"domain,omitempty"`
	Datacenter string `json:"datacenter,omitempty"`
	CPUs       int    `json:"cpus,omitempty"`     // classic; default 1
	MemoryMB   int    `json:"memoryMb,omitempty"` // classic; default 2048
	Flavor     string `json:"flavor,omitempty"`   // classic
	// Monthly bills monthly; the default is hourly (classic).
	Monthly      bool     `json:"monthly,omitempty"`
	LocalDisk    bool     `json:"localDisk,omitempty"`    // classic
	NetworkSpeed int      `json:"networkSpeed,omitempty"` // classic
	SSHKeyIDs    []int    `json:"sshKeyIds,omitempty"`    // classic SSH key IDs
	UserData     string   `json:"userData,omitempty"`     // cloud-init user data (both kinds)
	Tags         []string `json:"tags,omitempty"`         // classic

	// Zone is the VPC zone of the instance, e.g. "us-south-1" (required for VPC).
	Zone string `json:"zone,omitempty"`
	// SubnetID is the subnet of the instance's primary network interface,
	// in Zone (required for VPC).
	SubnetID string `json:"subnetId,omitempty"`
	// VPCID is the instance's VPC. The default is the subnet's.
	VPCID string `json:"vpcId,omitempty"`
	// Profile is the VPC instance profile. The default is "bx2-2x8".
	Profile string `json:"profile,omitempty"`
	// KeyIDs are VPC SSH key IDs to install. The default is none.
	KeyIDs []string `json:"keyIds,omitempty"`
	// ResourceGroupID is the instance's resource group. The default is the
	// account's default group.
	ResourceGroupID string `json:"resourceGroupId,omitempty"`
	// BootVolumeKeyCRN is the root key that encrypts the boot volume. The
	// default is the image's key, the run's root key, as IBM does. Either
	// way the run authorizes Cloud Block Storage (server-protect) to read
	// the KMS instance's keys, which an encrypted boot volume needs; a key
	// in another instance needs that authorization too.
	BootVolumeKeyCRN string `json:"bootVolumeKeyCrn,omitempty"`
}

// EncryptConfig tunes the encryption.
type EncryptConfig struct {
	// Workers is the number of parallel sector workers. The default is GOMAXPROCS.
	Workers int `json:"workers,omitempty"`
	// IterTime is the LUKS key-slot PBKDF2 time. The default is 2s, as cryptsetup.
	IterTime Duration `json:"iterTime,omitempty"`
}

// Duration is a time.Duration written as text ("2s") in config files.
type Duration time.Duration

// MarshalText writes the duration as text.
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// UnmarshalText parses text like "250ms".
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// LoadConfig reads a JSON config file (when path is not empty) and then
// applies the environment variables documented at ApplyEnv.
func LoadConfig(path string) (Config, error) {
	var c Config
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return c, fmt.Errorf("e2e: read config: %w", err)
		}
		dec := json.NewDecoder(strings.NewReader(string(b)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&c); err != nil {
			return c, fmt.Errorf("e2e: config file %s: %w", path, err)
		}
	}
	if err := c.ApplyEnv(os.LookupEnv); err != nil {
		return c, err
	}
	return c, nil
}

// ApplyEnv overrides fields from environment variables looked up with
// lookup (os.LookupEnv in LoadConfig):
//
//	IBMCLOUD_API_KEY     APIKey
//	IBMCLOUD_REGION      Region
//	E2E_IAM_URL, E2E_KMS_URL, E2E_COS_URL, E2E_SOFTLAYER_URL, E2E_VPC_URL, E2E_LOGS_URL   Endpoints
//	KP_INSTANCE_ID       KMS.InstanceID (HPCS_INSTANCE_ID sets it and KMS.HPCS)
//	E2E_ROOT_KEY_ID, E2E_ROOT_KEY_NAME, E2E_ROOT_KEY_IMPORT_FILE
//	COS_INSTANCE_ID, E2E_BUCKET, E2E_OBJECT, E2E_COS_PATH_STYLE
//	E2E_IMAGE_NAME, E2E_IMAGE_OS, E2E_FORMAT
//	E2E_STATE_FILE, E2E_WORKERS
//	E2E_SERVER_NAME      Server.Hostname (any server variable creates Server)
//	E2E_VPC_ZONE, E2E_VPC_SUBNET_ID, E2E_VPC_ID, E2E_VPC_PROFILE, E2E_VPC_KEY_IDS (comma-separated),
//	E2E_VPC_RESOURCE_GROUP_ID, E2E_VPC_BOOT_KEY_CRN   the VPC instance's Server fields
func (c *Config) ApplyEnv(lookup func(string) (string, bool)) error {
	str := map[string]*string{
		"IBMCLOUD_API_KEY":  &c.APIKey,
		"IBMCLOUD_REGION":   &c.Region,
		"E2E_IAM_URL":       &c.Endpoints.IAM,
		"E2E_KMS_URL":       &c.Endpoints.KMS,
		"E2E_COS_URL":       &c.Endpoints.COS,
		"E2E_SOFTLAYER_URL": &c.Endpoints.SoftLayer,
		"E2E_VPC_URL":       &c.Endpoints.VPC,
		"E2E_LOGS_URL":      &c.Endpoints.Logs,
		"KP_INSTANCE_ID":    &c.KMS.InstanceID,
		"E2E_ROOT_KEY_ID":   &c.KMS.RootKeyID,
		"E2E_ROOT_KEY_NAME": &c.KMS.RootKeyName,
		"COS_INSTANCE_ID":   &c.COS.InstanceID,
		"E2E_BUCKET":        &c.COS.Bucket,
		"E2E_OBJECT":        &c.COS.Object,
		"E2E_IMAGE_NAME":    &c.Image.Name,
		"E2E_IMAGE_OS":      &c.Image.OS,
		"E2E_STATE_FILE":    &c.StateFile,
	}
	for name, p := range str {
		if v, ok := lookup(name); ok && v != "" {
			*p = v
		}
	}
	if v, ok := lookup("HPCS_INSTANCE_ID"); ok && v != "" {
		c.KMS.InstanceID, c.KMS.HPCS = v, true
	}
	if v, ok := lookup("E2E_ROOT_KEY_IMPORT_FILE"); ok && v != "" {
		b, err := os.ReadFile(v)
		if err != nil {
			return fmt.Errorf("e2e: E2E_ROOT_KEY_IMPORT_FILE: %w", err)
		}
		c.KMS.ImportPayload = b
	}
	if v, ok := lookup("E2E_COS_PATH_STYLE"); ok && v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("e2e: E2E_COS_PATH_STYLE=%q is not true or false", v)
		}
		c.COS.PathStyle = b
	}
	c.applyServerEnv(lookup)
	if v, ok := lookup("E2E_FORMAT"); ok && v != "" {
		c.Image.Format = Format(v)
	}
	if v, ok := lookup("E2E_WORKERS"); ok && v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return fmt.Errorf("e2e: E2E_WORKERS=%q is not a positive number", v)
		}
		c.Encrypt.Workers = n
	}
	return nil
}

// withDefaults returns the config with every empty field defaulted.
func (c Config) withDefaults() Config {
	if c.Region == "" {
		c.Region = "us-south"
	}
	e := &c.Endpoints
	if e.IAM == "" {
		e.IAM = "https://iam.cloud.ibm.com"
	}
	if e.KMS == "" {
		if c.KMS.HPCS {
			e.KMS = fmt.Sprintf("https://%s.api.%s.hs-crypto.appdomain.cloud", c.KMS.InstanceID, c.Region)
		} else {
			e.KMS = fmt.Sprintf("https://%s.kms.cloud.ibm.com", c.Region)
		}
	}
	if e.COS == "" {
		e.COS = fmt.Sprintf("https://s3.%s.cloud-object-storage.appdomain.cloud", c.Region)
	}
	if e.SoftLayer == "" {
		e.SoftLayer = "https://api.softlayer.com/rest/v3.1"
	}
	if e.VPC == "" {
		e.VPC = fmt.Sprintf("https://%s.iaas.cloud.ibm.com/v1", c.Region)
	}
	if c.Image.Format == "" {
		c.Image.Format = LUKSRaw
	}
	if c.COS.Object == "" && c.Image.Name != "" {
		c.COS.Object = defaultObjectName(c.Image.Name, c.Image.Format)
	}
	if c.KMS.RootKeyID == "" && c.KMS.RootKeyName == "" {
		c.KMS.RootKeyName = "e2e-image-root-key"
	}
	if c.Encrypt.IterTime == 0 {
		c.Encrypt.IterTime = Duration(2 * time.Second)
	}
	if c.StateFile == "" {
		c.StateFile = "e2e-state.json"
	}
	if s := c.Server; s != nil {
		s2 := *s // the caller's ServerConfig stays as it was
		s = &s2
		c.Server = s
		switch {
		case c.Image.Format.vpc():
			if s.Profile == "" {
				s.Profile = DefaultVPCProfile
			}
		default:
			if s.CPUs == 0 && s.Flavor == "" {
				s.CPUs = 1
			}
			if s.MemoryMB == 0 && s.Flavor == "" {
				s.MemoryMB = 2048
			}
		}
	}
	return c
}

// defaultObjectName follows the object names IBM's docs use per format
// (VHD imports expect "name.vhd-0.vhd").
func defaultObjectName(name string, f Format) string {
	switch f {
	case EncryptedVHD:
		return name + ".vhd-0.vhd"
	case QCOW2LUKS:
		return name + ".qcow2"
	default:
		return name + ".luks"
	}
}

// Validate reports every missing or inconsistent setting at once.
func (c Config) Validate() error {
	var errs []error
	miss := func(what string) { errs = append(errs, fmt.Errorf("%s is required", what)) }
	if c.APIKey == "" {
		miss("the API key (IBMCLOUD_API_KEY)")
	}
	if c.KMS.InstanceID == "" {
		miss("kms.instanceId (KP_INSTANCE_ID)")
	}
	// The region, bucket and object become the cos:// URI that the upload
	// names and the import reads; both check it with one parser, so it is
	// checked here with that parser, part by part, to name the setting.
	regionOK := true
	if c.Region != "" {
		if err := cosuri.ValidateRegion(c.Region); err != nil {
			errs = append(errs, fmt.Errorf("region (IBMCLOUD_REGION): %w", err))
			regionOK = false
		} else if !cloudRegion.MatchString(c.Region) {
			// COS also has cross-region ("us") and single-site ("ams03")
			// locations, but the region here also places the Key Protect
			// instance, the import (which wants the bucket in the key's
			// region) and VPC: all of them live in regions only.
			errs = append(errs, fmt.Errorf("region (IBMCLOUD_REGION): %q is a COS location but not a cloud region like us-south or eu-de; Key Protect, the image import and VPC need the bucket in a region", c.Region))
			regionOK = false
		}
	}
	if c.COS.Bucket == "" {
		miss("cos.bucket (E2E_BUCKET)")
	} else if err := storage.ValidateBucketName(c.COS.Bucket); err != nil {
		errs = append(errs, fmt.Errorf("cos.bucket: %w", err))
	} else if c.COS.Object != "" && regionOK {
		u := storage.URI{Region: c.Region, Bucket: c.COS.Bucket, Object: c.COS.Object}
		if c.Region == "" {
			u.Region = "us-south" // the default withDefaults sets
		}
		if err := u.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("cos.object: %w", err))
		}
	}
	if c.Image.Name == "" {
		miss("image.name (E2E_IMAGE_NAME)")
	}
	if c.Image.OS == "" {
		miss("image.os (E2E_IMAGE_OS)")
	}
	switch c.Image.Format {
	case "", LUKSRaw, EncryptedVHD, QCOW2LUKS:
	default:
		errs = append(errs, fmt.Errorf("image.format %q is not one of %q, %q, %q", c.Image.Format, LUKSRaw, EncryptedVHD, QCOW2LUKS))
	}
	errs = append(errs, c.validateServer()...)
	if c.Audit && c.Endpoints.Logs == "" {
		miss("endpoints.logs (E2E_LOGS_URL) when audit is on")
	}
	if len(errs) == 0 {
		return nil
	}
	return &ConfigError{Problems: errs}
}

// ConfigError lists what is wrong with a Config.
type ConfigError struct {
	Problems []error
}

func (e *ConfigError) Error() string {
	var b strings.Builder
	b.WriteString("e2e: invalid config: ")
	for i, p := range e.Problems {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(p.Error())
	}
	return b.String()
}

// GoString is String: %#v must not print the API key either.
func (c Config) GoString() string { return c.String() }

// Unwrap returns the individual problems.
func (e *ConfigError) Unwrap() []error { return e.Problems }

// String shows the config as JSON, with the API key and the server's
// user data redacted (cloud-init user data often carries passwords and
// tokens; provision.VPCInstanceRequest hides it too).
func (c Config) String() string {
	key := "unset"
	if c.APIKey != "" {
		key = "[redacted]"
	}
	if s := c.Server; s != nil {
		r := s.redacted() // c is a copy, but Server points at the caller's
		c.Server = &r
	}
	b, _ := json.Marshal(c) // APIKey is never marshalled
	return "apiKey=" + key + " " + string(b)
}

var errNoSource = errors.New("e2e: no source image")

// cloudRegion is an IBM Cloud region name (us-south, eu-de, jp-tok), as
// Key Protect, the classic import and VPC use them.
var cloudRegion = regexp.MustCompile(`^[a-z]{2}-[a-z]+$`)
