// Package slsession builds softlayer-go sessions for the image and
// provision packages: one per call, carrying the call's context, fresh
// credentials and no transport-level retries, so the callers decide what
// may be retried (never an order).
package slsession

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/softlayer/softlayer-go/session"
	"github.com/softlayer/softlayer-go/sl"
)

// DefaultEndpoint is the public SoftLayer REST endpoint.
const DefaultEndpoint = session.DefaultEndpoint

// Config says where the API is and how to authenticate. Exactly one of
// APIKey, Username+ClassicAPIKey and Token must be set.
type Config struct {
	Endpoint      string
	APIKey        string // IBM Cloud API key, sent as Basic "apikey:<key>"
	Username      string // classic infrastructure user name …
	ClassicAPIKey string // … and its classic API key
	Token         func(ctx context.Context) (string, error)
	HTTPClient    *http.Client
	Timeout       time.Duration
	Retries       int
	RetryWait     time.Duration
	UserAgent     string
}

// Sentinel errors of the SoftLayer API; test for them with errors.Is.
var (
	ErrNotFound     = errors.New("softlayer: object not found")
	ErrUnauthorized = errors.New("softlayer: authentication failed")
	ErrRateLimited  = errors.New("softlayer: rate limit exceeded")
	ErrTransport    = errors.New("softlayer: transport error")
	ErrConfig       = errors.New("softlayer: invalid client configuration")
)

// APIError is a failed SoftLayer API call.
type APIError struct {
	Service    string // e.g. "SoftLayer_Virtual_Guest"
	Method     string // e.g. "getObject"
	StatusCode int    // HTTP status; 0 when no answer arrived
	Exception  string // SoftLayer exception class, e.g. "SoftLayer_Exception_ObjectNotFound"
	Message    string
	Err        error // the transport error, if any
	// RetryAfter is the wait a 429 or 503 answer asked for in its
	// Retry-After header (seconds or an HTTP date), 0 when none. Retries
	// honour it up to MaxRetryAfter.
	RetryAfter time.Duration
}

func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "softlayer: %s::%s: ", e.Service, e.Method)
	switch {
	case e.Exception != "":
		fmt.Fprintf(&b, "%s: %s", e.Exception, e.Message)
	case e.Err != nil:
		b.WriteString(e.Err.Error())
	default:
		b.WriteString(e.Message)
	}
	switch {
	case e.StatusCode != 0 && e.RetryAfter > 0:
		fmt.Fprintf(&b, " (HTTP %d, retry after %v)", e.StatusCode, e.RetryAfter)
	case e.StatusCode != 0:
		fmt.Fprintf(&b, " (HTTP %d)", e.StatusCode)
	}
	return b.String()
}

// Unwrap returns the sentinel that classifies the error and the transport error.
func (e *APIError) Unwrap() []error {
	var out []error
	switch {
	case e.Exception == "SoftLayer_Exception_ObjectNotFound" || e.StatusCode == http.StatusNotFound:
		out = append(out, ErrNotFound)
	case e.Exception == "SoftLayer_Exception_WebService_RateLimitExceeded" || e.StatusCode == http.StatusTooManyRequests:
		out = append(out, ErrRateLimited)
	case e.StatusCode == http.StatusUnauthorized || e.Exception == "SoftLayer_Exception_InvalidLegacyToken" ||
		e.Exception == "SoftLayer_Exception_Account_Authentication_AccessTokenValidation":
		out = append(out, ErrUnauthorized)
	case e.Err != nil && e.Exception == "":
		out = append(out, ErrTransport)
	}
	if e.Err != nil {
		out = append(out, e.Err)
	}
	return out
}

// Temporary reports whether retrying the same call may succeed: rate
// limits, 5xx answers without a SoftLayer exception, and transport errors.
func (e *APIError) Temporary() bool {
	switch {
	case errors.Is(e, ErrRateLimited):
		return true
	case e.Exception == "" && (e.StatusCode >= 500 || e.StatusCode == 0 || e.Err != nil):
		return true
	case e.StatusCode == http.StatusBadGateway || e.StatusCode == http.StatusServiceUnavailable || e.StatusCode == http.StatusGatewayTimeout:
		return true
	}
	return false
}

// Session is a long-lived, concurrency-safe source of per-call sessions.
type Session struct {
	cfg   Config
	sleep func(context.Context, time.Duration) error // the clock; tests replace it
}

