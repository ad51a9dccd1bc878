package provision

// VPC virtual server instances with the official vpcv1 client: create one
// from a (custom, possibly encrypted) image, get, find by name, delete.
// Waiting is in vpc_wait.go, errors in vpc_errors.go.

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/IBM/go-sdk-core/v5/core"
	"github.com/IBM/vpc-go-sdk/vpcv1"

	"github.com/e2eimage/e2e/internal/once"
	"github.com/e2eimage/e2e/internal/retryafter"
	"github.com/e2eimage/e2e/internal/vpcapi"
)

// VPCConfig configures a VPCClient. Authenticator is required.
type VPCConfig struct {
	// Endpoint is the VPC API URL, ending in /v1. The default is
	// https://<Region>.iaas.cloud.ibm.com/v1; e2etest serves it at Cloud.VPCURL.
	Endpoint string
	// Region is the region of the instances; zones are <Region>-1 to -3.
	// The default is "us-south".
	Region string
	// Authenticator authenticates every call, e.g. the run's iam.TokenSource
	// or a core.IamAuthenticator. Required.
	Authenticator core.Authenticator
	// HTTPClient carries the requests. The default is go-sdk-core's client
	// (30 s timeout).
	HTTPClient *http.Client
	// Retries is how many times Get, Find and Delete are retried after a
	// rate limit, a 5xx or a transport error. CreateInstance is never
	// resent. The default is 3; a negative value disables retries.
	Retries int
	// RetryWait is the first wait before a retry; it doubles each time. The
	// default is one second.
	RetryWait time.Duration
	// FindTimeout bounds how long CreateInstance looks for the instance by
	// name after its create call got no usable answer. The default is two minutes.
	FindTimeout time.Duration
}

// VPCClient creates and manages VPC virtual server instances. It is safe
// for concurrent use.
type VPCClient struct {
	vpc         *vpcv1.VpcV1
	region      string
	retries     int
	retryWait   time.Duration
	findTimeout time.Duration
}

// NewVPCClient checks cfg and returns a VPCClient. No request is made.
func NewVPCClient(cfg VPCConfig) (*VPCClient, error) {
	api := vpcapi.Config{Endpoint: cfg.Endpoint, Region: cfg.Region, Authenticator: cfg.Authenticator,
		HTTPClient: cfg.HTTPClient, Retries: cfg.Retries, RetryWait: cfg.RetryWait,
		// A copy whose transport sends a marked create at most once, even under
		// a retrying client (go-sdk-core's EnableRetries retries POSTs too).
		WrapTransport: once.Transport}
	v, err := vpcapi.New(&api)
	if err != nil {
		return nil, err
	}
	if cfg.FindTimeout <= 0 {
		cfg.FindTimeout = 2 * time.Minute
	}
	return &VPCClient{vpc: v, region: api.Region, retries: api.Retries, retryWait: api.RetryWait, findTimeout: cfg.FindTimeout}, nil
}

// VPCInstanceRequest describes one VPC virtual server instance to create
// from an image.
type VPCInstanceRequest struct {
	// Name of the instance (required): 1 to 63 lowercase letters, digits and
	// dashes, starting with a letter and not ending with a dash. Names are
	// unique in a region, which is how a rerun finds the instance.
	Name string
	// ImageID is the image to boot, e.g. an encrypted custom image (required).
	ImageID string
	// Profile is the instance profile, e.g. "bx2-2x8" (required).
	Profile string
	// Zone is a zone of the client's region, e.g. "us-south-1" (required).
	Zone string
	// SubnetID is the subnet of the primary network interface, in Zone (required).
	SubnetID string
	// VPCID is the VPC of the instance. The default is the subnet's VPC.
	VPCID string
	// KeyIDs are VPC SSH key IDs to install. The default is none.
	KeyIDs []string
	// ResourceGroupID is the resource group of the instance. The default is
	// the account's default group.
	ResourceGroupID string
	// BootVolumeEncryptionKeyCRN is the Key Protect or HPCS root key that
	// protects the boot volume. The default is the image's key for an
	// encrypted image (as IBM does), an IBM-managed key otherwise. Cloud
	// Block Storage (server-protect) needs a Reader authorization on the
	// key's instance.
	BootVolumeEncryptionKeyCRN string
	// BootVolumeProfile is the boot volume's storage profile. The default
	// is "general-purpose".
	BootVolumeProfile string
	// UserData is passed to cloud-init; at most 64 KiB. It is never printed.
	UserData string
}

