package iam

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/IBM/go-sdk-core/v5/core"
)

// DefaultURL is IBM Cloud's IAM endpoint.
const DefaultURL = "https://iam.cloud.ibm.com"

// TokenSource is the one IAM token source a run shares between all its
// clients, so it fetches one token rather than one per client. It wraps
// go-sdk-core's IamAuthenticator (which caches the token and refreshes it
// ahead of expiry) and implements core.Authenticator, so every IBM SDK
// client can use it directly; Token gives the raw access token to clients
// that want a string (Key Protect, SoftLayer's IAMToken, COS).
//
// A TokenSource is safe for concurrent use. Its String, GoString and Format
// never print the API key.
type TokenSource struct {
	auth *core.IamAuthenticator
	url  string

	mu        sync.Mutex
	accountID string
}

var _ core.Authenticator = (*TokenSource)(nil)

// NewTokenSource returns a token source that exchanges apiKey for tokens at
// iamURL (e.g. e2etest's Cloud.IAMURL). An empty iamURL means DefaultURL.
func NewTokenSource(apiKey, iamURL string) (*TokenSource, error) {
	if apiKey == "" {
		return nil, fmt.Errorf("%w: empty API key", ErrInvalidAPIKey)
	}
	if iamURL == "" {
		iamURL = DefaultURL
	}
	iamURL = strings.TrimSuffix(strings.TrimSuffix(iamURL, "/"), "/identity/token")
	a, err := core.NewIamAuthenticatorBuilder().SetApiKey(apiKey).SetURL(iamURL).Build()
	if err != nil {
		return nil, fmt.Errorf("iam: token source: %v", redactErr(err, apiKey))
	}
	return &TokenSource{auth: a, url: iamURL}, nil
}

// AuthenticationType implements core.Authenticator.
func (ts *TokenSource) AuthenticationType() string { return core.AUTHTYPE_IAM }

// Validate implements core.Authenticator.
func (ts *TokenSource) Validate() error { return ts.auth.Validate() }

// Authenticate implements core.Authenticator: it sets the request's
// Authorization header to a current bearer token.
func (ts *TokenSource) Authenticate(r *http.Request) error {
	tok, err := ts.Token(r.Context())
	if err != nil {
		return err
	}
	r.Header.Set("Authorization", "Bearer "+tok)
	return nil
}

// Token returns a current IAM access token (without the "Bearer " prefix),
// fetching or refreshing it when needed. A cancelled ctx returns at once;
// the fetch in flight completes in the background and is cached.
func (ts *TokenSource) Token(ctx context.Context) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	type result struct {
		tok string
		err error
	}
	ch := make(chan result, 1)
	go func() {
		tok, err := ts.auth.GetToken()
		ch <- result{tok, err}
	}()
	select {
	case <-ctx.Done():
		return "", ctx.Err()
	case r := <-ch:
		if r.err != nil {
			return "", tokenError(r.err, ts.auth.ApiKey)
		}
		return r.tok, nil
	}
}

// AccountID returns the account the API key belongs to, read from the
// access token's claims.
func (ts *TokenSource) AccountID(ctx context.Context) (string, error) {
	ts.mu.Lock()
	id := ts.accountID
	ts.mu.Unlock()
	if id != "" {
		return id, nil
	}
	tok, err := ts.Token(ctx)
	if err != nil {
		return "", err
	}
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return "", errors.New("iam: the access token is not a JWT")
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return "", errors.New("iam: the access token is not a JWT")
	}
	var claims struct {
		Account struct {
			BSS string `json:"bss"`
		} `json:"account"`
	}
	if err := json.Unmarshal(raw, &claims); err != nil || claims.Account.BSS == "" {
		return "", errors.New("iam: the access token names no account")
	}
	ts.mu.Lock()
	ts.accountID = claims.Account.BSS
	ts.mu.Unlock()
	return claims.Account.BSS, nil
}

// URL is the IAM endpoint the token source uses.
func (ts *TokenSource) URL() string { return ts.url }

// String describes the token source without its API key.
func (ts *TokenSource) String() string {
	return "iam.TokenSource{URL: " + ts.url + ", APIKey: [REDACTED]}"
}

// GoString is String, so %#v does not print the API key either.
func (ts *TokenSource) GoString() string { return ts.String() }

// Format prints String for every verb.
func (ts *TokenSource) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(ts.String())) }

// tokenError turns a token fetch failure into a typed error.
func tokenError(err error, apiKey string) error {
	var ae *core.AuthenticationError
	if errors.As(err, &ae) && ae.HTTPProblem != nil && ae.Response != nil {
		status := ae.Response.GetStatusCode()
		se := &ServiceError{Op: "token", Status: status, Message: redact(ae.Summary, apiKey)}
		switch {
		case status == http.StatusBadRequest || status == http.StatusUnauthorized || status == http.StatusForbidden:
			se.Err = ErrInvalidAPIKey
		case status == http.StatusTooManyRequests:
			se.Err = ErrRateLimited
		}
		return se
	}
	return fmt.Errorf("iam: token: %v", redactErr(err, apiKey))
}

func redact(s, secret string) string {
	if secret == "" {
		return s
	}
	return strings.ReplaceAll(s, secret, "[REDACTED]")
}

func redactErr(err error, secret string) string { return redact(err.Error(), secret) }
