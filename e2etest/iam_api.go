package e2etest

// IAM policy management (/v1/policies) as iampolicymanagementv1 speaks it,
// and the access decisions other emulated services take from the policies.
// Service IDs and API keys are in iam_identity_api.go.

import (
	"encoding/json"
	"net/http"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
)

// policyState holds IAM policies, service IDs and their API keys. Guarded by Cloud.mu.
type policyState struct {
	policies   []*iamPolicy // creation order
	serviceIDs []*iamServiceID
	apiKeys    []*iamAPIKey
}

type iamAttr struct {
	Name     string `json:"name"`
	Value    string `json:"value"`
	Operator string `json:"operator,omitempty"`
}

type iamSubject struct {
	Attributes []iamAttr `json:"attributes"`
}

type iamRole struct {
	RoleID      string `json:"role_id"`
	DisplayName string `json:"display_name,omitempty"`
	Description string `json:"description,omitempty"`
}

type iamResource struct {
	Attributes []iamAttr `json:"attributes"`
	Tags       []iamAttr `json:"tags,omitempty"`
}

type iamPolicy struct {
	ID               string        `json:"id"`
	Type             string        `json:"type"`
	Description      string        `json:"description,omitempty"`
	Subjects         []iamSubject  `json:"subjects"`
	Roles            []iamRole     `json:"roles"`
	Resources        []iamResource `json:"resources"`
	Href             string        `json:"href"`
	CreatedAt        time.Time     `json:"created_at"`
	CreatedByID      string        `json:"created_by_id"`
	LastModifiedAt   time.Time     `json:"last_modified_at"`
	LastModifiedByID string        `json:"last_modified_by_id"`
	State            string        `json:"state"`
}

// attr returns the value of the named attribute in attrs.
func attr(attrs []iamAttr, name string) string {
	for _, a := range attrs {
		if a.Name == name {
			return a.Value
		}
	}
	return ""
}

// roleName is the last segment of a role CRN ("…:serviceRole:Reader" → "Reader").
func roleName(roleID string) string {
	return roleID[strings.LastIndexByte(roleID, ':')+1:]
}

// roleGrants reports whether holding role grants the wanted service role.
func roleGrants(role, want string) bool {
	rank := map[string]int{"Reader": 1, "ReaderPlus": 2, "Writer": 3, "Manager": 4}
	return rank[role] > 0 && rank[role] >= rank[want]
}

// canonical is a policy's identity for duplicate detection: type, sorted
// subject and resource attributes, sorted roles.
func (p *iamPolicy) canonical() string {
	var parts []string
	for _, s := range p.Subjects {
		for _, a := range s.Attributes {
			parts = append(parts, "s:"+a.Name+"="+a.Value+"/"+a.Operator)
		}
	}
	for _, r := range p.Resources {
		for _, a := range r.Attributes {
			parts = append(parts, "r:"+a.Name+"="+a.Value+"/"+a.Operator)
		}
	}
	for _, r := range p.Roles {
		parts = append(parts, "role:"+r.RoleID)
	}
	slices.Sort(parts)
	return p.Type + "|" + strings.Join(parts, "|")
}

// resourceMatches reports whether a policy resource covers the wanted
// resource: every attribute the policy names must match (stringMatch allows
// * wildcards); attributes it leaves out match anything.
func (c *Cloud) resourceMatches(attrs []iamAttr, want map[string]string) bool {
	for _, a := range attrs {
		if a.Name == "accountId" {
			if a.Value != c.AccountID {
				return false
			}
			continue
		}
		got, ok := want[a.Name]
		if !ok {
			return false // the policy is narrower than the request
		}
		if a.Operator == "stringMatch" {
			if m, _ := path.Match(a.Value, got); !m {
				return false
			}
		} else if a.Value != got {
			return false
		}
	}
	return true
}

