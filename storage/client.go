package storage

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/IBM/go-sdk-core/v5/core"
	"github.com/IBM/ibm-cos-sdk-go/aws"
	"github.com/IBM/ibm-cos-sdk-go/aws/credentials"
	"github.com/IBM/ibm-cos-sdk-go/aws/credentials/ibmiam/token"
	"github.com/IBM/ibm-cos-sdk-go/aws/session"
	"github.com/IBM/ibm-cos-sdk-go/service/s3"

	"github.com/e2eimage/e2e/internal/cosuri"
)

// DefaultIAMURL is IBM Cloud's IAM endpoint.
const DefaultIAMURL = "https://iam.cloud.ibm.com"

// Config configures a Client. Give exactly one kind of credentials: an
// Authenticator, an APIKey, or an HMAC key pair.
type Config struct {
	// Endpoint is the COS S3 endpoint, e.g.
	// "https://s3.us-south.cloud-object-storage.appdomain.cloud". Required.
	Endpoint string
	// Region is the region of the endpoint and of the buckets the client
	// creates, e.g. "us-south". Required.
	Region string

	// Authenticator authenticates with IAM bearer tokens (it is shared with
	// the other IBM clients, e.g. a core.IamAuthenticator).
	Authenticator core.Authenticator
	// APIKey is an IBM Cloud API key; the client exchanges it for tokens at
	// IAMURL with go-sdk-core's IamAuthenticator.
	APIKey string
	// IAMURL is the IAM base URL (tokens at IAMURL/identity/token).
	// The default is DefaultIAMURL.
	IAMURL string
	// ServiceInstanceID is the COS instance (its CRN or GUID), sent as
	// ibm-service-instance-id with IAM tokens; needed to create buckets.
	ServiceInstanceID string

	// AccessKeyID and SecretAccessKey are HMAC credentials (AWS Signature
	// Version 4), the way to reach other S3-compatible servers too.
	AccessKeyID     string
	SecretAccessKey string

	// PathStyle addresses buckets as endpoint/bucket instead of
	// bucket.endpoint; S3-compatible servers on an IP address need it.
	PathStyle bool
	// HTTPClient sends the requests. The default is a client with a
	// connection pool sized for concurrent part uploads. The COS SDK applies
	// AWS_CA_BUNDLE, when set, to its transport, which must then be an
	// *http.Transport.
	HTTPClient *http.Client
	// MaxRetries is how often a failed request is retried (5xx, throttling,
	// network errors), with exponential backoff. The default is 3; a
	// negative value disables retries.
	MaxRetries int
}

// Client is a Cloud Object Storage client. It is safe for concurrent use.
type Client struct {
	s3     *s3.S3
	region string
}

// NewClient checks cfg and returns a client. It makes no request.
func NewClient(cfg Config) (*Client, error) {
	if cfg.Endpoint == "" {
		return nil, fmt.Errorf("%w: Endpoint is required", ErrInvalidConfig)
	}
	if u, err := url.Parse(cfg.Endpoint); err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("%w: Endpoint %q is not an http(s) URL", ErrInvalidConfig, cfg.Endpoint)
	}
	if err := cosuri.ValidateRegion(cfg.Region); err != nil {
		return nil, fmt.Errorf("%w: Region: %v", ErrInvalidConfig, err)
	}
	creds, err := cfg.credentials()
	if err != nil {
		return nil, err
	}
	hc := cfg.HTTPClient
	if hc == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConnsPerHost = 64 // the default of 2 would reconnect for every concurrent part
		t.ResponseHeaderTimeout = 5 * time.Minute
		hc = &http.Client{Transport: t}
	}
	retries := cfg.MaxRetries
	switch {
	case retries == 0:
		retries = 3
	case retries < 0:
		retries = 0
	}
	sess, err := session.NewSession(&aws.Config{
		Endpoint:         aws.String(strings.TrimSuffix(cfg.Endpoint, "/")),
		Region:           aws.String(cfg.Region),
		S3ForcePathStyle: aws.Bool(cfg.PathStyle),
		Credentials:      creds,
		HTTPClient:       hc,
		MaxRetries:       aws.Int(retries),
	})
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidConfig, err)
	}
	return &Client{s3: s3.New(sess), region: cfg.Region}, nil
}

