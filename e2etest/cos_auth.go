package e2etest

// Authentication for the emulated COS: IAM bearer tokens (checked against
// the emulated IAM) or HMAC keys with AWS Signature Version 4, verified the
// way S3 does: canonical request, string to sign, derived signing key, and
// the x-amz-content-sha256 payload hash checked against the body as it streams.

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"hash"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

type cosAuthError struct {
	status    int
	code, msg string
}

const (
	sigV4Algorithm   = "AWS4-HMAC-SHA256"
	sigV4TimeFormat  = "20060102T150405Z"
	sigV4MaxSkew     = 15 * time.Minute
	unsignedPayload  = "UNSIGNED-PAYLOAD"
	streamingPayload = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
)

// cosAuthenticate returns who sent the request, or the S3 error to answer.
func (c *Cloud) cosAuthenticate(r *http.Request, op string) (Identity, *cosAuthError) {
	h := r.Header.Get("Authorization")
	switch {
	case strings.HasPrefix(h, sigV4Algorithm+" "):
		return c.verifySigV4(r)
	case strings.HasPrefix(h, "Bearer ") || strings.HasPrefix(h, "bearer "):
		who, err := c.authenticate(r)
		switch {
		case errors.Is(err, errExpiredToken):
			return Identity{}, &cosAuthError{http.StatusUnauthorized, "ExpiredToken", "The provided token has expired."}
		case err != nil:
			return Identity{}, &cosAuthError{http.StatusUnauthorized, "InvalidToken", "The provided token is malformed or otherwise invalid."}
		case who.AccountID != c.AccountID:
			return Identity{}, &cosAuthError{http.StatusForbidden, "AccessDenied", "Access Denied"}
		}
		// IAM requests name the COS instance; bucket creation and listing need it.
		inst := r.Header.Get("ibm-service-instance-id")
		if inst == "" && (op == "CreateBucket" || op == "ListBuckets" || op == "ListBucketsExtended") {
			return Identity{}, &cosAuthError{http.StatusBadRequest, "InvalidArgument",
				"The ibm-service-instance-id header is required to create or list buckets with an IAM token."}
		}
		if inst != "" && inst != c.COSInstanceID && !strings.Contains(c.COSInstanceID, ":"+inst+":") {
			return Identity{}, &cosAuthError{http.StatusForbidden, "AccessDenied",
				"Access Denied: ibm-service-instance-id does not name a COS instance of this account."}
		}
		return who, nil
	case h == "":
		return Identity{}, &cosAuthError{http.StatusForbidden, "AccessDenied", "Access Denied: the request carries no credentials."}
	default:
		return Identity{}, &cosAuthError{http.StatusBadRequest, "InvalidArgument", "Unsupported Authorization type."}
	}
}

