package image

// VPC custom images with the official vpcv1 client: import an encrypted
// qcow2 (qcow2+LUKS) from Cloud Object Storage, get, delete. Waiting is in
// vpc_wait.go, errors in vpc_errors.go.

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/IBM/go-sdk-core/v5/core"
	"github.com/IBM/vpc-go-sdk/vpcv1"

	"github.com/e2eimage/e2e/internal/vpcapi"
)

// VPCConfig configures a VPCClient. Authenticator is required.
type VPCConfig struct {
	// Endpoint is the VPC API URL, ending in /v1. The default is
	// https://<Region>.iaas.cloud.ibm.com/v1; e2etest serves it at Cloud.VPCURL.
	Endpoint string
	// Region is the region the images live in. The default is "us-south".
	Region string
	// Authenticator authenticates every call, e.g. the run's iam.TokenSource
	// or a core.IamAuthenticator. Required.
	Authenticator core.Authenticator
	// HTTPClient carries the requests. The default is go-sdk-core's client
	// (30 s timeout).
	HTTPClient *http.Client
	// Retries is how many times Get and Delete are retried after a rate
	// limit, a 5xx or a transport error. CreateImage is never retried: a
	// retry could import twice. The default is 3; a negative value disables retries.
	Retries int
	// RetryWait is the first wait before a retry; it doubles each time. The
	// default is one second.
	RetryWait time.Duration
}

// VPCClient imports and manages VPC custom images. It is safe for concurrent use.
type VPCClient struct {
	vpc       *vpcv1.VpcV1
	region    string
	retries   int
	retryWait time.Duration
}

// NewVPCClient checks cfg and returns a VPCClient. No request is made.
func NewVPCClient(cfg VPCConfig) (*VPCClient, error) {
	api := vpcapi.Config{Endpoint: cfg.Endpoint, Region: cfg.Region, Authenticator: cfg.Authenticator,
		HTTPClient: cfg.HTTPClient, Retries: cfg.Retries, RetryWait: cfg.RetryWait}
	v, err := vpcapi.New(&api)
	if err != nil {
		return nil, err
	}
	return &VPCClient{vpc: v, region: api.Region, retries: api.Retries, retryWait: api.RetryWait}, nil
}

// VPCImportRequest describes an encrypted qcow2 image in COS to import as
// a VPC custom image.
type VPCImportRequest struct {
	// Name of the image (required): 1 to 63 lowercase letters, digits and
	// dashes, starting with a letter and not ending with a dash; unique in the region.
	Name string
	// URI is the object, cos://<region>/<bucket>/<object>.qcow2 (required).
	URI string
	// OSName is the VPC operating system name, e.g. "ubuntu-24-04-amd64" (required).
	OSName string
	// RootKeyCRN is the Key Protect or HPCS root key that wraps the
	// passphrase, and WrappedDEK the WDEK as Key Protect returns it
	// (base64). Both are required. Key Protect must have wrapped the
	// passphrase text itself: keys.NewPassphraseDEK makes such a DEK.
	RootKeyCRN string
	WrappedDEK string
	// ResourceGroupID is the resource group of the image. The default is
	// the account's default group.
	ResourceGroupID string
}

// VPCImage is a VPC custom image.
type VPCImage struct {
	ID, CRN, Name string
	// Status is "pending" while importing, then "available" or "failed"
	// (also "deleting", "deprecated", "obsolete", "unusable", …).
	Status        string
	StatusReasons []VPCStatusReason
	// Encryption is "user_managed" for an image encrypted with a customer
	// root key, else "none"; EncryptionKeyCRN names that key.
	Encryption       string
	EncryptionKeyCRN string
	OSName           string
	// MinimumProvisionedSize is the smallest boot volume in GB; 0 until available.
	MinimumProvisionedSize int64
	CreatedAt              time.Time
}

// VPCStatusReason is one reason for an image's status, e.g.
// "encrypted_data_key_invalid": Code, Message and MoreInfo. It is
// provision.VPCStatusReason too.
type VPCStatusReason = vpcapi.StatusReason

