package e2etest

// Key Protect keys: create, import, get, list, versions, aliases, delete.

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Key states, numbered as Key Protect numbers them.
const (
	KeyActive      = 1
	KeySuspended   = 2
	KeyDeactivated = 3
	KeyDestroyed   = 5
)

type kmsKey struct {
	id, name, description string
	instance, service     string
	crn                   string
	extractable, imported bool
	state                 int
	versions              []kmsKeyVersion // oldest first; the last is current
	aliases               []string
	createdBy             string
	created, updated      time.Time
	rotated, deleted      time.Time
}

// kmsKeyVersion is one generation of key material; it never leaves the
// emulator (except a standard key's payload, which is extractable by design).
type kmsKeyVersion struct {
	id       string
	material []byte
	created  time.Time
}

func (k *kmsKey) current() *kmsKeyVersion { return &k.versions[len(k.versions)-1] }

func (k *kmsKey) version(id string) *kmsKeyVersion {
	for i := range k.versions {
		if k.versions[i].id == id {
			return &k.versions[i]
		}
	}
	return nil
}

// kmsKeyView is the JSON shape of a key, as kp.Key decodes it.
type kmsKeyView struct {
	ID             string             `json:"id"`
	Name           string             `json:"name"`
	Description    string             `json:"description,omitempty"`
	Type           string             `json:"type"`
	Aliases        []string           `json:"aliases,omitempty"`
	AlgorithmType  string             `json:"algorithmType"`
	CreatedBy      string             `json:"createdBy"`
	CreationDate   time.Time          `json:"creationDate"`
	LastUpdateDate time.Time          `json:"lastUpdateDate"`
	LastRotateDate *time.Time         `json:"lastRotateDate,omitempty"`
	KeyVersion     *kmsKeyVersionView `json:"keyVersion,omitempty"`
	Extractable    bool               `json:"extractable"`
	Imported       bool               `json:"imported"`
	Payload        string             `json:"payload,omitempty"`
	State          int                `json:"state"`
	CRN            string             `json:"crn"`
	Deleted        bool               `json:"deleted"`
	DeletionDate   *time.Time         `json:"deletionDate,omitempty"`
	DeletedBy      string             `json:"deletedBy,omitempty"`
}

type kmsKeyVersionView struct {
	ID           string    `json:"id"`
	CreationDate time.Time `json:"creationDate"`
}

// view snapshots a key; withPayload adds a standard key's material.
func (k *kmsKey) view(withPayload bool) kmsKeyView {
	cur := k.current()
	v := kmsKeyView{
		ID: k.id, Name: k.name, Description: k.description, Type: kmsKeyType,
		Aliases: slices.Clone(k.aliases), AlgorithmType: "AES", CreatedBy: k.createdBy,
		CreationDate: k.created, LastUpdateDate: k.updated,
		KeyVersion:  &kmsKeyVersionView{ID: cur.id, CreationDate: cur.created},
		Extractable: k.extractable, Imported: k.imported, State: k.state, CRN: k.crn,
	}
	if !k.rotated.IsZero() {
		t := k.rotated
		v.LastRotateDate = &t
	}
	if k.state == KeyDestroyed {
		v.Deleted = true
		t := k.deleted
		v.DeletionDate = &t
		v.KeyVersion = nil
	}
	if withPayload && k.extractable && k.state != KeyDestroyed {
		v.Payload = base64.StdEncoding.EncodeToString(cur.material)
	}
	return v
}

func kmsKeysEnvelope(keys ...kmsKeyView) map[string]any {
	if keys == nil {
		keys = []kmsKeyView{}
	}
	return map[string]any{
		"metadata":  map[string]any{"collectionType": kmsKeyType, "collectionTotal": len(keys)},
		"resources": keys,
	}
}

// lookupKey finds a key of the caller's instance by ID or alias. Callers hold c.mu.
func (c *Cloud) lookupKey(instance, idOrAlias string) *kmsKey {
	c.kms.init()
	if k, ok := c.kms.keys[idOrAlias]; ok && k.instance == instance {
		return k
	}
	for _, id := range c.kms.order {
		k := c.kms.keys[id]
		if k.instance == instance && slices.Contains(k.aliases, idOrAlias) {
			return k
		}
	}
	return nil
}

// kmsCreateRequest is the body of POST /api/v2/keys.
type kmsCreateRequest struct {
	Metadata struct {
		CollectionType  string `json:"collectionType"`
		CollectionTotal int    `json:"collectionTotal"`
	} `json:"metadata"`
	Resources []struct {
		Type                string   `json:"type"`
		Name                string   `json:"name"`
		Description         string   `json:"description"`
		Extractable         bool     `json:"extractable"`
		Payload             string   `json:"payload"`
		EncryptedNonce      string   `json:"encryptedNonce"`
		IV                  string   `json:"iv"`
		EncryptionAlgorithm string   `json:"encryptionAlgorithm"`
		Aliases             []string `json:"aliases"`
	} `json:"resources"`
}