// Region is the region the client was configured for.
func (c *Client) Region() string { return c.region }

func (cfg *Config) credentials() (*credentials.Credentials, error) {
	kinds := 0
	for _, set := range []bool{cfg.Authenticator != nil, cfg.APIKey != "", cfg.AccessKeyID != "" || cfg.SecretAccessKey != ""} {
		if set {
			kinds++
		}
	}
	if kinds != 1 {
		return nil, fmt.Errorf("%w: give exactly one of Authenticator, APIKey or AccessKeyID+SecretAccessKey", ErrInvalidConfig)
	}
	if cfg.AccessKeyID != "" || cfg.SecretAccessKey != "" {
		if cfg.AccessKeyID == "" || cfg.SecretAccessKey == "" {
			return nil, fmt.Errorf("%w: HMAC credentials need both AccessKeyID and SecretAccessKey", ErrInvalidConfig)
		}
		return credentials.NewStaticCredentials(cfg.AccessKeyID, cfg.SecretAccessKey, ""), nil
	}
	auth := cfg.Authenticator
	if auth == nil {
		iamURL := cfg.IAMURL
		if iamURL == "" {
			iamURL = DefaultIAMURL
		}
		auth = &core.IamAuthenticator{ApiKey: cfg.APIKey, URL: iamURL}
	}
	if err := auth.Validate(); err != nil {
		// The SDK's message names the property, never its value.
		return nil, fmt.Errorf("%w: authenticator: %v", ErrInvalidConfig, err)
	}
	return credentials.NewCredentials(&tokenProvider{auth: auth, instance: cfg.ServiceInstanceID}), nil
}

// tokenProvider hands the COS SDK the bearer tokens of a go-sdk-core
// authenticator, which caches and refreshes them itself.
type tokenProvider struct {
	auth     core.Authenticator
	instance string
}

func (p *tokenProvider) Retrieve() (credentials.Value, error) {
	req, _ := http.NewRequest(http.MethodGet, "http://token.invalid/", nil)
	if err := p.auth.Authenticate(req); err != nil {
		return credentials.Value{}, &authError{err: err}
	}
	typ, tok, ok := strings.Cut(req.Header.Get("Authorization"), " ")
	if !ok || tok == "" {
		return credentials.Value{}, &authError{err: fmt.Errorf("authenticator %s set no bearer token", p.auth.AuthenticationType())}
	}
	v := credentials.Value{ProviderName: "storage-authenticator", ProviderType: "oauth", ServiceInstanceID: p.instance}
	v.Token = token.Token{TokenType: typ, AccessToken: tok}
	return v, nil
}

// IsExpired is always true: the authenticator decides when to refresh, so
// the SDK asks it on every request (a cache hit there).
func (p *tokenProvider) IsExpired() bool { return true }

// String describes the config with its secrets redacted, so a logged or
// %v-printed Config never shows them.
func (cfg Config) String() string {
	redact := func(s string) string {
		if s == "" {
			return `""`
		}
		return "[redacted]"
	}
	auth := "<nil>"
	if cfg.Authenticator != nil {
		auth = cfg.Authenticator.AuthenticationType()
	}
	return fmt.Sprintf("storage.Config{Endpoint:%q Region:%q Authenticator:%s APIKey:%s IAMURL:%q ServiceInstanceID:%q AccessKeyID:%q SecretAccessKey:%s PathStyle:%t MaxRetries:%d}",
		cfg.Endpoint, cfg.Region, auth, redact(cfg.APIKey), cfg.IAMURL, cfg.ServiceInstanceID, cfg.AccessKeyID, redact(cfg.SecretAccessKey), cfg.PathStyle, cfg.MaxRetries)
}

// GoString is String, for %#v.
func (cfg Config) GoString() string { return cfg.String() }

// Format prints String for every verb, so %d or %x cannot reach the
// secret fields either.
func (cfg Config) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, cfg.String()) }
