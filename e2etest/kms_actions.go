package e2etest

// Key Protect key actions: wrap, unwrap, rewrap, rotate, disable, enable.
// Wrapping is AES-256-GCM under the key version's material; the ciphertext
// (WDEK) names the key and version so unwrap finds the material even after
// rotations.

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// maxWrapPlaintext is the largest DEK Key Protect wraps (7,168 bytes).
const maxWrapPlaintext = 7168

// WDEK layout: magic | format | key ID (36) | version ID (36) | nonce (12) | sealed.
var wdekMagic = []byte("E2EW")

const (
	wdekFormat  = 1
	wdekIDLen   = 36
	wdekHdrLen  = 4 + 1 + 2*wdekIDLen
	wdekMinSize = wdekHdrLen + 12 + 16
)

// Errors of WDEK parsing and unwrapping.
var (
	errWDEKMalformed = errors.New("e2etest: the wrapped DEK is not a Key Protect ciphertext")
	errWDEKWrongKey  = errors.New("e2etest: the wrapped DEK was not wrapped by this root key")
	errWDEKOpen      = errors.New("e2etest: the wrapped DEK does not authenticate (corrupted or wrong AAD)")
)

// wdekHeader is the parsed plaintext part of a WDEK.
type wdekHeader struct {
	keyID, versionID string
	nonce, sealed    []byte
	hdr              []byte
}

func parseWDEK(raw []byte) (wdekHeader, error) {
	if len(raw) < wdekMinSize || !bytes.Equal(raw[:4], wdekMagic) || raw[4] != wdekFormat {
		return wdekHeader{}, errWDEKMalformed
	}
	h := wdekHeader{
		keyID:     string(raw[5 : 5+wdekIDLen]),
		versionID: string(raw[5+wdekIDLen : wdekHdrLen]),
		nonce:     raw[wdekHdrLen : wdekHdrLen+12],
		sealed:    raw[wdekHdrLen+12:],
		hdr:       raw[:wdekHdrLen],
	}
	return h, nil
}

// wdekAAD binds the header and the caller's AAD strings (length-prefixed,
// so ["ab","c"] and ["a","bc"] differ) to the ciphertext.
func wdekAAD(hdr []byte, aad []string) []byte {
	out := append([]byte(nil), hdr...)
	for _, s := range aad {
		out = binary.BigEndian.AppendUint32(out, uint32(len(s)))
		out = append(out, s...)
	}
	return out
}

func newGCM(material []byte) (cipher.AEAD, error) {
	b, err := aes.NewCipher(material)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(b)
}

// sealWDEK wraps dek under version v of key k.
func sealWDEK(k *kmsKey, v *kmsKeyVersion, dek []byte, aad []string) ([]byte, error) {
	if len(k.id) != wdekIDLen || len(v.id) != wdekIDLen {
		return nil, errors.New("e2etest: bad key or version ID length")
	}
	g, err := newGCM(v.material)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, wdekHdrLen+12+len(dek)+16)
	out = append(out, wdekMagic...)
	out = append(out, wdekFormat)
	out = append(out, k.id...)
	out = append(out, v.id...)
	hdrEnd := len(out)
	nonce := make([]byte, 12)
	if _, err := io.ReadFull(rand.Reader, nonce); err != nil {
		return nil, err
	}
	out = append(out, nonce...)
	return g.Seal(out, nonce, dek, wdekAAD(out[:hdrEnd], aad)), nil
}

// openWDEK unwraps raw with key k; it returns the DEK and the version used.
func openWDEK(k *kmsKey, raw []byte, aad []string) ([]byte, *kmsKeyVersion, error) {
	h, err := parseWDEK(raw)
	if err != nil {
		return nil, nil, err
	}
	if h.keyID != k.id {
		return nil, nil, errWDEKWrongKey
	}
	v := k.version(h.versionID)
	if v == nil {
		return nil, nil, errWDEKWrongKey
	}
	g, err := newGCM(v.material)
	if err != nil {
		return nil, nil, err
	}
	dek, err := g.Open(nil, h.nonce, h.sealed, wdekAAD(h.hdr, aad))
	if err != nil {
		return nil, nil, errWDEKOpen
	}
	return dek, v, nil
}

// kmsActionRequest is the body of POST /api/v2/keys/{id}/actions/{action}.
type kmsActionRequest struct {
	PlainText           string   `json:"plaintext"`
	CipherText          string   `json:"ciphertext"`
	AAD                 []string `json:"aad"`
	Payload             string   `json:"payload"`
	EncryptedNonce      string   `json:"encryptedNonce"`
	IV                  string   `json:"iv"`
	EncryptionAlgorithm string   `json:"encryptionAlgorithm"`
}

// kmsActionError is a refused action: status, KP reason code and message.
type kmsActionError struct {
	status    int
	code, msg string
}