var (
	vpcIDPattern      = regexp.MustCompile(`^[-0-9a-zA-Z_]{1,64}$`)
	vpcProfilePattern = regexp.MustCompile(`^[a-z]+[0-9]+[a-z]*-[0-9]+x[0-9]+(x[0-9a-z]+)?$`)
	vpcVolumeProfile  = regexp.MustCompile(`^[a-z0-9][-a-z0-9]*[a-z0-9]$`)
)

// Validate checks, without any call, what the VPC API would refuse for an
// instance in region (e.g. "us-south"): a *ValidationError naming the field.
// CreateInstance validates too; Validate is for checking a plan early.
func (r *VPCInstanceRequest) Validate(region string) error {
	id := func(field, v string, required bool) error {
		switch {
		case v == "" && required:
			return invalid(field, "is required")
		case v != "" && !vpcIDPattern.MatchString(v):
			return invalid(field, "%q is not a VPC resource ID", v)
		}
		return nil
	}
	if p := vpcapi.NameProblem(r.Name); p != "" {
		return invalid("Name", "%s", p)
	}
	if err := id("ImageID", r.ImageID, true); err != nil {
		return err
	}
	switch {
	case r.Profile == "":
		return invalid("Profile", "is required (e.g. bx2-2x8)")
	case !vpcProfilePattern.MatchString(r.Profile):
		return invalid("Profile", "%q is not an instance profile name like bx2-2x8", r.Profile)
	case r.Zone == "":
		return invalid("Zone", "is required (e.g. %s-1)", region)
	case !strings.HasPrefix(r.Zone, region+"-") || len(r.Zone) != len(region)+2 || r.Zone[len(r.Zone)-1] < '1' || r.Zone[len(r.Zone)-1] > '9':
		return invalid("Zone", "%q is not a zone of region %s (e.g. %s-1)", r.Zone, region, region)
	}
	if err := id("SubnetID", r.SubnetID, true); err != nil {
		return err
	}
	if err := id("VPCID", r.VPCID, false); err != nil {
		return err
	}
	if err := id("ResourceGroupID", r.ResourceGroupID, false); err != nil {
		return err
	}
	for _, k := range r.KeyIDs {
		if err := id("KeyIDs", k, true); err != nil {
			return err
		}
	}
	if r.BootVolumeEncryptionKeyCRN != "" {
		if err := checkRootKeyCRN(r.BootVolumeEncryptionKeyCRN); err != nil {
			return err
		}
	}
	if r.BootVolumeProfile != "" && !vpcVolumeProfile.MatchString(r.BootVolumeProfile) {
		return invalid("BootVolumeProfile", "%q is not a volume profile name like general-purpose", r.BootVolumeProfile)
	}
	if len(r.UserData) > 64<<10 {
		return invalid("UserData", "is %d bytes; at most 64 KiB", len(r.UserData))
	}
	return nil
}

// checkRootKeyCRN checks crn:v1:<cloud>:<type>:<kms|hs-crypto>:<region>:a/<account>:<instance>:key:<id>.
func checkRootKeyCRN(crn string) error {
	p := strings.Split(crn, ":")
	switch {
	case len(p) != 10 || p[0] != "crn" || p[1] != "v1" || p[8] != "key":
		return invalid("BootVolumeEncryptionKeyCRN", "%q is not a root key CRN (crn:v1:bluemix:public:kms:<region>:a/<account>:<instance>:key:<id>)", crn)
	case p[4] != "kms" && p[4] != "hs-crypto":
		return invalid("BootVolumeEncryptionKeyCRN", "names service %q, not kms or hs-crypto", p[4])
	case p[5] == "" || !strings.HasPrefix(p[6], "a/") || len(p[6]) < 3 || p[7] == "" || p[9] == "":
		return invalid("BootVolumeEncryptionKeyCRN", "%q lacks a region, account, instance or key ID", crn)
	}
	return nil
}

