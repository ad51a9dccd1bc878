package iam

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/IBM/go-sdk-core/v5/core"
	"github.com/IBM/platform-services-go-sdk/iampolicymanagementv1"
)

// Authorization is a service-to-service authorization policy: Source may
// use Target (the instance TargetInstance, or every instance when empty)
// with Role.
type Authorization struct {
	// Source is the IAM service name of the subject: "server-protect"
	// (Cloud Block Storage, for classic imports) or "is" (VPC).
	Source string
	// SourceResourceType narrows the subject, e.g. "image" for VPC imports. Optional.
	SourceResourceType string
	// Target is the IAM service name of the resource: "kms", "hs-crypto"
	// or "cloud-object-storage".
	Target string
	// TargetInstance is the GUID of the target service instance; empty
	// authorizes every instance of the account.
	TargetInstance string
	// Role is the service role granted. The default is "Reader".
	Role string
}

// ServerProtectToKMS is the authorization an encrypted classic image import
// needs: Cloud Block Storage (server-protect) may read root keys of the
// Key Protect (or, with hpcs, Hyper Protect Crypto Services) instance.
func ServerProtectToKMS(kmsInstance string, hpcs bool) Authorization {
	t := "kms"
	if hpcs {
		t = "hs-crypto"
	}
	return Authorization{Source: "server-protect", Target: t, TargetInstance: kmsInstance, Role: "Reader"}
}

// ImageToCOS is the authorization a VPC image import from COS needs.
func ImageToCOS(cosInstance string) Authorization {
	return Authorization{Source: "is", SourceResourceType: "image", Target: "cloud-object-storage", TargetInstance: cosInstance, Role: "Reader"}
}

func (a Authorization) role() string {
	if a.Role == "" {
		return "Reader"
	}
	return a.Role
}

// String describes the authorization, e.g. "server-protect → kms instance 1234… (Reader)".
func (a Authorization) String() string {
	src := a.Source
	if a.SourceResourceType != "" {
		src += "/" + a.SourceResourceType
	}
	tgt := a.Target + " (all instances)"
	if a.TargetInstance != "" {
		tgt = a.Target + " instance " + a.TargetInstance
	}
	return src + " → " + tgt + " (" + a.role() + ")"
}

// roleCRN is the IAM role ID of a role name.
func roleCRN(name string) string {
	switch name {
	case "Viewer", "Operator", "Editor", "Administrator":
		return "crn:v1:bluemix:public:iam::::role:" + name
	}
	return "crn:v1:bluemix:public:iam::::serviceRole:" + name
}

// roleRank orders service roles by what they grant; platform roles rank 0.
func roleRank(name string) int {
	return map[string]int{"Reader": 1, "ReaderPlus": 2, "Writer": 3, "Manager": 4}[name]
}

func grants(roles []iampolicymanagementv1.PolicyRole, want string) bool {
	for _, r := range roles {
		if r.RoleID == nil {
			continue
		}
		id := *r.RoleID
		have := id[strings.LastIndexByte(id, ':')+1:]
		if have == want || (roleRank(want) > 0 && roleRank(have) >= roleRank(want)) {
			return true
		}
	}
	return false
}

func attrValue[T iampolicymanagementv1.SubjectAttribute | iampolicymanagementv1.ResourceAttribute](attrs []T, name string) string {
	for _, a := range attrs {
		var n, v *string
		switch x := any(a).(type) {
		case iampolicymanagementv1.SubjectAttribute:
			n, v = x.Name, x.Value
		case iampolicymanagementv1.ResourceAttribute:
			n, v = x.Name, x.Value
		}
		if n != nil && v != nil && *n == name {
			return *v
		}
	}
	return ""
}

// matchesAuthorization reports whether an existing policy grants a.
func matchesAuthorization(p *iampolicymanagementv1.PolicyTemplateMetaData, a Authorization) bool {
	if p.Type == nil || *p.Type != "authorization" || len(p.Subjects) == 0 || len(p.Resources) == 0 {
		return false
	}
	if p.State != nil && *p.State != "active" {
		return false
	}
	sub, res := p.Subjects[0].Attributes, p.Resources[0].Attributes
	if attrValue(sub, "serviceName") != a.Source || attrValue(sub, "resourceType") != a.SourceResourceType {
		return false
	}
	if attrValue(res, "serviceName") != a.Target {
		return false
	}
	if inst := attrValue(res, "serviceInstance"); inst != "" && inst != a.TargetInstance {
		return false // scoped to another instance
	}
	return grants(p.Roles, a.role())
}

// listPolicies returns every policy of the account of the given type (and
// subject iam_id, when set), following pagination.
func (c *Client) listPolicies(ctx context.Context, typ, iamID string) ([]iampolicymanagementv1.PolicyTemplateMetaData, error) {
	acct, err := c.AccountID(ctx)
	if err != nil {
		return nil, err
	}
	var out []iampolicymanagementv1.PolicyTemplateMetaData
	opts := &iampolicymanagementv1.ListPoliciesOptions{AccountID: &acct, Type: &typ, Limit: core.Int64Ptr(100)}
	if iamID != "" {
		opts.IamID = &iamID
	}
	seen := map[string]bool{} // a server that hands out a page token again would loop us forever
	for {
		res, resp, err := c.policies.ListPoliciesWithContext(ctx, opts)
		if err != nil {
			return nil, apiError(ctx, "list policies", resp, err)
		}
		out = append(out, res.Policies...)
		if res.Next == nil || res.Next.Start == nil || *res.Next.Start == "" {
			return out, nil
		}
		if seen[*res.Next.Start] {
			return nil, fmt.Errorf("iam: list policies: the service returned page token %q twice", *res.Next.Start)
		}
		seen[*res.Next.Start] = true
		opts.Start = res.Next.Start
	}
}