func (c *Cloud) verifySigV4(r *http.Request) (Identity, *cosAuthError) {
	malformed := &cosAuthError{http.StatusBadRequest, "AuthorizationHeaderMalformed", "The authorization header is malformed."}
	fields := map[string]string{}
	for f := range strings.SplitSeq(strings.TrimPrefix(r.Header.Get("Authorization"), sigV4Algorithm+" "), ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(f), "=")
		if !ok {
			return Identity{}, malformed
		}
		fields[k] = v
	}
	scope := strings.Split(fields["Credential"], "/")
	if len(scope) != 5 || scope[4] != "aws4_request" || fields["SignedHeaders"] == "" || fields["Signature"] == "" {
		return Identity{}, malformed
	}
	if !hmac.Equal([]byte(scope[0]), []byte(c.HMACAccessKeyID)) {
		return Identity{}, &cosAuthError{http.StatusForbidden, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records."}
	}
	amzDate := r.Header.Get("X-Amz-Date")
	t, err := time.Parse(sigV4TimeFormat, amzDate)
	if err != nil || !strings.HasPrefix(amzDate, scope[1]) {
		return Identity{}, &cosAuthError{http.StatusForbidden, "AccessDenied", "AWS authentication requires a valid X-Amz-Date header matching the credential scope."}
	}
	if d := time.Since(t); d > sigV4MaxSkew || d < -sigV4MaxSkew {
		return Identity{}, &cosAuthError{http.StatusForbidden, "RequestTimeTooSkewed", "The difference between the request time and the current time is too large."}
	}
	payload := r.Header.Get("X-Amz-Content-Sha256")
	switch {
	case payload == "":
		return Identity{}, &cosAuthError{http.StatusBadRequest, "InvalidRequest", "Missing required header for this request: x-amz-content-sha256."}
	case payload == streamingPayload:
		return Identity{}, &cosAuthError{http.StatusNotImplemented, "NotImplemented", "Chunked (streaming) signatures are not supported by this endpoint."}
	case payload != unsignedPayload:
		if b, err := hex.DecodeString(payload); err != nil || len(b) != sha256.Size {
			return Identity{}, &cosAuthError{http.StatusBadRequest, "InvalidArgument", "x-amz-content-sha256 must be UNSIGNED-PAYLOAD or a SHA-256 in hex."}
		}
	}

	signed := strings.Split(fields["SignedHeaders"], ";")
	canon := strings.Join([]string{
		r.Method,
		canonicalURI(r),
		strings.ReplaceAll(canonicalQuery(r.URL.RawQuery), "+", "%20"),
		canonicalHeaders(r, signed) + "\n",
		fields["SignedHeaders"],
		payload,
	}, "\n")
	sum := sha256.Sum256([]byte(canon))
	toSign := sigV4Algorithm + "\n" + amzDate + "\n" + strings.Join(scope[1:], "/") + "\n" + hex.EncodeToString(sum[:])
	key := []byte("AWS4" + c.HMACSecretAccessKey)
	for _, s := range scope[1:] {
		key = hmacSHA256(key, s)
	}
	want := hex.EncodeToString(hmacSHA256(key, toSign))
	if !hmac.Equal([]byte(want), []byte(strings.ToLower(fields["Signature"]))) {
		return Identity{}, &cosAuthError{http.StatusForbidden, "SignatureDoesNotMatch",
			"The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method."}
	}
	if payload != unsignedPayload && r.Body != nil {
		r.Body = &payloadVerifier{rc: r.Body, h: sha256.New(), want: payload}
	}
	return Identity{IAMID: "iam-ServiceId-hmac-" + c.HMACAccessKeyID[:8], Name: "HMAC " + c.HMACAccessKeyID,
		AccountID: c.AccountID, Kind: "serviceid"}, nil
}

func hmacSHA256(key []byte, s string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(s))
	return m.Sum(nil)
}

// canonicalURI is the path exactly as sent: S3 signs it without normalising.
func canonicalURI(r *http.Request) string {
	p, _, _ := strings.Cut(r.RequestURI, "?")
	if u, err := url.Parse(p); err == nil && u.IsAbs() {
		p = u.EscapedPath() // absolute-form request target (through a proxy)
	}
	if p == "" {
		p = "/"
	}
	return p
}

// canonicalQuery sorts parameters by name, then value, each URI-encoded.
func canonicalQuery(raw string) string {
	q, _ := url.ParseQuery(raw)
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		vs := append([]string(nil), q[k]...)
		sort.Strings(vs)
		for _, v := range vs {
			if b.Len() > 0 {
				b.WriteByte('&')
			}
			b.WriteString(url.QueryEscape(k) + "=" + url.QueryEscape(v))
		}
	}
	return b.String()
}

func canonicalHeaders(r *http.Request, signed []string) string {
	lines := make([]string, len(signed))
	for i, name := range signed {
		var vals []string
		switch name {
		case "host":
			vals = []string{r.Host}
		case "content-length":
			vals = r.Header.Values("Content-Length")
			if len(vals) == 0 {
				vals = []string{strconv.FormatInt(r.ContentLength, 10)}
			}
		default:
			vals = r.Header.Values(name)
		}
		for j, v := range vals {
			vals[j] = strings.Join(strings.Fields(v), " ")
		}
		lines[i] = name + ":" + strings.Join(vals, ",")
	}
	return strings.Join(lines, "\n")
}

// errPayloadMismatch is what the body reader returns when the content does
// not match its signed SHA-256; the request then fails.
var errPayloadMismatch = errors.New("XAmzContentSHA256Mismatch: the provided x-amz-content-sha256 header does not match what was computed")

type payloadVerifier struct {
	rc   io.ReadCloser
	h    hash.Hash
	want string
	err  error
}

func (p *payloadVerifier) Read(b []byte) (int, error) {
	if p.err != nil {
		return 0, p.err
	}
	n, err := p.rc.Read(b)
	p.h.Write(b[:n])
	if err == io.EOF && hex.EncodeToString(p.h.Sum(nil)) != p.want {
		p.err = errPayloadMismatch
		return n, p.err
	}
	return n, err
}

func (p *payloadVerifier) Close() error { return p.rc.Close() }
