package e2etest

// IAM identity: service IDs (/v1/serviceids/) and API keys (/v1/apikeys) as
// iamidentityv1 speaks them. API keys created here work at the token endpoint.

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"time"
)

type iamServiceID struct {
	ID          string     `json:"id"`
	IAMID       string     `json:"iam_id"`
	EntityTag   string     `json:"entity_tag"`
	CRN         string     `json:"crn"`
	Locked      bool       `json:"locked"`
	CreatedAt   time.Time  `json:"created_at"`
	ModifiedAt  time.Time  `json:"modified_at"`
	AccountID   string     `json:"account_id"`
	Name        string     `json:"name"`
	Description string     `json:"description,omitempty"`
	Apikey      *iamAPIKey `json:"apikey,omitempty"`
}

type iamAPIKey struct {
	ID          string    `json:"id"`
	EntityTag   string    `json:"entity_tag"`
	CRN         string    `json:"crn"`
	Locked      bool      `json:"locked"`
	Disabled    bool      `json:"disabled"`
	CreatedAt   time.Time `json:"created_at"`
	CreatedBy   string    `json:"created_by"`
	ModifiedAt  time.Time `json:"modified_at"`
	Name        string    `json:"name"`
	Description string    `json:"description,omitempty"`
	IAMID       string    `json:"iam_id"`
	AccountID   string    `json:"account_id"`
	// Apikey is the secret; it is answered only when the key is created.
	Apikey string `json:"apikey"`
}

func (c *Cloud) identityRoutes(mux *http.ServeMux) {
	mux.HandleFunc("POST /v1/serviceids/", c.iamRoute("identity", c.iamCreateServiceID))
	mux.HandleFunc("GET /v1/serviceids/", c.iamRoute("identity", c.iamListServiceIDs))
	mux.HandleFunc("GET /v1/serviceids/{id}", c.iamRoute("identity", c.iamGetServiceID))
	mux.HandleFunc("DELETE /v1/serviceids/{id}", c.iamRoute("identity", c.iamDeleteServiceID))
	mux.HandleFunc("POST /v1/apikeys", c.iamRoute("identity", c.iamCreateAPIKey))
	mux.HandleFunc("GET /v1/apikeys", c.iamRoute("identity", c.iamListAPIKeys))
	mux.HandleFunc("GET /v1/apikeys/{id}", c.iamRoute("identity", c.iamGetAPIKey))
	mux.HandleFunc("DELETE /v1/apikeys/{id}", c.iamRoute("identity", c.iamDeleteAPIKey))
}

func (c *Cloud) identityEvent(r *http.Request, who Identity, action, crn, name string) {
	sev := "normal"
	if strings.HasSuffix(action, ".delete") {
		sev = "warning"
	}
	c.record(r, who, Event{Action: "iam-identity." + action, Service: ServiceIAM, Severity: sev,
		Target:  EventTarget{ID: crn, Name: name, TypeURI: "iam-identity/" + action[:strings.IndexByte(action, '.')]},
		Message: "IAM Identity Service: " + action + " " + name})
}

// newAPIKey creates an API key for iamID and makes it valid at the token
// endpoint. Callers must not hold c.mu.
func (c *Cloud) newAPIKey(creator Identity, iamID, name, desc, value string) (*iamAPIKey, bool) {
	now := time.Now().UTC().Truncate(time.Millisecond)
	id := Identity{IAMID: iamID, AccountID: c.AccountID, Kind: "serviceid", Name: name}
	c.mu.Lock()
	found := false
	for _, s := range c.policies.serviceIDs {
		if s.IAMID == iamID {
			id.Name, found = s.Name, true
		}
	}
	c.mu.Unlock()
	if !found {
		owner, _ := c.lookupAPIKey(c.APIKey)
		if owner.IAMID != iamID {
			return nil, false
		}
		id = owner
	}
	if value == "" {
		value = "e2e-" + randomHex(20)
	}
	k := &iamAPIKey{ID: "ApiKey-" + newUUID(), EntityTag: "1-" + randomHex(16), CreatedAt: now, ModifiedAt: now,
		CreatedBy: creator.IAMID, Name: name, Description: desc, IAMID: iamID, AccountID: c.AccountID, Apikey: value}
	k.CRN = "crn:v1:bluemix:public:iam-identity::a/" + c.AccountID + "::apikey:" + k.ID
	c.mu.Lock()
	c.policies.apiKeys = append(c.policies.apiKeys, k)
	c.mu.Unlock()
	c.addAPIKey(value, id)
	return k, true
}

