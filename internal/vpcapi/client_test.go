package vpcapi

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/IBM/go-sdk-core/v5/core"

	"github.com/e2eimage/e2e/internal/slsession"
)

func TestNewDefaults(t *testing.T) {
	cfg := Config{Authenticator: &core.NoAuthAuthenticator{}}
	v, err := New(&cfg)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Region != "us-south" || cfg.Endpoint != "https://us-south.iaas.cloud.ibm.com/v1" || cfg.Retries != 3 || cfg.RetryWait != time.Second {
		t.Errorf("defaults: %+v", cfg)
	}
	if got := v.Service.GetServiceURL(); got != cfg.Endpoint {
		t.Errorf("service URL %q, want %q", got, cfg.Endpoint)
	}
	cfg = Config{Authenticator: &core.NoAuthAuthenticator{}, Region: "eu-de", Endpoint: "http://127.0.0.1:1/v1/", Retries: -1}
	if v, err = New(&cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.Retries != 0 || v.Service.GetServiceURL() != "http://127.0.0.1:1/v1" {
		t.Errorf("negative retries and a trailing slash: %+v, URL %q", cfg, v.Service.GetServiceURL())
	}
}

type markTransport struct{ next http.RoundTripper }

func (m markTransport) RoundTrip(r *http.Request) (*http.Response, error) { return m.next.RoundTrip(r) }

func TestNewWrapTransport(t *testing.T) {
	mine := &http.Client{Timeout: 7 * time.Second}
	var wrapped http.RoundTripper = &http.Transport{}
	cfg := Config{Authenticator: &core.NoAuthAuthenticator{}, HTTPClient: mine,
		WrapTransport: func(next http.RoundTripper) http.RoundTripper { wrapped = next; return markTransport{next} }}
	v, err := New(&cfg)
	if err != nil {
		t.Fatal(err)
	}
	hc := v.Service.GetHTTPClient()
	if _, ok := hc.Transport.(markTransport); !ok || hc == mine || hc.Timeout != mine.Timeout || wrapped != nil {
		t.Errorf("the service's client %+v is not a wrapped copy of the caller's", hc)
	}
	if mine.Transport != nil {
		t.Errorf("the caller's client was changed: %+v", mine)
	}
	// Without a client of the caller's, go-sdk-core's is wrapped.
	cfg = Config{Authenticator: &core.NoAuthAuthenticator{}, WrapTransport: func(next http.RoundTripper) http.RoundTripper { return markTransport{next} }}
	if v, err = New(&cfg); err != nil {
		t.Fatal(err)
	}
	if _, ok := v.Service.GetHTTPClient().Transport.(markTransport); !ok {
		t.Error("go-sdk-core's client is not wrapped")
	}
}

func TestNewConfigErrors(t *testing.T) {
	for name, cfg := range map[string]Config{
		"no authenticator":    {},
		"IAM without a key":   {Authenticator: &core.IamAuthenticator{}},
		"region not a region": {Authenticator: &core.NoAuthAuthenticator{}, Region: "Dallas"},
		"endpoint not a URL":  {Authenticator: &core.NoAuthAuthenticator{}, Endpoint: "us-south.iaas.cloud.ibm.com"},
	} {
		if _, err := New(&cfg); !errors.Is(err, slsession.ErrConfig) {
			t.Errorf("%s: %v, want ErrConfig", name, err)
		}
	}
}
