package e2etest

// Key Protect import tokens: secure import of root key material, encrypted
// under a per-instance RSA public key, with a nonce that proves possession
// of the material (kp.EncryptKey + kp.EncryptNonce on the client side).

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"time"

	_ "crypto/sha1" // RSAES_OAEP_SHA_1, which HPCS accepts
)

type kmsImportToken struct {
	id                 string
	key                *rsa.PrivateKey
	nonce              []byte
	created, expires   time.Time
	maxRetrievals      int
	retrievalsConsumed int
}

func (t *kmsImportToken) metadata() map[string]any {
	return map[string]any{
		"id": t.id, "creationDate": t.created, "expirationDate": t.expires,
		"maxAllowedRetrievals": t.maxRetrievals,
		"remainingRetrievals":  t.maxRetrievals - t.retrievalsConsumed,
	}
}

func (c *Cloud) kmsCreateImportToken(w http.ResponseWriter, r *http.Request, cl kmsCaller) {
	var req struct {
		Expiration           int `json:"expiration"`
		MaxAllowedRetrievals int `json:"maxAllowedRetrievals"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&req); err != nil {
		writeKPError(w, http.StatusBadRequest, "BAD_BODY_ERR", "Bad Request: the request body is not valid JSON")
		return
	}
	if req.Expiration <= 0 {
		req.Expiration = 600
	}
	if req.MaxAllowedRetrievals <= 0 {
		req.MaxAllowedRetrievals = 1
	}
	// 2048 bits keeps the emulator fast; Key Protect uses 4096.
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		writeKPError(w, http.StatusInternalServerError, "INTERNAL_SERVER_ERR", "Internal Server Error: "+err.Error())
		return
	}
	now := kmsNow()
	t := &kmsImportToken{id: newUUID(), key: priv, nonce: make([]byte, 12), created: now,
		expires: now.Add(time.Duration(req.Expiration) * time.Second), maxRetrievals: req.MaxAllowedRetrievals}
	_, _ = rand.Read(t.nonce)
	c.mu.Lock()
	c.kms.init()
	c.kms.importTokens[cl.instance] = t
	md := t.metadata()
	c.mu.Unlock()
	writeKPJSON(w, http.StatusCreated, md)
}

func (c *Cloud) kmsGetImportToken(w http.ResponseWriter, r *http.Request, cl kmsCaller) {
	c.mu.Lock()
	c.kms.init()
	t := c.kms.importTokens[cl.instance]
	var status int
	switch {
	case t == nil:
		status = http.StatusNotFound
	case time.Now().After(t.expires) || t.retrievalsConsumed >= t.maxRetrievals:
		status = http.StatusForbidden
	default:
		t.retrievalsConsumed++
	}
	c.mu.Unlock()
	switch status {
	case http.StatusNotFound:
		writeKPError(w, status, "IMPORT_TOKEN_NOT_FOUND_ERR", "Not Found: no import token exists for the instance")
		return
	case http.StatusForbidden:
		writeKPError(w, status, "IMPORT_TOKEN_EXPIRED_ERR", "Forbidden: the import token has expired or has no retrievals left")
		return
	}
	der, err := x509.MarshalPKIXPublicKey(&t.key.PublicKey)
	if err != nil {
		writeKPError(w, http.StatusInternalServerError, "INTERNAL_SERVER_ERR", "Internal Server Error: "+err.Error())
		return
	}
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	writeKPJSON(w, http.StatusOK, map[string]any{
		"id": t.id, "creationDate": t.created, "expirationDate": t.expires,
		"payload": base64.StdEncoding.EncodeToString(pemKey),
		"nonce":   base64.StdEncoding.EncodeToString(t.nonce),
	})
}

// kmsOpenSecureImport decrypts key material imported with the instance's
// import token and checks the encrypted nonce. It returns the material, or
// an HTTP status and message.
func (c *Cloud) kmsOpenSecureImport(instance, payload, encNonce, iv, alg string) ([]byte, int, string) {
	c.mu.Lock()
	c.kms.init()
	t := c.kms.importTokens[instance]
	c.mu.Unlock()
	if t == nil {
		return nil, http.StatusBadRequest, "Bad Request: no import token exists for the instance"
	}
	if time.Now().After(t.expires) {
		return nil, http.StatusBadRequest, "Bad Request: the import token has expired"
	}
	h := crypto.SHA256
	switch alg {
	case "", "RSAES_OAEP_SHA_256":
	case "RSAES_OAEP_SHA_1":
		h = crypto.SHA1
	default:
		return nil, http.StatusBadRequest, "Bad Request: unsupported encryptionAlgorithm " + alg
	}
	ct, err1 := base64.StdEncoding.DecodeString(payload)
	en, err2 := base64.StdEncoding.DecodeString(encNonce)
	ivb, err3 := base64.StdEncoding.DecodeString(iv)
	if err1 != nil || err2 != nil || err3 != nil || len(ivb) != 12 {
		return nil, http.StatusBadRequest, "Bad Request: payload, encryptedNonce and iv must be base64 (iv of 12 bytes)"
	}
	material, err := rsa.DecryptOAEP(h.New(), nil, t.key, ct, nil)
	if err != nil {
		return nil, http.StatusBadRequest, "Bad Request: the payload was not encrypted with the import token's public key"
	}
	if n := len(material); n != 16 && n != 24 && n != 32 {
		return nil, http.StatusBadRequest, "Bad Request: a root key payload must be 128, 192 or 256 bits"
	}
	g, err := newGCM(material)
	if err != nil {
		return nil, http.StatusBadRequest, "Bad Request: " + err.Error()
	}
	nonce, err := g.Open(nil, ivb, en, nil)
	if err != nil || !bytes.Equal(nonce, t.nonce) {
		return nil, http.StatusBadRequest, "Bad Request: the encrypted nonce does not match the import token"
	}
	return material, 0, ""
}