// prototype is r as vpcv1's InstancePrototypeInstanceByImage.
func (r *VPCInstanceRequest) prototype() *vpcv1.InstancePrototypeInstanceByImage {
	p := &vpcv1.InstancePrototypeInstanceByImage{
		Name:    core.StringPtr(r.Name),
		Image:   &vpcv1.ImageIdentityByID{ID: core.StringPtr(r.ImageID)},
		Profile: &vpcv1.InstanceProfileIdentityByName{Name: core.StringPtr(r.Profile)},
		Zone:    &vpcv1.ZoneIdentityByName{Name: core.StringPtr(r.Zone)},
		PrimaryNetworkInterface: &vpcv1.NetworkInterfacePrototype{
			Name:   core.StringPtr("eth0"),
			Subnet: &vpcv1.SubnetIdentityByID{ID: core.StringPtr(r.SubnetID)},
		},
	}
	if r.VPCID != "" {
		p.VPC = &vpcv1.VPCIdentityByID{ID: core.StringPtr(r.VPCID)}
	}
	for _, k := range r.KeyIDs {
		p.Keys = append(p.Keys, &vpcv1.KeyIdentityByID{ID: core.StringPtr(k)})
	}
	if r.ResourceGroupID != "" {
		p.ResourceGroup = &vpcv1.ResourceGroupIdentityByID{ID: core.StringPtr(r.ResourceGroupID)}
	}
	if r.UserData != "" {
		p.UserData = core.StringPtr(r.UserData)
	}
	if r.BootVolumeEncryptionKeyCRN != "" || r.BootVolumeProfile != "" {
		profile := r.BootVolumeProfile
		if profile == "" {
			profile = "general-purpose"
		}
		vol := &vpcv1.VolumePrototypeInstanceByImageContext{Profile: &vpcv1.VolumeProfileIdentityByName{Name: core.StringPtr(profile)}}
		if r.BootVolumeEncryptionKeyCRN != "" {
			vol.EncryptionKey = &vpcv1.EncryptionKeyIdentityByCRN{CRN: core.StringPtr(r.BootVolumeEncryptionKeyCRN)}
		}
		p.BootVolumeAttachment = &vpcv1.VolumeAttachmentPrototypeInstanceByImageContext{
			DeleteVolumeOnInstanceDelete: core.BoolPtr(true), Volume: vol,
		}
	}
	return p
}

// VPCInstance is a VPC virtual server instance.
type VPCInstance struct {
	ID, CRN, Name string
	// Status is "pending", "starting", then "running"; or "failed",
	// "stopped", "deleting", … (vpcv1.InstanceStatus*Const).
	Status        string
	StatusReasons []VPCStatusReason
	ImageID       string
	Profile       string
	Zone          string
	VPCID         string
	SubnetID      string
	PrimaryIP     string // the primary network interface's private address
	BootVolumeID  string
	VCPUs         int64
	MemoryGB      int64
	CreatedAt     time.Time
}

// VPCStatusReason is one reason for an instance's status, e.g.
// "encryption_key_deleted" or "cannot_start_storage": Code, Message and
// MoreInfo. It is image.VPCStatusReason too.
type VPCStatusReason = vpcapi.StatusReason

// Running reports whether the instance is running.
func (in *VPCInstance) Running() bool { return in.Status == vpcv1.InstanceStatusRunningConst }

// Failed reports whether the instance cannot become running by itself.
func (in *VPCInstance) Failed() bool {
	switch in.Status {
	case vpcv1.InstanceStatusFailedConst, vpcv1.InstanceStatusStoppedConst, vpcv1.InstanceStatusDeletingConst:
		return true
	}
	return false
}