// redacted copies an API key without its secret, as IAM lists keys.
func (k *iamAPIKey) redacted() iamAPIKey {
	cp := *k
	cp.Apikey = ""
	return cp
}

func (c *Cloud) iamCreateServiceID(w http.ResponseWriter, r *http.Request, who Identity) {
	var req struct {
		AccountID   string `json:"account_id"`
		Name        string `json:"name"`
		Description string `json:"description"`
		Apikey      *struct {
			Name        string `json:"name"`
			Description string `json:"description"`
			Apikey      string `json:"apikey"`
		} `json:"apikey"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&req); err != nil {
		writeIAMError(w, http.StatusBadRequest, "BXNIM0109E", "Invalid request body.")
		return
	}
	if req.AccountID != c.AccountID || req.Name == "" {
		writeIAMError(w, http.StatusBadRequest, "BXNIM0109E", "Property missing or empty. Properties: account_id, name")
		return
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	uid := newUUID()
	s := &iamServiceID{ID: "ServiceId-" + uid, IAMID: "iam-ServiceId-" + uid, EntityTag: "1-" + randomHex(16),
		CreatedAt: now, ModifiedAt: now, AccountID: c.AccountID, Name: req.Name, Description: req.Description}
	s.CRN = "crn:v1:bluemix:public:iam-identity::a/" + c.AccountID + "::serviceid:" + s.ID
	c.mu.Lock()
	c.policies.serviceIDs = append(c.policies.serviceIDs, s)
	out := *s
	c.mu.Unlock()
	c.identityEvent(r, who, "serviceid.create", s.CRN, s.Name)
	if req.Apikey != nil {
		k, _ := c.newAPIKey(who, s.IAMID, req.Apikey.Name, req.Apikey.Description, req.Apikey.Apikey)
		c.identityEvent(r, who, "apikey.create", k.CRN, k.Name)
		out.Apikey = k
	}
	writeKPJSON(w, http.StatusCreated, &out)
}

func (c *Cloud) iamListServiceIDs(w http.ResponseWriter, r *http.Request, who Identity) {
	name := r.URL.Query().Get("name")
	c.mu.Lock()
	list := []iamServiceID{}
	for _, s := range c.policies.serviceIDs {
		if name == "" || s.Name == name {
			list = append(list, *s)
		}
	}
	c.mu.Unlock()
	writeKPJSON(w, http.StatusOK, map[string]any{"offset": 0, "limit": len(list), "serviceids": list})
}

func (c *Cloud) findServiceID(id string) (int, *iamServiceID) {
	for i, s := range c.policies.serviceIDs {
		if s.ID == id || s.IAMID == id {
			return i, s
		}
	}
	return -1, nil
}

func (c *Cloud) iamGetServiceID(w http.ResponseWriter, r *http.Request, who Identity) {
	c.mu.Lock()
	_, s := c.findServiceID(r.PathValue("id"))
	var out iamServiceID
	if s != nil {
		out = *s
	}
	c.mu.Unlock()
	if s == nil {
		writeIAMError(w, http.StatusNotFound, "BXNIM0443E", "Service ID not found.")
		return
	}
	writeKPJSON(w, http.StatusOK, &out)
}

func (c *Cloud) iamDeleteServiceID(w http.ResponseWriter, r *http.Request, who Identity) {
	c.mu.Lock()
	i, s := c.findServiceID(r.PathValue("id"))
	var revoked []string
	if s != nil {
		c.policies.serviceIDs = slices.Delete(c.policies.serviceIDs, i, i+1)
		// Deleting a service ID deletes its API keys, as IAM does.
		c.policies.apiKeys = slices.DeleteFunc(c.policies.apiKeys, func(k *iamAPIKey) bool {
			if k.IAMID == s.IAMID {
				revoked = append(revoked, k.Apikey)
				return true
			}
			return false
		})
	}
	c.mu.Unlock()
	if s == nil {
		writeIAMError(w, http.StatusNotFound, "BXNIM0443E", "Service ID not found.")
		return
	}
	for _, v := range revoked {
		c.removeAPIKey(v)
	}
	c.identityEvent(r, who, "serviceid.delete", s.CRN, s.Name)
	w.WriteHeader(http.StatusNoContent)
}

func (c *Cloud) iamCreateAPIKey(w http.ResponseWriter, r *http.Request, who Identity) {
	var req struct {
		Name        string `json:"name"`
		IAMID       string `json:"iam_id"`
		Description string `json:"description"`
		AccountID   string `json:"account_id"`
		Apikey      string `json:"apikey"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&req); err != nil {
		writeIAMError(w, http.StatusBadRequest, "BXNIM0109E", "Invalid request body.")
		return
	}
	if req.Name == "" || req.IAMID == "" || (req.AccountID != "" && req.AccountID != c.AccountID) {
		writeIAMError(w, http.StatusBadRequest, "BXNIM0109E", "Property missing or empty. Properties: name, iam_id")
		return
	}
	k, found := c.newAPIKey(who, req.IAMID, req.Name, req.Description, req.Apikey)
	if !found {
		writeIAMError(w, http.StatusNotFound, "BXNIM0443E", "The iam_id does not name an identity of this account.")
		return
	}
	c.identityEvent(r, who, "apikey.create", k.CRN, k.Name)
	writeKPJSON(w, http.StatusCreated, k)
}