// hasAccess reports whether who holds at least role (Reader, Writer,
// Manager) on the resource described by its IAM attributes (serviceName,
// serviceInstance, resourceType, resource). The account owner (a user) has
// every access; a service ID needs an access policy.
func (c *Cloud) hasAccess(who Identity, role string, resource map[string]string) bool {
	if who.Kind != "serviceid" {
		return who.AccountID == c.AccountID
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, p := range c.policies.policies {
		if p.Type != "access" || len(p.Subjects) == 0 || attr(p.Subjects[0].Attributes, "iam_id") != who.IAMID {
			continue
		}
		if !slices.ContainsFunc(p.Roles, func(r iamRole) bool { return roleGrants(roleName(r.RoleID), role) }) {
			continue
		}
		for _, res := range p.Resources {
			if c.resourceMatches(res.Attributes, resource) {
				return true
			}
		}
	}
	return false
}

// hasAuthorization reports whether an authorization policy lets
// sourceService (e.g. "server-protect") use the KMS instance
// targetInstance of targetService ("kms" or "hs-crypto") with the Reader role.
// Called by the SoftLayer import.
func (c *Cloud) hasAuthorization(sourceService, targetService, targetInstance string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	want := map[string]string{"serviceName": targetService, "serviceInstance": targetInstance}
	for _, p := range c.policies.policies {
		if p.Type != "authorization" || len(p.Subjects) == 0 {
			continue
		}
		sub := p.Subjects[0].Attributes
		if attr(sub, "serviceName") != sourceService {
			continue
		}
		if acct := attr(sub, "accountId"); acct != "" && acct != c.AccountID {
			continue
		}
		reader := false
		for _, r := range p.Roles {
			reader = reader || roleGrants(roleName(r.RoleID), "Reader")
		}
		if !reader {
			continue
		}
		for _, res := range p.Resources {
			if c.resourceMatches(res.Attributes, want) {
				return true
			}
		}
	}
	return false
}

func (c *Cloud) iamAPIHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/policies", c.iamRoute("policies", c.iamCreatePolicy))
	mux.HandleFunc("GET /v1/policies", c.iamRoute("policies", c.iamListPolicies))
	mux.HandleFunc("GET /v1/policies/{id}", c.iamRoute("policies", c.iamGetPolicy))
	mux.HandleFunc("DELETE /v1/policies/{id}", c.iamRoute("policies", c.iamDeletePolicy))
	c.identityRoutes(mux)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeIAMError(w, http.StatusNotFound, "not_found", "The requested resource was not found.")
	})
	return mux
}

// iamRoute wraps a policy or identity API handler with fault injection for
// op and the caller check of iamAuth.
func (c *Cloud) iamRoute(op string, h func(w http.ResponseWriter, r *http.Request, who Identity)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w, done := c.applyFault(ServiceIAM, op, w, r, writeIAMError)
		if done {
			return
		}
		if who, ok := c.iamAuth(w, r); ok {
			h(w, r, who)
		}
	}
}

// iamAuth authenticates a call to the policy or identity API; only the
// account owner manages IAM here.
func (c *Cloud) iamAuth(w http.ResponseWriter, r *http.Request) (Identity, bool) {
	who, err := c.authenticate(r)
	if err != nil {
		writeIAMError(w, http.StatusUnauthorized, "authentication_error", "Unauthorized: "+err.Error())
		return who, false
	}
	if who.Kind == "serviceid" || who.AccountID != c.AccountID {
		writeIAMError(w, http.StatusForbidden, "insufficent_permissions", "You are not allowed to manage IAM in this account.")
		return who, false
	}
	return who, true
}

func (c *Cloud) policyCRN(id string) string {
	return "crn:v1:bluemix:public:iam-am::a/" + c.AccountID + "::policy:" + id
}

