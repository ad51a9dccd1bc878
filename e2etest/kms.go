package e2etest

// Key Protect / Hyper Protect Crypto Services emulation: routing, request
// authentication and the error envelope. Keys live in kms_keys.go, key
// actions (wrap, unwrap, rotate, …) in kms_actions.go.

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"
)

// kmsState holds every key of both KMS instances. Guarded by Cloud.mu.
type kmsState struct {
	keys         map[string]*kmsKey // key ID → key
	order        []string           // key IDs in creation order, for listing
	importTokens map[string]*kmsImportToken
}

func (s *kmsState) init() {
	if s.keys == nil {
		s.keys = map[string]*kmsKey{}
		s.importTokens = map[string]*kmsImportToken{}
	}
}

// Key Protect's media types.
const (
	kmsKeyType   = "application/vnd.ibm.kms.key+json"
	kmsErrorType = "application/vnd.ibm.kms.error+json"
	kmsActionURI = "kms/secrets"
)

// kmsCaller is an authenticated Key Protect request: who and which instance.
type kmsCaller struct {
	who      Identity
	instance string
	service  string // "kms" or "hs-crypto"
}

func (c *Cloud) kmsHandler() http.Handler {
	c.mu.Lock()
	c.kms.init()
	c.mu.Unlock()
	mux := http.NewServeMux()
	route := func(pattern, op string, h kmsHandlerFunc) { mux.HandleFunc(pattern, c.kmsRoute(op, h)) }
	route("POST /api/v2/keys", "createKey", c.kmsCreateKey)
	route("GET /api/v2/keys", "listKeys", c.kmsListKeys)
	route("GET /api/v2/keys/{id}", "getKey", c.kmsGetKey)
	route("GET /api/v2/keys/{id}/metadata", "getKey", c.kmsGetKey)
	route("GET /api/v2/keys/{id}/versions", "getKey", c.kmsListVersions)
	route("DELETE /api/v2/keys/{id}", "deleteKey", c.kmsDeleteKey)
	route("POST /api/v2/keys/{id}/actions/{action}", "", c.kmsAction)
	route("POST /api/v2/keys/{id}/aliases/{alias}", "createAlias", c.kmsCreateAlias)
	route("DELETE /api/v2/keys/{id}/aliases/{alias}", "deleteAlias", c.kmsDeleteAlias)
	route("POST /api/v2/import_token", "createImportToken", c.kmsCreateImportToken)
	route("GET /api/v2/import_token", "getImportToken", c.kmsGetImportToken)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeKPError(w, http.StatusNotFound, "NOT_FOUND_ERR", "Not Found: the requested resource does not exist")
	})
	return mux
}

// kmsHandlerFunc handles an authenticated Key Protect call.
type kmsHandlerFunc func(w http.ResponseWriter, r *http.Request, cl kmsCaller)

// kmsRoute wraps a handler with what every Key Protect call goes through:
// fault injection for op (an empty op is the {action} of the path), then
// authentication, instance resolution and the role check.
func (c *Cloud) kmsRoute(op string, h kmsHandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		op := op
		if op == "" {
			op = r.PathValue("action")
		}
		w, done := c.applyFault(ServiceKMS, op, w, r, writeKPError)
		if done {
			return
		}
		if cl, ok := c.kmsAuth(w, r, op); ok {
			h(w, r, cl)
		}
	}
}

// kmsAuth authenticates a request and resolves its bluemix-instance header.
// It answers the error itself and returns ok=false when the call is refused.
func (c *Cloud) kmsAuth(w http.ResponseWriter, r *http.Request, op string) (kmsCaller, bool) {
	who, err := c.authenticate(r)
	if err != nil {
		msg := "Unauthorized: The user does not have access to the specified resource"
		if errors.Is(err, errExpiredToken) {
			msg = "Unauthorized: the access token has expired"
		}
		writeKPError(w, http.StatusUnauthorized, "UNAUTHORIZED_ERR", msg)
		return kmsCaller{}, false
	}
	inst := r.Header.Get("Bluemix-Instance")
	cl := kmsCaller{who: who, instance: inst}
	switch {
	case inst == "":
		writeKPError(w, http.StatusBadRequest, "MISSING_INSTANCE_ERR", "Bad Request: the bluemix-instance header is required")
		return cl, false
	case inst == c.KPInstanceID:
		cl.service = "kms"
	case inst == c.HPCSInstanceID:
		cl.service = "hs-crypto"
	default:
		writeKPError(w, http.StatusUnauthorized, "INSTANCE_NOT_FOUND_ERR", "Unauthorized: the service instance does not exist or the user cannot access it")
		return cl, false
	}
	if who.AccountID != c.AccountID {
		writeKPError(w, http.StatusForbidden, "FORBIDDEN_ERR", "Forbidden: the token belongs to another account")
		return cl, false
	}
	resource := map[string]string{"serviceName": cl.service, "serviceInstance": cl.instance}
	if role := kmsRequiredRole(op); !c.hasAccess(who, role, resource) {
		writeKPError(w, http.StatusForbidden, "FORBIDDEN_ERR", "Forbidden: the caller has no "+role+" access to the instance")
		return cl, false
	}
	return cl, true
}

// kmsRequiredRole is the service role an operation needs, as Key Protect's
// roles grant them: Readers use keys, Writers create and rotate them,
// Managers change their state and delete them.
func kmsRequiredRole(op string) string {
	switch op {
	case "getKey", "listKeys", "wrap", "unwrap", "rewrap", "getImportToken":
		return "Reader"
	case "createKey", "rotate", "createImportToken", "createAlias", "deleteAlias":
		return "Writer"
	default:
		return "Manager"
	}
}

// writeKPError answers in Key Protect's error envelope, which
// keyprotect-go-client decodes into kp.Error{Message, Reasons}.
func writeKPError(w http.ResponseWriter, status int, code, msg string) {
	if code == "" {
		code = strings.ToUpper(strings.ReplaceAll(http.StatusText(status), " ", "_")) + "_ERR"
	}
	reasonMsg := msg
	if _, after, ok := strings.Cut(msg, ": "); ok {
		reasonMsg = after
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"metadata": map[string]any{"collectionType": kmsErrorType, "collectionTotal": 1},
		"resources": []map[string]any{{
			"errorMsg": msg,
			"reasons": []map[string]any{{
				"code": code, "message": reasonMsg, "status": status,
				"moreInfo": "https://cloud.ibm.com/apidocs/key-protect",
			}},
		}},
	})
}

func writeKPJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// kmsEvent records the audit event of a key operation. status is the HTTP
// status the call answered; anything but 2xx is a failure.
func (c *Cloud) kmsEvent(r *http.Request, who Identity, action string, k kmsKeyView, status int, msg string) {
	ev := Event{
		Action:  "kms.secrets." + action,
		Message: "Key Protect: " + action + " key " + k.Name,
		Target:  EventTarget{ID: k.CRN, Name: k.Name, TypeURI: kmsActionURI},
		Reason:  EventReason{ReasonCode: status},
		Service: ServiceKMS,
	}
	if status >= 300 {
		ev.Outcome = "failure"
		ev.Severity = "warning"
		ev.Message += " -failure: " + msg
	}
	if action == "delete" || action == "disable" {
		ev.Severity = "critical"
	}
	c.record(r, who, ev)
}

func kmsNow() time.Time { return time.Now().UTC().Truncate(time.Millisecond) }
