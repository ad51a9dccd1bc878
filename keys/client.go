package keys

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/IBM/go-sdk-core/v5/core"
	kp "github.com/IBM/keyprotect-go-client"

	"github.com/e2eimage/e2e/internal/once"
)

// DefaultEndpoint is Key Protect in us-south.
const DefaultEndpoint = "https://us-south.kms.cloud.ibm.com"

// Config configures a Client.
type Config struct {
	// Endpoint is the Key Protect region URL
	// (https://<region>.kms.cloud.ibm.com) or the HPCS instance URL. The
	// default is DefaultEndpoint.
	Endpoint string
	// InstanceID is the GUID of the Key Protect or HPCS instance. Required.
	InstanceID string
	// HPCS marks InstanceID as a Hyper Protect Crypto Services instance.
	HPCS bool
	// Authenticator authenticates every call, e.g. the iam.TokenSource the
	// run shares. When nil, APIKey (and IAMURL) build a go-sdk-core
	// IamAuthenticator.
	Authenticator core.Authenticator
	APIKey        string
	// IAMURL is the IAM endpoint for APIKey. The default is
	// https://iam.cloud.ibm.com.
	IAMURL string
	// Timeout bounds each HTTP request. The default is 30 s.
	Timeout time.Duration
}

// Client manages root keys and data keys in one Key Protect or HPCS
// instance with IBM's official keyprotect-go-client. It is safe for
// concurrent use.
//
// Calls answered 429 or 5xx (other than 501) are retried by the kp client
// with exponential backoff, at most kp.RetryMax times (4) and
// kp.RetryWaitMax (30 s) apart, honouring Retry-After; a cancelled ctx
// stops the retries. Calls that create a key are the exception: they are
// not retried after a dropped connection or a 5xx, which may have created
// the key; the error then wraps ErrOutcomeUnknown.
type Client struct {
	kp   *kp.Client
	auth core.Authenticator
	cfg  Config
}

// NewClient returns a Client.
func NewClient(cfg Config) (*Client, error) {
	if cfg.InstanceID == "" {
		return nil, fmt.Errorf("%w: Config.InstanceID is required", ErrWrongInstance)
	}
	if cfg.Endpoint == "" {
		cfg.Endpoint = DefaultEndpoint
	}
	cfg.Endpoint = strings.TrimSuffix(cfg.Endpoint, "/")
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	if cfg.Authenticator == nil {
		if cfg.APIKey == "" {
			return nil, errors.New("keys: Config needs an Authenticator or an APIKey")
		}
		b := core.NewIamAuthenticatorBuilder().SetApiKey(cfg.APIKey)
		if cfg.IAMURL != "" {
			b = b.SetURL(cfg.IAMURL)
		}
		a, err := b.Build()
		if err != nil {
			return nil, errors.New("keys: the API key authenticator is not valid")
		}
		cfg.Authenticator = a
	}
	cfg.APIKey = "" // the authenticator holds it; keep no second copy
	k, err := kp.NewWithLogger(kp.ClientConfig{
		BaseURL:    cfg.Endpoint,
		InstanceID: cfg.InstanceID,
		Timeout:    cfg.Timeout.Seconds(),
		Verbose:    kp.VerboseNone,
	}, once.Transport(bufferedTransport{next: kp.DefaultTransport()}), kp.NewLogger(func(...any) {}))
	if err != nil {
		return nil, fmt.Errorf("keys: %w", err)
	}
	return &Client{kp: k, auth: cfg.Authenticator, cfg: cfg}, nil
}

// InstanceID is the instance the client works in.
func (c *Client) InstanceID() string { return c.cfg.InstanceID }

// authCtx returns ctx carrying a current bearer token for the kp client.
func (c *Client) authCtx(ctx context.Context) (context.Context, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.cfg.Endpoint, nil)
	if err != nil {
		return nil, err
	}
	done := make(chan error, 1)
	go func() { done <- c.auth.Authenticate(req) }()
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case err := <-done:
		if err != nil {
			return nil, fmt.Errorf("%w: IAM token: %w", ErrUnauthorized, err)
		}
	}
	h := req.Header.Get("Authorization")
	if h == "" {
		return nil, fmt.Errorf("%w: the authenticator set no Authorization header", ErrUnauthorized)
	}
	return kp.NewContextWithAuth(ctx, h), nil
}

// String describes the configuration without its API key, so %v, %+v and
// %#v of a Config never print it.
func (cfg Config) String() string {
	key := ""
	if cfg.APIKey != "" {
		key = "[redacted]"
	}
	auth := "<nil>"
	if cfg.Authenticator != nil {
		auth = cfg.Authenticator.AuthenticationType()
	}
	return fmt.Sprintf("keys.Config{Endpoint:%q InstanceID:%q HPCS:%t Authenticator:%s APIKey:%q IAMURL:%q Timeout:%v}",
		cfg.Endpoint, cfg.InstanceID, cfg.HPCS, auth, key, cfg.IAMURL, cfg.Timeout)
}

// GoString is String, for %#v.
func (cfg Config) GoString() string { return cfg.String() }

// Format prints String for every verb.
func (cfg Config) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, cfg.String()) }
