package e2etest

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Options configure a Cloud. The zero value is ready to use.
type Options struct {
	// Region is the region every emulated service pretends to live in.
	// The default is "us-south".
	Region string
	// TokenLifetime is how long IAM access tokens stay valid.
	// The default is one hour, as on IBM Cloud.
	TokenLifetime time.Duration
	// TimeScale multiplies the durations of long-running work (image imports,
	// server provisioning) that IBM Cloud measures in minutes. The default is
	// 0.001: a ten-minute import takes 600 ms.
	TimeScale float64
}

// Service names an emulated service, for fault injection and inspection.
type Service string

// The emulated services.
const (
	ServiceIAM       Service = "iam"       // token, policy management and identity APIs
	ServiceKMS       Service = "kms"       // Key Protect and Hyper Protect Crypto Services
	ServiceCOS       Service = "cos"       // Cloud Object Storage (S3 API)
	ServiceSoftLayer Service = "softlayer" // classic infrastructure REST API
	ServiceLogs      Service = "logs"      // IBM Cloud Logs query API
	ServiceVPC       Service = "vpc"       // VPC infrastructure API (/v1/images, /v1/instances)
)

// Cloud is a running emulated IBM Cloud: loopback HTTP servers for every
// service of the encrypted-image workflow, sharing one account, one IAM and
// one audit trail. Create it with Start and stop it with Close. All methods
// are safe for concurrent use.
type Cloud struct {
	// Region is the region of every service (e.g. "us-south").
	Region string
	// AccountID is the ID of the one account the cloud holds.
	AccountID string
	// APIKey is an IBM Cloud API key of the account owner; exchange it for a
	// token at IAMURL.
	APIKey string
	// Username is the classic infrastructure user name of the account owner;
	// with APIKey it authenticates SoftLayer calls the classic way.
	Username string

	// IAMURL is the IAM endpoint: tokens at /identity/token and /oidc/token,
	// policy management at /v1/policies and /v2/policies, identity at
	// /v1/serviceids and /v1/apikeys.
	IAMURL string
	// KMSURL is the Key Protect endpoint (the API lives under /api/v2).
	KMSURL string
	// KPInstanceID is the GUID of the Key Protect instance (bluemix-instance header).
	KPInstanceID string
	// HPCSInstanceID is the GUID of a Hyper Protect Crypto Services instance,
	// served at KMSURL as well; its CRNs name the hs-crypto service.
	HPCSInstanceID string
	// COSURL is the Cloud Object Storage S3 endpoint (path-style).
	COSURL string
	// COSInstanceID is the service instance ID of the COS instance
	// (ibm-service-instance-id header).
	COSInstanceID string
	// HMACAccessKeyID and HMACSecretAccessKey are HMAC credentials of the
	// COS instance.
	HMACAccessKeyID     string
	HMACSecretAccessKey string
	// SoftLayerURL is the SoftLayer REST endpoint, ending in /rest/v3.1.
	SoftLayerURL string
	// LogsURL is the IBM Cloud Logs instance endpoint (/v1/query).
	LogsURL string
	// VPCURL is the VPC infrastructure API endpoint, ending in /v1 (custom
	// image imports at /v1/images, instances at /v1/instances), as vpcv1's
	// service URL.
	VPCURL string

	opts      Options
	servers   []*http.Server
	listeners []net.Listener
	wg        sync.WaitGroup
	closeOnce sync.Once
	done      chan struct{} // closed by Close; background work watches it
	bg        background    // handlers, import checks and timers Close waits for

	mu         sync.Mutex // guards the fields below and each service's state
	identities identityState
	events     []Event
	faults     []*faultRule

	kms       kmsState
	policies  policyState
	cos       cosState
	softlayer softlayerState
	logs      logsState
	vpc       vpcState
}

// Start starts an emulated cloud on loopback ports chosen by the system.
// It must be stopped with Close.
func Start(opts ...Options) (*Cloud, error) {
	var o Options
	if len(opts) > 0 {
		o = opts[0]
	}
	if o.Region == "" {
		o.Region = "us-south"
	}
	if o.TokenLifetime <= 0 {
		o.TokenLifetime = time.Hour
	}
	if o.TimeScale <= 0 {
		o.TimeScale = 0.001
	}
	c := &Cloud{
		Region:              o.Region,
		AccountID:           randomHex(16),
		APIKey:              "e2e-" + randomHex(20),
		Username:            "e2e-owner",
		KPInstanceID:        newUUID(),
		HPCSInstanceID:      newUUID(),
		COSInstanceID:       "crn:v1:bluemix:public:cloud-object-storage:global:a/%s:" + newUUID() + "::",
		HMACAccessKeyID:     randomHex(16),
		HMACSecretAccessKey: randomHex(24),
		opts:                o,
		done:                make(chan struct{}),
	}
	c.COSInstanceID = fmt.Sprintf(c.COSInstanceID, c.AccountID)
	c.identities.init(c)
	c.addAPIKey(c.APIKey, Identity{
		IAMID:     "IBMid-" + strings.ToUpper(randomHex(5)),
		Name:      "owner@example.com",
		AccountID: c.AccountID,
		Kind:      "user",
	})

	services := []struct {
		url *string
		h   http.Handler
	}{
		{&c.IAMURL, c.iamHandler()},
		{&c.KMSURL, c.kmsHandler()},
		{&c.COSURL, c.cosHandler()},
		{&c.SoftLayerURL, c.softlayerHandler()},
		{&c.LogsURL, c.logsHandler()},
		{&c.VPCURL, c.vpcHandler()},
	}
	for _, s := range services {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			c.Close()
			return nil, fmt.Errorf("e2etest: listen: %w", err)
		}
		srv := &http.Server{Handler: c.bg.handler(s.h), ReadHeaderTimeout: 10 * time.Second}
		c.servers = append(c.servers, srv)
		c.listeners = append(c.listeners, ln)
		*s.url = "http://" + ln.Addr().String()
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				_ = err // the listener was closed under us; nothing to report to
			}
		}()
	}
	c.SoftLayerURL += "/rest/v3.1"
	c.VPCURL += "/v1"
	return c, nil
}

// Close stops every server and background job. It is safe to call twice.
// When it returns, no request handler, import check or transaction timer of
// the cloud is running and none will start: its state no longer changes.
func (c *Cloud) Close() error {
	c.closeOnce.Do(func() {
		close(c.done)
		for _, s := range c.servers {
			_ = s.Close()
		}
		c.wg.Wait()
		c.bg.close()
	})
	return nil
}

// scaled converts a cloud duration (how long IBM Cloud takes) into the
// emulator's wall-clock duration.
func (c *Cloud) scaled(d time.Duration) time.Duration {
	return time.Duration(float64(d) * c.opts.TimeScale)
}

// TokenURL is the IAM token endpoint that go-sdk-core's IamAuthenticator
// and the COS SDK use (IAMURL + "/identity/token").
func (c *Cloud) TokenURL() string { return c.IAMURL + "/identity/token" }

// OIDCTokenURL is the IAM token endpoint Key Protect's client uses
// (IAMURL + "/oidc/token").
func (c *Cloud) OIDCTokenURL() string { return c.IAMURL + "/oidc/token" }

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return hex.EncodeToString(b)
}

func newUUID() string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