var (
	kmsErrInvalidState = &kmsActionError{http.StatusConflict, "KEY_ACTION_INVALID_STATE_ERR", "Conflict: Key is not in a valid state"}
	kmsErrDeleted      = &kmsActionError{http.StatusGone, "KEY_DELETED_ERR", "Gone: The key has been deleted"}
	kmsErrRootOnly     = &kmsActionError{http.StatusBadRequest, "KEY_ROOT_REQ_ERR", "Bad Request: Requested action can only be completed with a root key"}
	kmsErrCiphertext   = &kmsActionError{http.StatusUnprocessableEntity, "UNPROCESSABLE_CIPHERTEXT_ERR", "Unprocessable Entity: The provided ciphertext is invalid or corrupted"}
)

func kmsBadBody(msg string) *kmsActionError {
	return &kmsActionError{http.StatusBadRequest, "BAD_BODY_ERR", "Bad Request: " + msg}
}

func (c *Cloud) kmsAction(w http.ResponseWriter, r *http.Request, cl kmsCaller) {
	action := r.PathValue("action")
	switch action {
	case "wrap", "unwrap", "rewrap", "rotate", "disable", "enable":
	default:
		writeKPError(w, http.StatusBadRequest, "BAD_ACTION_ERR", "Bad Request: unsupported key action "+action)
		return
	}
	var req kmsActionRequest
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
	if err != nil {
		writeKPError(w, http.StatusBadRequest, "BAD_BODY_ERR", "Bad Request: the request body could not be read")
		return
	}
	if len(bytes.TrimSpace(body)) > 0 {
		if err := json.Unmarshal(body, &req); err != nil {
			writeKPError(w, http.StatusBadRequest, "BAD_BODY_ERR", "Bad Request: the request body is not valid JSON")
			return
		}
	}
	c.mu.Lock()
	k := c.lookupKey(cl.instance, r.PathValue("id"))
	if k == nil {
		c.mu.Unlock()
		writeKPError(w, http.StatusNotFound, "KEY_NOT_FOUND_ERR", "Not Found: Key does not exist")
		return
	}
	resp, aerr := c.kmsDoAction(k, action, &req)
	v := k.view(false)
	c.mu.Unlock()
	if aerr != nil {
		c.kmsEvent(r, cl.who, action, v, aerr.status, aerr.msg)
		writeKPError(w, aerr.status, aerr.code, aerr.msg)
		return
	}
	c.kmsEvent(r, cl.who, action, v, http.StatusOK, "")
	if resp == nil {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	writeKPJSON(w, http.StatusOK, resp)
}

// kmsDoAction performs an action on k. Callers hold c.mu.
func (c *Cloud) kmsDoAction(k *kmsKey, action string, req *kmsActionRequest) (map[string]any, *kmsActionError) {
	if k.state == KeyDestroyed {
		return nil, kmsErrDeleted
	}
	switch action {
	case "wrap", "unwrap", "rewrap", "rotate":
		if k.extractable {
			return nil, kmsErrRootOnly
		}
	}
	allowed := k.state == KeyActive
	switch action {
	case "unwrap":
		allowed = k.state == KeyActive || k.state == KeyDeactivated
	case "enable":
		allowed = k.state == KeySuspended
	}
	if !allowed {
		return nil, kmsErrInvalidState
	}
	versionView := func(v *kmsKeyVersion) map[string]any {
		return map[string]any{"id": v.id, "creationDate": v.created}
	}
	switch action {
	case "wrap":
		var dek []byte
		generated := req.PlainText == ""
		if generated {
			dek = make([]byte, 32)
			_, _ = rand.Read(dek)
		} else {
			var err error
			if dek, err = base64.StdEncoding.DecodeString(req.PlainText); err != nil {
				return nil, kmsBadBody("the plaintext is not base64")
			}
			if len(dek) == 0 || len(dek) > maxWrapPlaintext {
				return nil, kmsBadBody(fmt.Sprintf("the plaintext must be 1 to %d bytes", maxWrapPlaintext))
			}
		}
		cur := k.current()
		ct, err := sealWDEK(k, cur, dek, req.AAD)
		if err != nil {
			return nil, &kmsActionError{http.StatusInternalServerError, "INTERNAL_SERVER_ERR", "Internal Server Error: " + err.Error()}
		}
		out := map[string]any{"ciphertext": base64.StdEncoding.EncodeToString(ct), "keyVersion": versionView(cur)}
		if generated {
			out["plaintext"] = base64.StdEncoding.EncodeToString(dek)
		}
		clear(dek)
		return out, nil
	case "unwrap", "rewrap":
		raw, err := base64.StdEncoding.DecodeString(req.CipherText)
		if err != nil || req.CipherText == "" {
			return nil, kmsBadBody("the ciphertext is missing or not base64")
		}
		dek, ver, err := openWDEK(k, raw, req.AAD)
		if err != nil {
			return nil, kmsErrCiphertext
		}
		defer clear(dek)
		cur := k.current()
		out := map[string]any{"keyVersion": versionView(ver)}
		if action == "unwrap" {
			out["plaintext"] = base64.StdEncoding.EncodeToString(dek)
		}
		if ver != cur || action == "rewrap" {
			ct, err := sealWDEK(k, cur, dek, req.AAD)
			if err != nil {
				return nil, &kmsActionError{http.StatusInternalServerError, "INTERNAL_SERVER_ERR", "Internal Server Error: " + err.Error()}
			}
			out["ciphertext"] = base64.StdEncoding.EncodeToString(ct)
			out["rewrappedKeyVersion"] = versionView(cur)
			if action == "rewrap" {
				out["keyVersion"] = versionView(cur)
			}
		}
		return out, nil
	case "rotate":
		var material []byte
		switch {
		case k.imported && req.Payload == "":
			return nil, kmsBadBody("rotating an imported key requires a new payload")
		case !k.imported && req.Payload != "":
			return nil, kmsBadBody("a payload is only accepted when rotating an imported key")
		case req.EncryptedNonce != "" || req.IV != "":
			m, code, msg := c.kmsOpenSecureImport(k.instance, req.Payload, req.EncryptedNonce, req.IV, req.EncryptionAlgorithm)
			if code != 0 {
				return nil, &kmsActionError{code, "IMPORT_TOKEN_ERR", msg}
			}
			material = m
		case k.imported:
			m, err := base64.StdEncoding.DecodeString(req.Payload)
			if err != nil {
				return nil, kmsBadBody("the payload is not base64")
			}
			material = m
		default:
			material = make([]byte, 32)
			_, _ = rand.Read(material)
		}
		if n := len(material); n != 16 && n != 24 && n != 32 {
			return nil, kmsBadBody("a root key payload must be 128, 192 or 256 bits")
		}
		now := kmsNow()
		k.versions = append(k.versions, kmsKeyVersion{id: newUUID(), material: material, created: now})
		k.rotated, k.updated = now, now
		return nil, nil
	case "disable":
		k.state, k.updated = KeySuspended, kmsNow()
		return nil, nil
	case "enable":
		k.state, k.updated = KeyActive, kmsNow()
		return nil, nil
	}
	return nil, kmsBadBody("unsupported action")
}

// unwrapWDEK unwraps a wrapped DEK with the root key named by its CRN, as
// the storage service does during an import; it fails when the key does not
// exist, is not in a state that allows unwrap, or the WDEK is not its. The
// WDEK is the ciphertext as Key Protect returns it (base64 text); raw bytes
// are accepted too. It returns the raw DEK bytes, without AAD (IBM's image
// import uses WDEKs without AAD). initiator is the IAM service name that
// unwraps and is authorized to: "server-protect" (Cloud Block Storage) for
// a classic import, "is" (the VPC image service) for a VPC one.
func (c *Cloud) unwrapWDEK(initiator, rootKeyCRN string, wdek []byte) ([]byte, error) {
	parts := strings.Split(rootKeyCRN, ":")
	// crn:v1:bluemix:public:<service>:<region>:a/<account>:<instance>:key:<id>
	if len(parts) != 10 || parts[0] != "crn" || parts[8] != "key" || (parts[4] != "kms" && parts[4] != "hs-crypto") {
		return nil, fmt.Errorf("e2etest: %q is not a root key CRN", rootKeyCRN)
	}
	if parts[6] != "a/"+c.AccountID {
		return nil, fmt.Errorf("e2etest: root key %s belongs to another account", rootKeyCRN)
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(wdek)))
	if err != nil {
		raw = wdek
	}
	dek, name, err := func() ([]byte, string, error) {
		c.mu.Lock()
		defer c.mu.Unlock()
		k := c.lookupKey(parts[7], parts[9])
		switch {
		case k == nil || k.crn != rootKeyCRN:
			return nil, "", fmt.Errorf("e2etest: root key %s does not exist", rootKeyCRN)
		case k.extractable:
			return nil, k.name, fmt.Errorf("e2etest: key %s is a standard key, not a root key", rootKeyCRN)
		case k.state != KeyActive && k.state != KeyDeactivated:
			return nil, k.name, fmt.Errorf("e2etest: root key %s is %s; unwrap needs an active key", rootKeyCRN, keyStateName(k.state))
		}
		dek, _, err := openWDEK(k, raw, nil)
		return dek, k.name, err
	}()
	// The importing service's unwrap shows in the key's audit trail, with
	// that service as the initiator, as on IBM Cloud.
	ev := Event{Action: "kms.secrets.unwrap", Message: "Key Protect: unwrap key " + name,
		Target: EventTarget{ID: rootKeyCRN, Name: name, TypeURI: kmsActionURI}, Service: ServiceKMS}
	ev.Initiator.ID = "crn:v1:bluemix:public:iam-identity::a/" + c.AccountID + "::serviceid:" + initiator
	ev.Initiator.Name = initiator
	ev.Initiator.TypeURI = "service/security/account/service"
	ev.Initiator.Credential.Type = "token"
	if err != nil {
		ev.Outcome, ev.Severity = "failure", "warning"
		ev.Reason.ReasonCode = 400
		ev.Message += " -failure"
	}
	c.record(nil, Identity{}, ev)
	if err != nil {
		return nil, err
	}
	return dek, nil
}

func keyStateName(s int) string {
	switch s {
	case KeyActive:
		return "active"
	case KeySuspended:
		return "suspended"
	case KeyDeactivated:
		return "deactivated"
	case KeyDestroyed:
		return "destroyed"
	}
	return fmt.Sprintf("state %d", s)
}
