package provision

import (
	"context"
	"net/http"
	"time"

	"github.com/e2eimage/e2e/internal/slsession"
)

// Config configures a Client. Set exactly one credential: APIKey,
// Username with ClassicAPIKey, or Token.
type Config struct {
	// Endpoint is the SoftLayer REST endpoint. The default is
	// https://api.softlayer.com/rest/v3.1.
	Endpoint string
	// APIKey is an IBM Cloud API key, sent as Basic "apikey:<key>".
	APIKey string
	// Username and ClassicAPIKey are classic infrastructure credentials.
	Username      string
	ClassicAPIKey string
	// Token returns an IAM access token; it is asked before every call.
	Token func(ctx context.Context) (string, error)
	// HTTPClient carries the requests; its Transport is used. The default
	// is http.DefaultTransport.
	HTTPClient *http.Client
	// Timeout bounds each HTTP request. The default is two minutes.
	Timeout time.Duration
	// Retries is how many times a read is retried after a rate limit, a 5xx
	// or a transport error. placeOrder is never retried. The default is 3.
	Retries int
	// RetryWait is the first wait before a retry; it doubles each time. The
	// default is one second.
	RetryWait time.Duration
	// FindTimeout bounds how long Order looks for the server after
	// placeOrder answered (it shows up in getVirtualGuests within seconds
	// to minutes). The default is 10 minutes.
	FindTimeout time.Duration
}

// Client orders and manages classic virtual servers. It is safe for concurrent use.
type Client struct {
	s           *slsession.Session
	retryWait   time.Duration
	findTimeout time.Duration
}

// NewClient checks cfg and returns a Client. No request is made.
func NewClient(cfg Config) (*Client, error) {
	s, err := slsession.New(slsession.Config{
		Endpoint: cfg.Endpoint, APIKey: cfg.APIKey, Username: cfg.Username, ClassicAPIKey: cfg.ClassicAPIKey,
		Token: cfg.Token, HTTPClient: cfg.HTTPClient, Timeout: cfg.Timeout, Retries: cfg.Retries,
		RetryWait: cfg.RetryWait, UserAgent: "e2eimage/provision",
	})
	if err != nil {
		return nil, err
	}
	c := &Client{s: s, retryWait: cfg.RetryWait, findTimeout: cfg.FindTimeout}
	if c.retryWait <= 0 {
		c.retryWait = time.Second
	}
	if c.findTimeout <= 0 {
		c.findTimeout = 10 * time.Minute
	}
	return c, nil
}