// New validates cfg and fills in defaults: the public endpoint, a two
// minute timeout, 3 retries of idempotent calls, 1 s first retry wait.
func New(cfg Config) (*Session, error) {
	n := 0
	if cfg.APIKey != "" {
		n++
	}
	if cfg.Username != "" || cfg.ClassicAPIKey != "" {
		if cfg.Username == "" || cfg.ClassicAPIKey == "" {
			return nil, fmt.Errorf("%w: Username and ClassicAPIKey go together", ErrConfig)
		}
		n++
	}
	if cfg.Token != nil {
		n++
	}
	if n != 1 {
		return nil, fmt.Errorf("%w: set exactly one of APIKey, Username+ClassicAPIKey or Token (got %d)", ErrConfig, n)
	}
	if cfg.Endpoint == "" {
		cfg.Endpoint = DefaultEndpoint
	}
	if !strings.HasPrefix(cfg.Endpoint, "https://") && !strings.HasPrefix(cfg.Endpoint, "http://") {
		return nil, fmt.Errorf("%w: endpoint %q is not an http(s) URL", ErrConfig, cfg.Endpoint)
	}
	if strings.Contains(cfg.Endpoint, "/xmlrpc/") {
		return nil, fmt.Errorf("%w: the XML-RPC endpoint is not supported; use the REST endpoint (…/rest/v3.1)", ErrConfig)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 2 * time.Minute
	}
	if cfg.Retries < 0 {
		return nil, fmt.Errorf("%w: negative Retries", ErrConfig)
	}
	if cfg.Retries == 0 {
		cfg.Retries = 3
	}
	if cfg.RetryWait <= 0 {
		cfg.RetryWait = time.Second
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Transport: http.DefaultTransport}
	}
	return &Session{cfg: cfg, sleep: sleepCtx}, nil
}

// Retries is the configured number of retries of idempotent calls.
func (s *Session) Retries() int { return s.cfg.Retries }

// Call runs one API call. f receives a session bound to ctx; the call is
// retried with backoff when it is idempotent and failed temporarily, and
// once, asking Token again, when SoftLayer refused the IAM token (the
// request was not executed then, so even an order may be resent). That
// helps only if Token then returns a fresher token: it is not told the
// last one was refused, and a cache (iam.TokenSource) hands out the same
// token until it nears its expiry.
//
// Retries wait RetryWait, doubling up to 30 s, or as long as a 429 or 503
// answer's Retry-After asks if that is longer, capped at MaxRetryAfter;
// a cancelled ctx ends the wait at once with ctx.Err.
func (s *Session) Call(ctx context.Context, service, method string, idempotent bool, f func(*session.Session) error) error {
	wait := s.cfg.RetryWait
	refreshed := false
	for attempt := 0; ; attempt++ {
		sess, body, err := s.session(ctx)
		if err != nil {
			return err
		}
		err = s.classify(ctx, service, method, f(sess), body)
		if err == nil {
			return nil
		}
		var ae *APIError
		if !errors.As(err, &ae) {
			return err
		}
		if s.cfg.Token != nil && !refreshed && ae.Exception == "SoftLayer_Exception_Account_Authentication_AccessTokenValidation" {
			refreshed = true
			attempt--
			continue
		}
		if !idempotent || !ae.Temporary() || attempt >= s.cfg.Retries {
			return err
		}
		if cerr := s.sleep(ctx, retryWait(wait, err)); cerr != nil {
			return fmt.Errorf("%w (while retrying after: %v)", cerr, err)
		}
		wait = min(wait*2, 30*time.Second)
	}
}

// session returns a copy of the base session for one call, with its own
// http.Client (softlayer-go writes the client's Timeout on every request).
func (s *Session) session(ctx context.Context) (*session.Session, *lastBody, error) {
	body := &lastBody{}
	sess := &session.Session{
		Endpoint:         s.cfg.Endpoint,
		Timeout:          s.cfg.Timeout,
		Context:          ctx,
		TransportHandler: &session.RestTransport{},
		HTTPClient: &http.Client{
			Transport:     &recorder{next: transport(s.cfg.HTTPClient), body: body},
			CheckRedirect: s.cfg.HTTPClient.CheckRedirect,
			Jar:           s.cfg.HTTPClient.Jar,
		},
	}
	switch {
	case s.cfg.APIKey != "":
		sess.UserName, sess.APIKey = "apikey", s.cfg.APIKey
	case s.cfg.ClassicAPIKey != "":
		sess.UserName, sess.APIKey = s.cfg.Username, s.cfg.ClassicAPIKey
	default:
		tok, err := s.cfg.Token(ctx)
		if err != nil {
			return nil, nil, fmt.Errorf("%w: IAM token: %w", ErrUnauthorized, err)
		}
		if !strings.HasPrefix(strings.ToLower(tok), "bearer ") {
			tok = "Bearer " + tok
		}
		sess.IAMToken = tok
	}
	if s.cfg.UserAgent != "" {
		sess.AppendUserAgent(s.cfg.UserAgent)
	}
	return sess, body, nil
}