// VPC image statuses.
const (
	VPCStatusPending   = vpcv1.ImageStatusPendingConst
	VPCStatusAvailable = vpcv1.ImageStatusAvailableConst
	VPCStatusFailed    = vpcv1.ImageStatusFailedConst
)

// Available reports whether instances can be created from the image.
func (im *VPCImage) Available() bool {
	return im.Status == vpcv1.ImageStatusAvailableConst || im.Status == vpcv1.ImageStatusDeprecatedConst
}

// Failed reports whether the image cannot become available any more.
func (im *VPCImage) Failed() bool {
	switch im.Status {
	case vpcv1.ImageStatusFailedConst, vpcv1.ImageStatusUnusableConst, vpcv1.ImageStatusDeletingConst, vpcv1.ImageStatusObsoleteConst:
		return true
	}
	return false
}

var vpcOSPattern = regexp.MustCompile(`^[a-z][-a-z0-9]*-(amd64|s390x|arm64)$`)

// validate checks what the VPC API would refuse, before any call.
func (r *VPCImportRequest) validate() error {
	if p := vpcapi.NameProblem(r.Name); p != "" {
		return invalid("Name", "%s", p)
	}
	switch {
	case r.OSName == "":
		return invalid("OSName", "is required (e.g. ubuntu-24-04-amd64)")
	case !vpcOSPattern.MatchString(r.OSName):
		return invalid("OSName", "%q is not a VPC operating system name like ubuntu-24-04-amd64", r.OSName)
	}
	u, err := ParseCOSURI(r.URI)
	if err != nil {
		return err
	}
	if !strings.HasSuffix(strings.ToLower(u.Object), ".qcow2") {
		return invalid("URI", "object %q must be a .qcow2 file: VPC imports encrypted images as qcow2 with LUKS encryption", u.Object)
	}
	keyRegion := ""
	if p := strings.Split(r.RootKeyCRN, ":"); len(p) == 10 {
		keyRegion = p[5] // VPC does not require the key in the bucket's region
	}
	if err := checkKeyCRN(r.RootKeyCRN, keyRegion); err != nil {
		return err
	}
	if r.WrappedDEK == "" {
		return invalid("WrappedDEK", "is required")
	}
	if _, err := base64.StdEncoding.DecodeString(r.WrappedDEK); err != nil {
		return invalid("WrappedDEK", "is not base64 as Key Protect returns it")
	}
	return nil
}