func (c *Cloud) kmsCreateKey(w http.ResponseWriter, r *http.Request, cl kmsCaller) {
	var req kmsCreateRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&req); err != nil || len(req.Resources) != 1 {
		writeKPError(w, http.StatusBadRequest, "BAD_BODY_ERR", "Bad Request: the request body is not a key collection of one resource")
		return
	}
	res := req.Resources[0]
	if res.Name == "" || len(res.Name) > 90 {
		writeKPError(w, http.StatusBadRequest, "BAD_BODY_ERR", "Bad Request: a key name of 1 to 90 characters is required")
		return
	}
	if len(res.Aliases) > 5 {
		writeKPError(w, http.StatusBadRequest, "BAD_BODY_ERR", "Bad Request: a key can have at most 5 aliases")
		return
	}
	var material []byte
	imported := res.Payload != ""
	switch {
	case !imported:
		material = make([]byte, 32)
		_, _ = rand.Read(material)
	case res.EncryptedNonce != "" || res.IV != "":
		if res.Extractable {
			writeKPError(w, http.StatusBadRequest, "BAD_BODY_ERR", "Bad Request: standard keys cannot be imported with an import token")
			return
		}
		m, code, msg := c.kmsOpenSecureImport(cl.instance, res.Payload, res.EncryptedNonce, res.IV, res.EncryptionAlgorithm)
		if code != 0 {
			writeKPError(w, code, "IMPORT_TOKEN_ERR", msg)
			return
		}
		material = m
	default:
		m, err := base64.StdEncoding.DecodeString(res.Payload)
		if err != nil {
			writeKPError(w, http.StatusBadRequest, "BAD_PAYLOAD_ERR", "Bad Request: the payload is not base64")
			return
		}
		material = m
	}
	if !res.Extractable && len(material) != 16 && len(material) != 24 && len(material) != 32 {
		writeKPError(w, http.StatusBadRequest, "BAD_PAYLOAD_ERR",
			"Bad Request: a root key payload must be 128, 192 or 256 bits, got "+strconv.Itoa(len(material)*8))
		return
	}
	now := kmsNow()
	k := &kmsKey{
		id: newUUID(), name: res.Name, description: res.Description,
		instance: cl.instance, service: cl.service,
		extractable: res.Extractable, imported: imported, state: KeyActive,
		versions:  []kmsKeyVersion{{id: newUUID(), material: material, created: now}},
		createdBy: cl.who.IAMID, created: now, updated: now,
	}
	k.crn = "crn:v1:bluemix:public:" + cl.service + ":" + c.Region + ":a/" + c.AccountID + ":" + cl.instance + ":key:" + k.id
	c.mu.Lock()
	for _, a := range res.Aliases {
		if c.lookupKey(cl.instance, a) != nil {
			c.mu.Unlock()
			writeKPError(w, http.StatusConflict, "ALIAS_NOT_UNIQUE_ERR", "Conflict: the alias "+a+" is already in use")
			return
		}
	}
	k.aliases = slices.Clone(res.Aliases)
	c.kms.keys[k.id] = k
	c.kms.order = append(c.kms.order, k.id)
	v := k.view(false)
	c.mu.Unlock()
	c.kmsEvent(r, cl.who, "create", v, http.StatusCreated, "")
	writeKPJSON(w, http.StatusCreated, kmsKeysEnvelope(v))
}

func (c *Cloud) kmsGetKey(w http.ResponseWriter, r *http.Request, cl kmsCaller) {
	c.mu.Lock()
	k := c.lookupKey(cl.instance, r.PathValue("id"))
	var v kmsKeyView
	if k != nil {
		v = k.view(!strings.HasSuffix(r.URL.Path, "/metadata"))
	}
	c.mu.Unlock()
	switch {
	case k == nil:
		writeKPError(w, http.StatusNotFound, "KEY_NOT_FOUND_ERR", "Not Found: Key does not exist")
	case v.State == KeyDestroyed:
		writeKPError(w, http.StatusGone, "KEY_DELETED_ERR", "Gone: The key has been deleted")
	default:
		writeKPJSON(w, http.StatusOK, kmsKeysEnvelope(v))
	}
}

func (c *Cloud) kmsListKeys(w http.ResponseWriter, r *http.Request, cl kmsCaller) {
	q := r.URL.Query()
	limit, offset := 200, 0
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 5000 {
			writeKPError(w, http.StatusBadRequest, "BAD_QUERY_PARAM_ERR", "Bad Request: limit must be 1 to 5000")
			return
		}
		limit = n
	}
	if s := q.Get("offset"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			writeKPError(w, http.StatusBadRequest, "BAD_QUERY_PARAM_ERR", "Bad Request: offset must be a non-negative integer")
			return
		}
		offset = n
	}
	states := []int{KeyActive, KeySuspended, KeyDeactivated}
	if s := q.Get("state"); s != "" {
		states = nil
		for f := range strings.SplitSeq(s, ",") {
			n, err := strconv.Atoi(f)
			if err != nil {
				writeKPError(w, http.StatusBadRequest, "BAD_QUERY_PARAM_ERR", "Bad Request: state must be a list of key states")
				return
			}
			states = append(states, n)
		}
	}
	extractable := q.Get("extractable")
	c.mu.Lock()
	c.kms.init()
	var all []kmsKeyView
	for _, id := range c.kms.order {
		k := c.kms.keys[id]
		if k.instance != cl.instance || !slices.Contains(states, k.state) {
			continue
		}
		if extractable != "" && strconv.FormatBool(k.extractable) != extractable {
			continue
		}
		all = append(all, k.view(false))
	}
	c.mu.Unlock()
	page := all[min(offset, len(all)):min(offset+limit, len(all))]
	writeKPJSON(w, http.StatusOK, kmsKeysEnvelope(page...))
}

