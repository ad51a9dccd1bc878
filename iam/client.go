package iam

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/IBM/go-sdk-core/v5/core"
	"github.com/IBM/platform-services-go-sdk/iamidentityv1"
	"github.com/IBM/platform-services-go-sdk/iampolicymanagementv1"

	"github.com/e2eimage/e2e/internal/once"
)

// Config configures a Client. Set Authenticator, or APIKey (with IAMURL
// for a non-default IAM such as e2etest).
type Config struct {
	// URL is the IAM API endpoint (policies and identity). The default is
	// IAMURL, or DefaultURL.
	URL string
	// Authenticator authenticates every call, e.g. a *TokenSource shared
	// with the other clients of a run.
	Authenticator core.Authenticator
	// APIKey and IAMURL build a TokenSource when Authenticator is nil.
	APIKey string
	IAMURL string
	// AccountID is the account the policies and service IDs belong to. The
	// default is the account of the token (see TokenSource.AccountID).
	AccountID string
	// MaxRetries bounds the retries of calls answered 429 or 5xx, with
	// exponential backoff up to MaxRetryInterval. Creating a service ID or
	// an API key is retried after a 429 only: after a 5xx or a lost answer it
	// may have taken effect, and the error wraps ErrOutcomeUnknown. The defaults are 4 and 30s;
	// a negative MaxRetries disables retries.
	MaxRetries       int
	MaxRetryInterval time.Duration
}

// Client manages IAM authorization policies, access policies, service IDs
// and API keys with IBM's official platform-services SDK. It is safe for
// concurrent use.
type Client struct {
	policies  *iampolicymanagementv1.IamPolicyManagementV1
	identity  *iamidentityv1.IamIdentityV1
	auth      core.Authenticator
	accountID string
}

// NewClient returns a Client.
func NewClient(cfg Config) (*Client, error) {
	if cfg.Authenticator == nil {
		if cfg.APIKey == "" {
			return nil, errors.New("iam: Config needs an Authenticator or an APIKey")
		}
		ts, err := NewTokenSource(cfg.APIKey, cfg.IAMURL)
		if err != nil {
			return nil, err
		}
		cfg.Authenticator = ts
	}
	if cfg.URL == "" {
		cfg.URL = cfg.IAMURL
	}
	if cfg.URL == "" {
		cfg.URL = DefaultURL
	}
	if cfg.MaxRetries == 0 {
		cfg.MaxRetries = 4
	}
	if cfg.MaxRetryInterval <= 0 {
		cfg.MaxRetryInterval = 30 * time.Second
	}
	pm, err := iampolicymanagementv1.NewIamPolicyManagementV1(&iampolicymanagementv1.IamPolicyManagementV1Options{
		URL: cfg.URL, Authenticator: cfg.Authenticator})
	if err != nil {
		return nil, err
	}
	id, err := iamidentityv1.NewIamIdentityV1(&iamidentityv1.IamIdentityV1Options{
		URL: cfg.URL, Authenticator: cfg.Authenticator})
	if err != nil {
		return nil, err
	}
	// Service IDs and API keys are not unique by name: a create whose answer
	// was lost must not be resent (see internal/once). Under the retry layer.
	id.Service.Client.Transport = once.Transport(id.Service.Client.Transport)
	if cfg.MaxRetries > 0 {
		pm.EnableRetries(cfg.MaxRetries, cfg.MaxRetryInterval)
		id.EnableRetries(cfg.MaxRetries, cfg.MaxRetryInterval)
	}
	return &Client{policies: pm, identity: id, auth: cfg.Authenticator, accountID: cfg.AccountID}, nil
}

// AccountID returns the account the client works in.
func (c *Client) AccountID(ctx context.Context) (string, error) {
	if c.accountID != "" {
		return c.accountID, nil
	}
	if ts, ok := c.auth.(interface {
		AccountID(context.Context) (string, error)
	}); ok {
		return ts.AccountID(ctx)
	}
	return "", errors.New("iam: Config.AccountID is required with this authenticator")
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
	return fmt.Sprintf("iam.Config{URL:%q Authenticator:%s APIKey:%q IAMURL:%q AccountID:%q MaxRetries:%d MaxRetryInterval:%v}",
		cfg.URL, auth, key, cfg.IAMURL, cfg.AccountID, cfg.MaxRetries, cfg.MaxRetryInterval)
}

// GoString is String, for %#v.
func (cfg Config) GoString() string { return cfg.String() }

// Format prints String for every verb.
func (cfg Config) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, cfg.String()) }
