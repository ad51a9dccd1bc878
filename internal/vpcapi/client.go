package vpcapi

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/IBM/go-sdk-core/v5/core"
	"github.com/IBM/vpc-go-sdk/vpcv1"

	"github.com/e2eimage/e2e/internal/slsession"
)

// Config is what image's and provision's VPCConfig share; New fills in
// the defaults they document.
type Config struct {
	Endpoint      string // default https://<Region>.iaas.cloud.ibm.com/v1
	Region        string // default "us-south"
	Authenticator core.Authenticator
	HTTPClient    *http.Client // default go-sdk-core's
	Retries       int          // default 3; negative: none
	RetryWait     time.Duration
	// WrapTransport, when set, wraps the transport of a copy of the HTTP
	// client (provision sends creates at most once through it).
	WrapTransport func(http.RoundTripper) http.RoundTripper
}

var regionPattern = regexp.MustCompile(`^[a-z]{2}-[a-z]+$`)

// New checks cfg, fills in its defaults and returns a vpcv1 client for
// it. No request is made. Errors wrap slsession.ErrConfig (image's and
// provision's ErrConfig).
func New(cfg *Config) (*vpcv1.VpcV1, error) {
	if cfg.Authenticator == nil {
		return nil, fmt.Errorf("%w: VPCConfig.Authenticator is required", slsession.ErrConfig)
	}
	// An IAM authenticator without a key is a config error, not a failure
	// at the first call.
	if err := cfg.Authenticator.Validate(); err != nil {
		return nil, fmt.Errorf("%w: VPCConfig.Authenticator: %v", slsession.ErrConfig, err)
	}
	if cfg.Region == "" {
		cfg.Region = "us-south"
	}
	if !regionPattern.MatchString(cfg.Region) {
		return nil, fmt.Errorf("%w: region %q is not a region name like us-south", slsession.ErrConfig, cfg.Region)
	}
	if cfg.Endpoint == "" {
		cfg.Endpoint = "https://" + cfg.Region + ".iaas.cloud.ibm.com/v1"
	}
	if !strings.HasPrefix(cfg.Endpoint, "https://") && !strings.HasPrefix(cfg.Endpoint, "http://") {
		return nil, fmt.Errorf("%w: endpoint %q is not an http(s) URL", slsession.ErrConfig, cfg.Endpoint)
	}
	switch {
	case cfg.Retries == 0:
		cfg.Retries = 3
	case cfg.Retries < 0:
		cfg.Retries = 0
	}
	if cfg.RetryWait <= 0 {
		cfg.RetryWait = time.Second
	}
	// NewVpcV1 validates its options by reflection, reading every field
	// of the authenticator, which races with a shared authenticator in use
	// by another client: construct with a stand-in, then set the real one.
	v, err := vpcv1.NewVpcV1(&vpcv1.VpcV1Options{URL: strings.TrimSuffix(cfg.Endpoint, "/"), Authenticator: &core.NoAuthAuthenticator{}})
	if err != nil {
		return nil, fmt.Errorf("%w: %v", slsession.ErrConfig, err)
	}
	v.Service.Options.Authenticator = cfg.Authenticator
	hc := cfg.HTTPClient
	if cfg.WrapTransport != nil {
		if hc == nil {
			hc = v.Service.GetHTTPClient()
		}
		cp := *hc
		cp.Transport = cfg.WrapTransport(hc.Transport)
		hc = &cp
	}
	if hc != nil {
		v.Service.SetHTTPClient(hc)
	}
	return v, nil
}
