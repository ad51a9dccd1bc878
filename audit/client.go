package audit

import (
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/IBM/go-sdk-core/v5/core"
	"github.com/IBM/logs-go-sdk/logsv0"
)

// Config configures a Client. Endpoint and Authenticator are required; the
// zero value of every other field is a sane default.
type Config struct {
	// Endpoint is the Cloud Logs instance endpoint,
	// e.g. "https://<instance-id>.api.us-south.logs.cloud.ibm.com".
	Endpoint string
	// Authenticator authenticates every request, e.g. a
	// *core.IamAuthenticator built from an API key.
	Authenticator core.Authenticator
	// HTTPClient sends the requests. Its Timeout must be zero or long
	// enough for a whole stream. The default is a pooled client without
	// an overall timeout (streams are bounded by ctx and IdleTimeout).
	HTTPClient *http.Client

	// MaxRetries is how many times a call is retried after a 429, a 5xx,
	// a connection failure, or a stream that was cut or went idle (events
	// a retry sends again are skipped). The default is 4; a negative value
	// disables retries.
	MaxRetries int
	// RetryWait is the first wait between retries; it doubles each time.
	// The default is 500 ms.
	RetryWait time.Duration
	// MaxRetryWait caps a wait between retries, including one a server
	// asks for with Retry-After. The default is 30 s.
	MaxRetryWait time.Duration
	// IdleTimeout ends a stream that sent neither data nor a keep-alive
	// for that long, with ErrIdle. The default is 2 minutes.
	IdleTimeout time.Duration

	// Window is the longest time range one query covers: Events splits a
	// longer range into consecutive windows. The default is 24 hours.
	Window time.Duration
	// PageSize is the result limit sent with each query. When a window
	// holds more events, Events splits it in halves and queries them
	// (skipping events it already delivered). The default is 2000, the
	// Cloud Logs default; at most 50000.
	PageSize int
	// PollInterval is how often a background query's status is polled.
	// The default is 2 seconds.
	PollInterval time.Duration

	// OnWarning, when set, is called (on the iterating goroutine) with each
	// warning the service sends. A number_of_results_limit warning also
	// makes Events split the window, or end with a *TruncatedError when it
	// cannot.
	OnWarning func(Warning)
}

// Warning is a warning the service sent with a query's results.
type Warning struct {
	Kind    string // e.g. "number_of_results_limit", "time_range", "compile"
	Message string
}

func (w Warning) String() string { return w.Kind + ": " + w.Message }

// Client queries Activity Tracker events in an IBM Cloud Logs instance.
// It is safe for concurrent use.
type Client struct {
	cfg  Config
	logs *logsv0.LogsV0
}

// NewClient returns a client for the Cloud Logs instance at cfg.Endpoint.
func NewClient(cfg Config) (*Client, error) {
	if cfg.Endpoint == "" {
		return nil, fmt.Errorf("%w: Endpoint is required", ErrInvalidConfig)
	}
	if u, err := url.Parse(cfg.Endpoint); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("%w: Endpoint %q is not an http(s) URL", ErrInvalidConfig, cfg.Endpoint)
	}
	if cfg.Authenticator == nil {
		return nil, fmt.Errorf("%w: Authenticator is required", ErrInvalidConfig)
	}
	if cfg.MaxRetries == 0 {
		cfg.MaxRetries = 4
	} else if cfg.MaxRetries < 0 {
		cfg.MaxRetries = 0
	}
	if cfg.RetryWait <= 0 {
		cfg.RetryWait = 500 * time.Millisecond
	}
	if cfg.MaxRetryWait <= 0 {
		cfg.MaxRetryWait = 30 * time.Second
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = 2 * time.Minute
	}
	if cfg.Window <= 0 {
		cfg.Window = 24 * time.Hour
	}
	if cfg.Window < 2*time.Millisecond {
		return nil, fmt.Errorf("%w: Window %v is shorter than the service's 1 ms resolution allows", ErrInvalidConfig, cfg.Window)
	}
	if cfg.PageSize == 0 {
		cfg.PageSize = 2000
	}
	if cfg.PageSize < 1 || cfg.PageSize > 50000 {
		return nil, fmt.Errorf("%w: PageSize %d is not between 1 and 50000", ErrInvalidConfig, cfg.PageSize)
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = 2 * time.Second
	}
	logs, err := logsv0.NewLogsV0(&logsv0.LogsV0Options{URL: cfg.Endpoint, Authenticator: cfg.Authenticator})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidConfig, err)
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = core.DefaultHTTPClient()
	}
	hc2 := *hc // wrap a copy: the caller's client stays as it was
	base := hc2.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	hc2.Transport = &trackingTransport{base: base}
	logs.Service.SetHTTPClient(&hc2)
	return &Client{cfg: cfg, logs: logs}, nil
}