func transport(c *http.Client) http.RoundTripper {
	if c.Transport != nil {
		return c.Transport
	}
	return http.DefaultTransport
}

// classify turns softlayer-go's errors into APIError.
func (s *Session) classify(ctx context.Context, service, method string, err error, body *lastBody) error {
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		return fmt.Errorf("softlayer: %s::%s: %w", service, method, ctx.Err())
	}
	ae := &APIError{Service: service, Method: method}
	var se sl.Error
	if errors.As(err, &se) {
		ae.StatusCode, ae.Exception, ae.Message = se.StatusCode, se.Exception, se.Message
		if se.Wrapped != nil {
			ae.Err = se.Wrapped
			if ae.Exception == "" {
				ae.Message = se.Wrapped.Error()
			}
		}
		if ae.StatusCode == 520 || ae.StatusCode == 599 { // softlayer-go's codes for "no answer"
			ae.StatusCode = 0
		}
		if body != nil && body.status == ae.StatusCode && hasRetryAfter(ae.StatusCode) {
			ae.RetryAfter = body.retryAfter
		}
	} else {
		ae.Err = err
	}
	if ae.Exception == "" && ae.StatusCode != 0 && body != nil {
		// a non-JSON error page: keep its first line as the message
		if first, _, _ := strings.Cut(strings.TrimSpace(string(body.b)), "\n"); first != "" {
			ae.Message = first
		}
	}
	return ae
}

// ErrorInBody returns the SoftLayer exception of the last response body
// when a 2xx answer carried one ({"error":..,"code":..}), as the API has
// been seen to do.
func ErrorInBody(raw []byte) (code, msg string, ok bool) {
	var e struct {
		Error string `json:"error"`
		Code  string `json:"code"`
	}
	if json.Unmarshal(raw, &e) != nil || e.Error == "" {
		return "", "", false
	}
	return e.Code, e.Error, true
}

// lastBody keeps the head of the last response body of one call, and what
// softlayer-go does not pass on from its head: the status and the
// Retry-After header.
type lastBody struct {
	b          []byte
	status     int
	retryAfter time.Duration
}

// recorder tees the first 4 KiB of each response body into body and notes
// its Retry-After.
type recorder struct {
	next http.RoundTripper
	body *lastBody
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := r.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	r.body.b = r.body.b[:0]
	r.body.status, r.body.retryAfter = resp.StatusCode, 0
	if hasRetryAfter(resp.StatusCode) {
		r.body.retryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
	}
	resp.Body = &teeBody{ReadCloser: resp.Body, dst: r.body}
	return resp, nil
}

type teeBody struct {
	io.ReadCloser
	dst *lastBody
}

func (t *teeBody) Read(p []byte) (int, error) {
	n, err := t.ReadCloser.Read(p)
	if room := 4096 - len(t.dst.b); room > 0 && n > 0 {
		t.dst.b = append(t.dst.b, p[:min(n, room)]...)
	}
	return n, err
}

// CallRaw is Call for methods whose 2xx body must be checked for an
// embedded exception: check receives the head of the body.
func (s *Session) CallRaw(ctx context.Context, service, method string, idempotent bool, f func(*session.Session) error, check func(head []byte) error) error {
	var head []byte
	err := s.Call(ctx, service, method, idempotent, func(sess *session.Session) error {
		rec := sess.HTTPClient.Transport.(*recorder)
		err := f(sess)
		head = bytes.Clone(rec.body.b)
		return err
	})
	if err != nil {
		return err
	}
	return check(head)
}

// Delete is Call for an idempotent deletion. When an attempt fails
// temporarily (a 5xx, a lost answer) it may still have deleted the object;
// if a retry then finds the object gone, Delete reports success rather
// than the retry's ErrNotFound.
func (s *Session) Delete(ctx context.Context, service, method string, f func(*session.Session) error) error {
	failedTemporarily := false // by some attempt; not the last one if that found nothing
	err := s.Call(ctx, service, method, true, func(sess *session.Session) error {
		err := f(sess)
		if ae, ok := s.classify(ctx, service, method, err, nil).(*APIError); ok && ae.Temporary() {
			failedTemporarily = true
		}
		return err
	})
	if failedTemporarily && errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}
