package e2etest

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"
)

// Identity is who a credential belongs to: a user or a service ID of the account.
type Identity struct {
	IAMID     string // e.g. "IBMid-…" or "iam-ServiceId-…"
	Name      string
	AccountID string
	Kind      string // "user" or "serviceid"
}

// identityState holds API keys and issued tokens. Guarded by Cloud.mu.
type identityState struct {
	signingKey    []byte
	apiKeys       map[string]Identity // API key text → identity
	refreshTokens map[string]Identity
}

func (s *identityState) init(c *Cloud) {
	s.signingKey = []byte(randomHex(32))
	s.apiKeys = map[string]Identity{}
	s.refreshTokens = map[string]Identity{}
}

// addAPIKey makes an API key valid at the token endpoint.
func (c *Cloud) addAPIKey(key string, id Identity) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.identities.apiKeys[key] = id
}

// removeAPIKey revokes an API key; tokens already issued stay valid until they expire.
func (c *Cloud) removeAPIKey(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.identities.apiKeys, key)
}

// lookupAPIKey returns the identity of an API key.
func (c *Cloud) lookupAPIKey(key string) (Identity, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	id, ok := c.identities.apiKeys[key]
	return id, ok
}

// tokenClaims is the payload of the JWT access tokens the emulated IAM issues,
// shaped like IBM Cloud IAM's.
type tokenClaims struct {
	IAMID   string `json:"iam_id"`
	ID      string `json:"id"`
	RealmID string `json:"realmid"`
	Sub     string `json:"sub"`
	SubType string `json:"sub_type"`
	Name    string `json:"name"`
	Account struct {
		BSS string `json:"bss"`
	} `json:"account"`
	IAT int64 `json:"iat"`
	Exp int64 `json:"exp"`
	// ExpNano is when the token expires, to the nanosecond: exp has whole
	// seconds only (truncated, so clients refresh a little early), and
	// checking it would end a one-second token anywhere from at once to a
	// second after it was issued. The emulator signs it, as the rest.
	ExpNano   int64  `json:"e2etest_exp_ns"`
	Iss       string `json:"iss"`
	GrantType string `json:"grant_type"`
	Scope     string `json:"scope"`
	ClientID  string `json:"client_id"`
	Nonce     string `json:"jti"`
}

var jwtHeader = base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT","kid":"e2etest"}`))

func (c *Cloud) issueToken(id Identity, grant string) (string, time.Time) {
	now := time.Now()
	exp := now.Add(c.opts.TokenLifetime)
	cl := tokenClaims{IAMID: id.IAMID, ID: id.IAMID, RealmID: "iam", Sub: id.Name, SubType: id.Kind,
		Name: id.Name, IAT: now.Unix(), Exp: exp.Unix(), ExpNano: exp.UnixNano(), Iss: c.IAMURL + "/identity",
		GrantType: grant, Scope: "ibm openid", ClientID: "default", Nonce: randomHex(8)}
	cl.Account.BSS = id.AccountID
	payload, _ := json.Marshal(cl)
	signed := jwtHeader + "." + base64.RawURLEncoding.EncodeToString(payload)
	return signed + "." + c.sign(signed), exp
}

func (c *Cloud) sign(s string) string {
	m := hmac.New(sha256.New, c.identities.signingKey)
	m.Write([]byte(s))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// Errors of token verification; services turn them into their own 401 envelope.
var (
	errNoToken      = errors.New("no bearer token in the Authorization header")
	errBadToken     = errors.New("the access token is not valid")
	errExpiredToken = errors.New("the access token has expired")
)

// authenticate checks the request's bearer token and returns its identity.
func (c *Cloud) authenticate(r *http.Request) (Identity, error) {
	h := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(h, "Bearer ")
	if !ok {
		tok, ok = strings.CutPrefix(h, "bearer ")
	}
	if !ok || tok == "" {
		return Identity{}, errNoToken
	}
	return c.verifyToken(strings.TrimSpace(tok))
}

func (c *Cloud) verifyToken(tok string) (Identity, error) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 || !hmac.Equal([]byte(c.sign(parts[0]+"."+parts[1])), []byte(parts[2])) {
		return Identity{}, errBadToken
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return Identity{}, errBadToken
	}
	var cl tokenClaims
	if err := json.Unmarshal(raw, &cl); err != nil {
		return Identity{}, errBadToken
	}
	if time.Now().UnixNano() >= cl.ExpNano {
		return Identity{}, errExpiredToken
	}
	return Identity{IAMID: cl.IAMID, Name: cl.Name, AccountID: cl.Account.BSS, Kind: cl.SubType}, nil
}

// NewToken returns a fresh access token for the account owner, for tests that
// want to call a service without going through the token endpoint.
func (c *Cloud) NewToken() string {
	id, _ := c.lookupAPIKey(c.APIKey)
	tok, _ := c.issueToken(id, "urn:ibm:params:oauth:grant-type:apikey")
	return tok
}

// iamHandler serves the token endpoints and hands the rest of the IAM API
// (policies, service IDs, API keys) to iamAPIHandler.
func (c *Cloud) iamHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /identity/token", c.handleToken)
	mux.HandleFunc("POST /oidc/token", c.handleToken)
	mux.Handle("/", c.iamAPIHandler())
	return mux
}

// writeIAMError answers in IAM's error envelope.
func writeIAMError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"errorCode":    code,
		"errorMessage": msg,
		"context":      map[string]string{"requestId": randomHex(16)},
		// the policy and identity APIs use this shape
		"trace":       randomHex(16),
		"errors":      []map[string]string{{"code": code, "message": msg}},
		"status_code": http.StatusText(status),
	})
}

func (c *Cloud) handleToken(w http.ResponseWriter, r *http.Request) {
	w, handled := c.applyFault(ServiceIAM, "token", w, r, writeIAMError)
	if handled {
		return
	}
	if err := r.ParseForm(); err != nil {
		writeIAMError(w, http.StatusBadRequest, "BXNIM0109E", "Property missing or empty.")
		return
	}
	var id Identity
	grant := r.PostForm.Get("grant_type")
	switch grant {
	case "urn:ibm:params:oauth:grant-type:apikey":
		key := r.PostForm.Get("apikey")
		if key == "" {
			writeIAMError(w, http.StatusBadRequest, "BXNIM0109E", "Property missing or empty. Property=apikey")
			return
		}
		var ok bool
		if id, ok = c.lookupAPIKey(key); !ok {
			writeIAMError(w, http.StatusBadRequest, "BXNIM0415E", "Provided API key could not be found.")
			return
		}
	case "refresh_token":
		rt := r.PostForm.Get("refresh_token")
		c.mu.Lock()
		rid, ok := c.identities.refreshTokens[rt]
		c.mu.Unlock()
		if !ok {
			writeIAMError(w, http.StatusBadRequest, "BXNIM0407E", "Provided refresh token is invalid.")
			return
		}
		id = rid
	default:
		writeIAMError(w, http.StatusBadRequest, "BXNIM0103E", "Unsupported grant type.")
		return
	}
	tok, exp := c.issueToken(id, grant)
	refresh := randomHex(32)
	c.mu.Lock()
	c.identities.refreshTokens[refresh] = id
	c.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"access_token":  tok,
		"refresh_token": refresh,
		"ims_user_id":   0,
		"token_type":    "Bearer",
		"expires_in":    int64(c.opts.TokenLifetime / time.Second),
		"expiration":    exp.Unix(),
		"scope":         "ibm openid",
	})
}