// ImportEncrypted validates req and starts importing an encrypted qcow2
// image (CreateImage with the WDEK and the root key). The call is never
// retried: after ErrTransport or a 5xx the image may exist, so look for it
// with List(ctx, req.Name) before importing again (names are unique in a
// region: a second import of the same name fails with ErrNameTaken). The
// returned image is pending: Wait for it.
func (c *VPCClient) ImportEncrypted(ctx context.Context, req VPCImportRequest) (*VPCImage, error) {
	if err := req.validate(); err != nil {
		return nil, err
	}
	proto := &vpcv1.ImagePrototypeImageByFile{
		Name:             core.StringPtr(req.Name),
		File:             &vpcv1.ImageFilePrototype{Href: core.StringPtr(req.URI)},
		OperatingSystem:  &vpcv1.OperatingSystemIdentityByName{Name: core.StringPtr(req.OSName)},
		EncryptedDataKey: core.StringPtr(req.WrappedDEK),
		EncryptionKey:    &vpcv1.EncryptionKeyIdentityByCRN{CRN: core.StringPtr(req.RootKeyCRN)},
	}
	if req.ResourceGroupID != "" {
		proto.ResourceGroup = &vpcv1.ResourceGroupIdentityByID{ID: core.StringPtr(req.ResourceGroupID)}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	im, resp, err := c.vpc.CreateImageWithContext(ctx, c.vpc.NewCreateImageOptions(proto))
	if err != nil {
		return nil, vpcError(ctx, "CreateImage", resp, err)
	}
	return fromVPCImage(im)
}

// Get returns an image by ID. ErrNotFound when there is none.
func (c *VPCClient) Get(ctx context.Context, id string) (*VPCImage, error) {
	if id == "" {
		return nil, invalid("ID", "is required")
	}
	var out *VPCImage
	err := c.retry(ctx, func() error {
		im, resp, err := c.vpc.GetImageWithContext(ctx, c.vpc.NewGetImageOptions(id))
		if err != nil {
			return vpcError(ctx, "GetImage", resp, err)
		}
		out, err = fromVPCImage(im)
		return err
	})
	return out, err
}

// List returns the account's private images, oldest first, following
// pagination; a non-empty name keeps only the image of that name.
func (c *VPCClient) List(ctx context.Context, name string) ([]VPCImage, error) {
	opts := &vpcv1.ListImagesOptions{Visibility: core.StringPtr(vpcv1.ListImagesOptionsVisibilityPrivateConst), Limit: core.Int64Ptr(100)}
	if name != "" {
		opts.Name = core.StringPtr(name)
	}
	var out []VPCImage
	for {
		var page *vpcv1.ImageCollection
		err := c.retry(ctx, func() error {
			var resp *core.DetailedResponse
			var err error
			if page, resp, err = c.vpc.ListImagesWithContext(ctx, opts); err != nil {
				return vpcError(ctx, "ListImages", resp, err)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		for i := range page.Images {
			im, err := fromVPCImage(&page.Images[i])
			if err != nil {
				return nil, err
			}
			out = append(out, *im)
		}
		if page.Next == nil || page.Next.Href == nil {
			return out, nil
		}
		next, err := core.GetQueryParam(page.Next.Href, "start")
		if err != nil || next == nil || *next == "" || (opts.Start != nil && *next == *opts.Start) {
			return nil, fmt.Errorf("%w: ListImages: a next page without a usable start token", ErrUnexpectedResponse)
		}
		opts.Start = next
	}
}

// Delete deletes an image. ErrNotFound when there is none; a retry answered
// not found after a try whose answer was lost counts as deleted.
func (c *VPCClient) Delete(ctx context.Context, id string) error {
	if id == "" {
		return invalid("ID", "is required")
	}
	return vpcapi.RetryDelete(ctx, c.retries, c.retryWait, ErrNotFound, func() error {
		resp, err := c.vpc.DeleteImageWithContext(ctx, c.vpc.NewDeleteImageOptions(id))
		if err != nil {
			return vpcError(ctx, "DeleteImage", resp, err)
		}
		return nil
	})
}

// retry calls f until it succeeds, fails permanently, or c.retries retries
// of temporary failures have been spent.
func (c *VPCClient) retry(ctx context.Context, f func() error) error {
	return vpcapi.Retry(ctx, c.retries, c.retryWait, f)
}

func fromVPCImage(im *vpcv1.Image) (*VPCImage, error) {
	if im == nil || im.ID == nil || im.Status == nil {
		return nil, fmt.Errorf("%w: the VPC API answered without an image id or status", ErrUnexpectedResponse)
	}
	out := &VPCImage{ID: *im.ID, CRN: deref(im.CRN), Name: deref(im.Name), Status: *im.Status,
		Encryption: deref(im.Encryption), MinimumProvisionedSize: deref(im.MinimumProvisionedSize)}
	if im.EncryptionKey != nil {
		out.EncryptionKeyCRN = deref(im.EncryptionKey.CRN)
	}
	if im.OperatingSystem != nil {
		out.OSName = deref(im.OperatingSystem.Name)
	}
	if im.CreatedAt != nil {
		out.CreatedAt = time.Time(*im.CreatedAt)
	}
	for _, r := range im.StatusReasons {
		out.StatusReasons = append(out.StatusReasons, VPCStatusReason{Code: deref(r.Code), Message: deref(r.Message), MoreInfo: deref(r.MoreInfo)})
	}
	return out, nil
}