// CreateInstance validates req and creates the instance, unless a rerun
// finds it by name already created from the same image in the same zone,
// and returns it (usually pending: WaitRunning for it).
//
// The create call is sent once and never resent: when its answer is lost
// (a transport error, a 5xx, a body cut short) the instance may exist, so
// CreateInstance looks for it by name for up to FindTimeout; if it does not
// show up the error wraps ErrOutcomeUnknown and rerunning CreateInstance
// with the same request is safe. An instance of that name from another
// image or zone, or one being deleted, gives ErrNameTaken. Reruns are
// sequential: two concurrent calls may both find nothing.
func (c *VPCClient) CreateInstance(ctx context.Context, req VPCInstanceRequest) (*VPCInstance, error) {
	if err := req.Validate(c.region); err != nil {
		return nil, err
	}
	if in, found, err := c.FindInstance(ctx, req.Name); err != nil {
		return nil, err
	} else if found {
		return in, req.owns(in)
	}
	cctx, guard, stop := once.Start(ctx)
	out, resp, err := c.vpc.CreateInstanceWithContext(cctx, c.vpc.NewCreateInstanceOptions(req.prototype()))
	_, lost := guard.Ambiguous()
	stop()
	if err == nil {
		return fromVPCInstance(out)
	}
	if ctx.Err() != nil {
		return nil, fmt.Errorf("%w: vpc CreateInstance %s interrupted: %w", ErrOutcomeUnknown, req.Name, ctx.Err())
	}
	err = vpcError(ctx, "CreateInstance", resp, err)
	var ae *VPCAPIError
	switch {
	case lost, errors.As(err, &ae) && ae.Ambiguous():
	case errors.Is(err, ErrNameTaken): // created meanwhile, by a rerun or another caller
	default:
		return nil, err // refused: nothing was created
	}
	in, ferr := c.awaitInstance(ctx, req.Name)
	if ferr != nil {
		return nil, fmt.Errorf("%w: vpc CreateInstance %s failed (%w) and the instance was not found: %w", ErrOutcomeUnknown, req.Name, err, ferr)
	}
	return in, req.owns(in)
}

// owns reports (as an error) whether in is what r creates.
func (r *VPCInstanceRequest) owns(in *VPCInstance) error {
	switch {
	case in.Status == vpcv1.InstanceStatusDeletingConst:
		return fmt.Errorf("%w: instance %s named %q is being deleted", ErrNameTaken, in.ID, in.Name)
	case in.ImageID != r.ImageID || in.Zone != r.Zone:
		return fmt.Errorf("%w: instance %s named %q runs image %s in %s, not image %s in %s",
			ErrNameTaken, in.ID, in.Name, in.ImageID, in.Zone, r.ImageID, r.Zone)
	}
	return nil
}

// awaitInstance polls FindInstance until the instance of name shows up.
func (c *VPCClient) awaitInstance(ctx context.Context, name string) (*VPCInstance, error) {
	ctx, cancel := context.WithTimeout(ctx, c.findTimeout)
	defer cancel()
	wait := c.retryWait
	for {
		in, found, err := c.FindInstance(ctx, name)
		if err == nil && found {
			return in, nil
		}
		var ae *VPCAPIError
		if err != nil && (!errors.As(err, &ae) || !ae.Temporary()) {
			return nil, err
		}
		if err == nil {
			err = fmt.Errorf("no instance named %q", name)
		}
		if cerr := retryafter.Sleep(ctx, wait); cerr != nil {
			return nil, fmt.Errorf("%w (last: %w)", cerr, err)
		}
		wait = min(wait*2, 15*time.Second)
	}
}

// GetInstance returns an instance by ID; ErrNotFound when there is none.
func (c *VPCClient) GetInstance(ctx context.Context, id string) (*VPCInstance, error) {
	if err := checkID(id); err != nil {
		return nil, err
	}
	var out *VPCInstance
	err := c.retry(ctx, func() error {
		in, resp, err := c.vpc.GetInstanceWithContext(ctx, c.vpc.NewGetInstanceOptions(id))
		if err != nil {
			return vpcError(ctx, "GetInstance", resp, err)
		}
		out, err = fromVPCInstance(in)
		return err
	})
	return out, err
}