func (c *Cloud) iamListAPIKeys(w http.ResponseWriter, r *http.Request, who Identity) {
	iamID := r.URL.Query().Get("iam_id")
	c.mu.Lock()
	list := []iamAPIKey{}
	for _, k := range c.policies.apiKeys {
		if iamID == "" || k.IAMID == iamID {
			list = append(list, k.redacted())
		}
	}
	c.mu.Unlock()
	writeKPJSON(w, http.StatusOK, map[string]any{"offset": 0, "limit": len(list), "apikeys": list})
}

func (c *Cloud) findAPIKey(id string) (int, *iamAPIKey) {
	for i, k := range c.policies.apiKeys {
		if k.ID == id {
			return i, k
		}
	}
	return -1, nil
}

func (c *Cloud) iamGetAPIKey(w http.ResponseWriter, r *http.Request, who Identity) {
	c.mu.Lock()
	_, k := c.findAPIKey(r.PathValue("id"))
	var out iamAPIKey
	if k != nil {
		out = k.redacted()
	}
	c.mu.Unlock()
	if k == nil {
		writeIAMError(w, http.StatusNotFound, "BXNIM0445E", "API key not found.")
		return
	}
	writeKPJSON(w, http.StatusOK, &out)
}

func (c *Cloud) iamDeleteAPIKey(w http.ResponseWriter, r *http.Request, who Identity) {
	c.mu.Lock()
	i, k := c.findAPIKey(r.PathValue("id"))
	if k != nil {
		c.policies.apiKeys = slices.Delete(c.policies.apiKeys, i, i+1)
	}
	c.mu.Unlock()
	if k == nil {
		writeIAMError(w, http.StatusNotFound, "BXNIM0445E", "API key not found.")
		return
	}
	c.removeAPIKey(k.Apikey)
	c.identityEvent(r, who, "apikey.delete", k.CRN, k.Name)
	w.WriteHeader(http.StatusNoContent)
}

// RevokeAPIKey makes an API key unknown to the token endpoint, as deleting
// it in IAM would; tokens already issued for it stay valid until they expire.
func (c *Cloud) RevokeAPIKey(apiKey string) {
	c.mu.Lock()
	c.policies.apiKeys = slices.DeleteFunc(c.policies.apiKeys, func(k *iamAPIKey) bool { return k.Apikey == apiKey })
	c.mu.Unlock()
	c.removeAPIKey(apiKey)
}