func (c *Cloud) iamCreatePolicy(w http.ResponseWriter, r *http.Request, who Identity) {
	var p iamPolicy
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&p); err != nil {
		writeIAMError(w, http.StatusBadRequest, "invalid_body", "Invalid body format. Check the input parameters.")
		return
	}
	if msg := c.validatePolicy(&p); msg != "" {
		writeIAMError(w, http.StatusBadRequest, "invalid_body", msg)
		return
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	p.ID = newUUID()
	p.Href = c.IAMURL + "/v1/policies/" + p.ID
	p.CreatedAt, p.LastModifiedAt = now, now
	p.CreatedByID, p.LastModifiedByID = who.IAMID, who.IAMID
	p.State = "active"
	for i := range p.Roles {
		p.Roles[i].DisplayName = roleName(p.Roles[i].RoleID)
	}
	key := p.canonical()
	c.mu.Lock()
	var dup *iamPolicy
	for _, q := range c.policies.policies {
		if q.canonical() == key {
			dup = q
			break
		}
	}
	if dup == nil {
		c.policies.policies = append(c.policies.policies, &p)
	}
	c.mu.Unlock()
	ev := Event{Action: "iam-am.policy.create", Service: ServiceIAM,
		Target:  EventTarget{ID: c.policyCRN(p.ID), Name: p.Type + " policy", TypeURI: "iam-am/policy"},
		Message: "IAM Access Management: create " + p.Type + " policy"}
	if dup != nil {
		ev.Outcome, ev.Severity, ev.Reason.ReasonCode = "failure", "warning", http.StatusConflict
		ev.Target.ID = c.policyCRN(dup.ID)
		c.record(r, who, ev)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusConflict)
		_ = json.NewEncoder(w).Encode(map[string]any{
			"trace": randomHex(16),
			"errors": []map[string]any{{
				"code":    "policy_conflict_error",
				"message": "Failed to create policy. Policy already exists with id " + dup.ID,
				"details": map[string]any{"conflicts_with": map[string]any{"policy": dup}},
			}},
			"status_code": http.StatusConflict,
		})
		return
	}
	c.record(r, who, ev)
	writeKPJSON(w, http.StatusCreated, &p)
}

// validatePolicy checks a policy body as IAM does; it returns a message or "".
func (c *Cloud) validatePolicy(p *iamPolicy) string {
	if p.Type != "access" && p.Type != "authorization" {
		return "Invalid policy type: must be access or authorization."
	}
	if len(p.Subjects) != 1 || len(p.Resources) != 1 || len(p.Roles) == 0 {
		return "A policy needs exactly one subject, one resource and at least one role."
	}
	sub, res := p.Subjects[0].Attributes, p.Resources[0].Attributes
	for _, a := range append(append([]iamAttr(nil), sub...), res...) {
		if a.Name == "" || a.Value == "" || len(a.Value) > 1000 {
			return "Policy attribute names and values must be 1 to 1000 characters."
		}
	}
	if attr(res, "accountId") != c.AccountID {
		return "The policy resource must carry the accountId attribute of this account."
	}
	switch p.Type {
	case "authorization":
		if attr(sub, "serviceName") == "" || attr(res, "serviceName") == "" {
			return "An authorization policy needs a serviceName in the subject and in the resource."
		}
		if attr(sub, "accountId") != c.AccountID {
			return "The policy subject must carry the accountId attribute of this account."
		}
	case "access":
		if attr(sub, "iam_id") == "" && attr(sub, "access_group_id") == "" {
			return "An access policy subject needs an iam_id or access_group_id attribute."
		}
		if attr(res, "serviceName") == "" && attr(res, "serviceType") == "" && attr(res, "resourceGroupId") == "" {
			return "An access policy resource needs serviceName, serviceType or resourceGroupId."
		}
	}
	for _, r := range p.Roles {
		if !strings.HasPrefix(r.RoleID, "crn:v1:bluemix:public:iam::::") && !strings.HasPrefix(r.RoleID, "crn:v1:bluemix:public:") {
			return "Invalid role_id " + r.RoleID + "."
		}
	}
	return ""
}