func (c *Cloud) kmsListVersions(w http.ResponseWriter, r *http.Request, cl kmsCaller) {
	c.mu.Lock()
	k := c.lookupKey(cl.instance, r.PathValue("id"))
	var vs []kmsKeyVersionView
	if k != nil {
		for i := len(k.versions) - 1; i >= 0; i-- { // newest first, as KP lists them
			vs = append(vs, kmsKeyVersionView{ID: k.versions[i].id, CreationDate: k.versions[i].created})
		}
	}
	c.mu.Unlock()
	if k == nil {
		writeKPError(w, http.StatusNotFound, "KEY_NOT_FOUND_ERR", "Not Found: Key does not exist")
		return
	}
	writeKPJSON(w, http.StatusOK, map[string]any{
		"metadata":  map[string]any{"collectionType": "application/vnd.ibm.kms.key_version+json", "collectionTotal": len(vs)},
		"resources": vs,
	})
}

func (c *Cloud) kmsDeleteKey(w http.ResponseWriter, r *http.Request, cl kmsCaller) {
	c.mu.Lock()
	k := c.lookupKey(cl.instance, r.PathValue("id"))
	var v kmsKeyView
	already := false
	if k != nil {
		already = k.state == KeyDestroyed
		if !already {
			k.state = KeyDestroyed
			k.deleted = kmsNow()
			k.updated = k.deleted
			k.aliases = nil
			for i := range k.versions { // crypto-shred: the material is gone for good
				clear(k.versions[i].material)
			}
		}
		v = k.view(false)
		v.DeletedBy = cl.who.IAMID
	}
	c.mu.Unlock()
	switch {
	case k == nil:
		writeKPError(w, http.StatusNotFound, "KEY_NOT_FOUND_ERR", "Not Found: Key does not exist")
	case already:
		c.kmsEvent(r, cl.who, "delete", v, http.StatusGone, "key already deleted")
		writeKPError(w, http.StatusGone, "KEY_DELETED_ERR", "Gone: The key has already been deleted")
	default:
		c.kmsEvent(r, cl.who, "delete", v, http.StatusOK, "")
		if strings.Contains(r.Header.Get("Prefer"), "return=representation") {
			writeKPJSON(w, http.StatusOK, kmsKeysEnvelope(v))
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}
}

func (c *Cloud) kmsCreateAlias(w http.ResponseWriter, r *http.Request, cl kmsCaller) {
	alias := r.PathValue("alias")
	c.mu.Lock()
	k := c.lookupKey(cl.instance, r.PathValue("id"))
	other := c.lookupKey(cl.instance, alias)
	status := http.StatusCreated
	switch {
	case k == nil || k.state == KeyDestroyed:
		status = http.StatusNotFound
	case other != nil && other != k:
		status = http.StatusConflict
	case len(k.aliases) >= 5:
		status = http.StatusBadRequest
	case !slices.Contains(k.aliases, alias):
		k.aliases = append(k.aliases, alias)
	}
	var id string
	if k != nil {
		id = k.id
	}
	c.mu.Unlock()
	switch status {
	case http.StatusNotFound:
		writeKPError(w, status, "KEY_NOT_FOUND_ERR", "Not Found: Key does not exist")
	case http.StatusConflict:
		writeKPError(w, status, "ALIAS_NOT_UNIQUE_ERR", "Conflict: the alias is already in use")
	case http.StatusBadRequest:
		writeKPError(w, status, "KEY_ALIAS_QUOTA_ERR", "Bad Request: a key can have at most 5 aliases")
	default:
		writeKPJSON(w, status, map[string]any{
			"metadata":  map[string]any{"collectionType": "application/vnd.ibm.kms.alias+json", "collectionTotal": 1},
			"resources": []map[string]any{{"keyId": id, "alias": alias, "createdBy": cl.who.IAMID, "creationDate": kmsNow()}},
		})
	}
}

func (c *Cloud) kmsDeleteAlias(w http.ResponseWriter, r *http.Request, cl kmsCaller) {
	alias := r.PathValue("alias")
	c.mu.Lock()
	k := c.lookupKey(cl.instance, r.PathValue("id"))
	found := k != nil && slices.Contains(k.aliases, alias)
	if found {
		k.aliases = slices.DeleteFunc(k.aliases, func(a string) bool { return a == alias })
	}
	c.mu.Unlock()
	if !found {
		writeKPError(w, http.StatusNotFound, "KEY_ALIAS_NOT_FOUND_ERR", "Not Found: the alias does not exist")
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