// FindInstance returns the instance of that name in the region, if any.
func (c *VPCClient) FindInstance(ctx context.Context, name string) (*VPCInstance, bool, error) {
	if vpcapi.NameProblem(name) != "" {
		return nil, false, invalid("Name", "%q is not a VPC instance name", name)
	}
	var page *vpcv1.InstanceCollection
	err := c.retry(ctx, func() error {
		var resp *core.DetailedResponse
		var err error
		opts := &vpcv1.ListInstancesOptions{Name: core.StringPtr(name), Limit: core.Int64Ptr(10)}
		if page, resp, err = c.vpc.ListInstancesWithContext(ctx, opts); err != nil {
			return vpcError(ctx, "ListInstances", resp, err)
		}
		return nil
	})
	if err != nil {
		return nil, false, err
	}
	for i := range page.Instances {
		if in := &page.Instances[i]; in.Name != nil && *in.Name == name { // the filter is a request, not a guarantee
			out, err := fromVPCInstance(in)
			return out, err == nil, err
		}
	}
	return nil, false, nil
}

// DeleteInstance deletes an instance (it shows as deleting for a while).
// An instance that does not exist gives an error wrapping ErrNotFound,
// unless an earlier attempt of this call failed temporarily (it may have
// deleted it).
func (c *VPCClient) DeleteInstance(ctx context.Context, id string) error {
	if err := checkID(id); err != nil {
		return err
	}
	return vpcapi.RetryDelete(ctx, c.retries, c.retryWait, ErrNotFound, func() error {
		resp, err := c.vpc.DeleteInstanceWithContext(ctx, c.vpc.NewDeleteInstanceOptions(id))
		if err != nil {
			return vpcError(ctx, "DeleteInstance", resp, err)
		}
		return nil
	})
}

func checkID(id string) error {
	if !vpcIDPattern.MatchString(id) {
		return invalid("ID", "%q is not a VPC instance ID", id)
	}
	return nil
}

// retry calls f until it succeeds, fails permanently, or c.retries retries
// of temporary failures have been spent.
func (c *VPCClient) retry(ctx context.Context, f func() error) error {
	return vpcapi.Retry(ctx, c.retries, c.retryWait, f)
}

func fromVPCInstance(in *vpcv1.Instance) (*VPCInstance, error) {
	if in == nil || in.ID == nil || in.Status == nil {
		return nil, fmt.Errorf("%w: the VPC API answered without an instance id or status", ErrUnexpectedResponse)
	}
	out := &VPCInstance{ID: *in.ID, CRN: deref(in.CRN), Name: deref(in.Name), Status: *in.Status, MemoryGB: deref(in.Memory)}
	if in.Image != nil {
		out.ImageID = deref(in.Image.ID)
	}
	if in.Profile != nil {
		out.Profile = deref(in.Profile.Name)
	}
	if in.Zone != nil {
		out.Zone = deref(in.Zone.Name)
	}
	if in.VPC != nil {
		out.VPCID = deref(in.VPC.ID)
	}
	if in.Vcpu != nil {
		out.VCPUs = deref(in.Vcpu.Count)
	}
	if nic := in.PrimaryNetworkInterface; nic != nil {
		if nic.Subnet != nil {
			out.SubnetID = deref(nic.Subnet.ID)
		}
		if nic.PrimaryIP != nil {
			out.PrimaryIP = deref(nic.PrimaryIP.Address)
		}
	}
	if bv := in.BootVolumeAttachment; bv != nil && bv.Volume != nil {
		out.BootVolumeID = deref(bv.Volume.ID)
	}
	if in.CreatedAt != nil {
		out.CreatedAt = time.Time(*in.CreatedAt)
	}
	for _, r := range in.StatusReasons {
		out.StatusReasons = append(out.StatusReasons, VPCStatusReason{Code: deref(r.Code), Message: deref(r.Message), MoreInfo: deref(r.MoreInfo)})
	}
	return out, nil
}