func (c *Cloud) iamListPolicies(w http.ResponseWriter, r *http.Request, who Identity) {
	q := r.URL.Query()
	if q.Get("account_id") != c.AccountID {
		writeIAMError(w, http.StatusBadRequest, "invalid_parameter", "The account_id query parameter must name this account.")
		return
	}
	limit := 50
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 100 {
			writeIAMError(w, http.StatusBadRequest, "invalid_parameter", "limit must be 1 to 100.")
			return
		}
		limit = n
	}
	start := 0
	if s := q.Get("start"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			writeIAMError(w, http.StatusBadRequest, "invalid_parameter", "Invalid start token.")
			return
		}
		start = n
	}
	typ, iamID, svcType := q.Get("type"), q.Get("iam_id"), q.Get("service_type")
	c.mu.Lock()
	var all []iamPolicy
	for _, p := range c.policies.policies {
		if typ != "" && p.Type != typ {
			continue
		}
		if iamID != "" && attr(p.Subjects[0].Attributes, "iam_id") != iamID {
			continue
		}
		if svcType != "" && attr(p.Resources[0].Attributes, "serviceType") != svcType {
			continue
		}
		all = append(all, *p)
	}
	c.mu.Unlock()
	page := all[min(start, len(all)):min(start+limit, len(all))]
	if page == nil {
		page = []iamPolicy{}
	}
	base := c.IAMURL + "/v1/policies?account_id=" + c.AccountID
	out := map[string]any{"limit": limit, "first": map[string]any{"href": base}, "policies": page}
	if start+limit < len(all) {
		next := strconv.Itoa(start + limit)
		out["next"] = map[string]any{"href": base + "&start=" + next, "start": next}
	}
	writeKPJSON(w, http.StatusOK, out)
}

func (c *Cloud) findPolicy(id string) (int, *iamPolicy) {
	for i, p := range c.policies.policies {
		if p.ID == id {
			return i, p
		}
	}
	return -1, nil
}

func (c *Cloud) iamGetPolicy(w http.ResponseWriter, r *http.Request, who Identity) {
	c.mu.Lock()
	_, p := c.findPolicy(r.PathValue("id"))
	var cp iamPolicy
	if p != nil {
		cp = *p
	}
	c.mu.Unlock()
	if p == nil {
		writeIAMError(w, http.StatusNotFound, "policy_not_found", "Policy was not found.")
		return
	}
	writeKPJSON(w, http.StatusOK, &cp)
}

func (c *Cloud) iamDeletePolicy(w http.ResponseWriter, r *http.Request, who Identity) {
	id := r.PathValue("id")
	c.mu.Lock()
	i, p := c.findPolicy(id)
	if p != nil {
		c.policies.policies = slices.Delete(c.policies.policies, i, i+1)
	}
	c.mu.Unlock()
	if p == nil {
		writeIAMError(w, http.StatusNotFound, "policy_not_found", "Policy was not found.")
		return
	}
	c.record(r, who, Event{Action: "iam-am.policy.delete", Service: ServiceIAM, Severity: "warning",
		Target:  EventTarget{ID: c.policyCRN(id), Name: p.Type + " policy", TypeURI: "iam-am/policy"},
		Message: "IAM Access Management: delete " + p.Type + " policy"})
	w.WriteHeader(http.StatusNoContent)
}

// PolicyInfo describes an IAM policy of the account.
type PolicyInfo struct {
	ID   string
	Type string // "access" or "authorization"
	// Subject and Resource are the attributes (name → value) of the policy's
	// subject and resource, e.g. {"serviceName": "server-protect"}.
	Subject, Resource map[string]string
	Roles             []string // role names, e.g. "Reader"
}

// Policies returns every IAM policy of the account, oldest first.
func (c *Cloud) Policies() []PolicyInfo {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]PolicyInfo, 0, len(c.policies.policies))
	for _, p := range c.policies.policies {
		pi := PolicyInfo{ID: p.ID, Type: p.Type, Subject: map[string]string{}, Resource: map[string]string{}}
		for _, a := range p.Subjects[0].Attributes {
			pi.Subject[a.Name] = a.Value
		}
		for _, a := range p.Resources[0].Attributes {
			pi.Resource[a.Name] = a.Value
		}
		for _, r := range p.Roles {
			pi.Roles = append(pi.Roles, roleName(r.RoleID))
		}
		out = append(out, pi)
	}
	return out
}