// FindAuthorization returns the ID of an existing policy that grants a, or
// an error that wraps ErrNotFound.
func (c *Client) FindAuthorization(ctx context.Context, a Authorization) (string, error) {
	ps, err := c.listPolicies(ctx, "authorization", "")
	if err != nil {
		return "", err
	}
	for i := range ps {
		if matchesAuthorization(&ps[i], a) && ps[i].ID != nil {
			return *ps[i].ID, nil
		}
	}
	return "", errors.Join(ErrNotFound, errors.New("iam: no policy grants "+a.String()))
}

// EnsureAuthorization makes sure a exists: it returns the ID of an
// equivalent existing policy (created=false) or creates one (created=true).
// A concurrent creation that IAM answers 409 counts as existing.
func (c *Client) EnsureAuthorization(ctx context.Context, a Authorization) (policyID string, created bool, err error) {
	if id, err := c.FindAuthorization(ctx, a); err == nil {
		return id, false, nil
	} else if !errors.Is(err, ErrNotFound) {
		return "", false, err
	}
	id, err := c.CreateAuthorization(ctx, a)
	if errors.Is(err, ErrPolicyExists) {
		if id, ferr := c.FindAuthorization(ctx, a); ferr == nil {
			return id, false, nil
		}
	}
	if err != nil {
		return "", false, err
	}
	return id, true, nil
}

// CreateAuthorization creates the authorization policy a without looking
// for an existing one; IAM refuses a duplicate with an error that wraps
// ErrPolicyExists. Most callers want EnsureAuthorization.
func (c *Client) CreateAuthorization(ctx context.Context, a Authorization) (policyID string, err error) {
	if a.Source == "" || a.Target == "" {
		return "", errors.New("iam: Authorization needs Source and Target")
	}
	acct, err := c.AccountID(ctx)
	if err != nil {
		return "", err
	}
	sub := []iampolicymanagementv1.SubjectAttribute{
		{Name: core.StringPtr("accountId"), Value: &acct},
		{Name: core.StringPtr("serviceName"), Value: core.StringPtr(a.Source)},
	}
	if a.SourceResourceType != "" {
		sub = append(sub, iampolicymanagementv1.SubjectAttribute{Name: core.StringPtr("resourceType"), Value: core.StringPtr(a.SourceResourceType)})
	}
	res := []iampolicymanagementv1.ResourceAttribute{
		{Name: core.StringPtr("accountId"), Value: &acct},
		{Name: core.StringPtr("serviceName"), Value: core.StringPtr(a.Target)},
	}
	if a.TargetInstance != "" {
		res = append(res, iampolicymanagementv1.ResourceAttribute{Name: core.StringPtr("serviceInstance"), Value: core.StringPtr(a.TargetInstance)})
	}
	p, resp, err := c.policies.CreatePolicyWithContext(ctx, &iampolicymanagementv1.CreatePolicyOptions{
		Type:        core.StringPtr("authorization"),
		Subjects:    []iampolicymanagementv1.PolicySubject{{Attributes: sub}},
		Roles:       []iampolicymanagementv1.PolicyRole{{RoleID: core.StringPtr(roleCRN(a.role()))}},
		Resources:   []iampolicymanagementv1.PolicyResource{{Attributes: res}},
		Description: core.StringPtr("e2e: " + a.String()),
	})
	if err != nil {
		return "", apiError(ctx, "create policy", resp, err)
	}
	if p.ID == nil {
		return "", errors.New("iam: create policy: the answer has no policy ID")
	}
	return *p.ID, nil
}

// VerifyAuthorizations checks that every authorization exists. It returns
// a *MissingAuthorizationError (errors.Is ErrMissingAuthorization) naming
// the ones that do not, so a pipeline can fail early with a clear message.
func (c *Client) VerifyAuthorizations(ctx context.Context, as ...Authorization) error {
	ps, err := c.listPolicies(ctx, "authorization", "")
	if err != nil {
		return err
	}
	var missing []Authorization
	for _, a := range as {
		found := false
		for i := range ps {
			if matchesAuthorization(&ps[i], a) {
				found = true
				break
			}
		}
		if !found {
			missing = append(missing, a)
		}
	}
	if len(missing) > 0 {
		return &MissingAuthorizationError{Missing: missing}
	}
	return nil
}

// DeletePolicy deletes a policy (authorization or access) by ID.
func (c *Client) DeletePolicy(ctx context.Context, policyID string) error {
	resp, err := c.policies.DeletePolicyWithContext(ctx, &iampolicymanagementv1.DeletePolicyOptions{PolicyID: &policyID})
	return apiError(ctx, "delete policy", resp, err)
}
