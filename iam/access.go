package iam

import (
	"context"
	"errors"

	"github.com/IBM/go-sdk-core/v5/core"
	"github.com/IBM/platform-services-go-sdk/iampolicymanagementv1"
)

// Access is what an access policy grants an identity: roles on a service
// instance, optionally narrowed to one resource (e.g. a bucket).
type Access struct {
	Service      string   // IAM service name, e.g. "kms" or "cloud-object-storage"
	Instance     string   // service instance GUID; empty = every instance
	ResourceType string   // e.g. "bucket"; optional
	Resource     string   // e.g. the bucket name; optional
	Roles        []string // e.g. "Reader", "Writer"; the default is Reader
}

// BucketAccess grants roles (default Reader) on one bucket of a COS instance.
func BucketAccess(cosInstance, bucket string, roles ...string) Access {
	return Access{Service: "cloud-object-storage", Instance: cosInstance, ResourceType: "bucket", Resource: bucket, Roles: roles}
}

// KMSAccess grants roles (default Reader) on a Key Protect instance, or an
// HPCS instance when hpcs is set.
func KMSAccess(instance string, hpcs bool, roles ...string) Access {
	s := "kms"
	if hpcs {
		s = "hs-crypto"
	}
	return Access{Service: s, Instance: instance, Roles: roles}
}

func (a Access) roles() []string {
	if len(a.Roles) == 0 {
		return []string{"Reader"}
	}
	return a.Roles
}

func matchesAccess(p *iampolicymanagementv1.PolicyTemplateMetaData, iamID string, a Access) bool {
	if p.Type == nil || *p.Type != "access" || len(p.Subjects) == 0 || len(p.Resources) == 0 {
		return false
	}
	if attrValue(p.Subjects[0].Attributes, "iam_id") != iamID {
		return false
	}
	res := p.Resources[0].Attributes
	if attrValue(res, "serviceName") != a.Service || attrValue(res, "serviceInstance") != a.Instance ||
		attrValue(res, "resourceType") != a.ResourceType || attrValue(res, "resource") != a.Resource {
		return false
	}
	for _, r := range a.roles() {
		if !grants(p.Roles, r) {
			return false
		}
	}
	return true
}

// GrantAccess gives the identity iamID (e.g. ServiceID.IAMID) access a, as
// IBM's docs advise for the service ID of an image import: Reader on the
// bucket and on the KMS instance. It reuses an equivalent policy when one
// exists (created=false).
func (c *Client) GrantAccess(ctx context.Context, iamID string, a Access) (policyID string, created bool, err error) {
	if iamID == "" || a.Service == "" {
		return "", false, errors.New("iam: GrantAccess needs an IAM ID and a service")
	}
	find := func() (string, error) {
		ps, err := c.listPolicies(ctx, "access", iamID)
		if err != nil {
			return "", err
		}
		for i := range ps {
			if matchesAccess(&ps[i], iamID, a) && ps[i].ID != nil {
				return *ps[i].ID, nil
			}
		}
		return "", ErrNotFound
	}
	if id, err := find(); err == nil {
		return id, false, nil
	} else if !errors.Is(err, ErrNotFound) {
		return "", false, err
	}
	acct, err := c.AccountID(ctx)
	if err != nil {
		return "", false, err
	}
	res := []iampolicymanagementv1.ResourceAttribute{
		{Name: core.StringPtr("accountId"), Value: &acct},
		{Name: core.StringPtr("serviceName"), Value: core.StringPtr(a.Service)},
	}
	for _, kv := range [][2]string{{"serviceInstance", a.Instance}, {"resourceType", a.ResourceType}, {"resource", a.Resource}} {
		if kv[1] != "" {
			res = append(res, iampolicymanagementv1.ResourceAttribute{Name: core.StringPtr(kv[0]), Value: core.StringPtr(kv[1])})
		}
	}
	var roles []iampolicymanagementv1.PolicyRole
	for _, r := range a.roles() {
		roles = append(roles, iampolicymanagementv1.PolicyRole{RoleID: core.StringPtr(roleCRN(r))})
	}
	p, resp, err := c.policies.CreatePolicyWithContext(ctx, &iampolicymanagementv1.CreatePolicyOptions{
		Type: core.StringPtr("access"),
		Subjects: []iampolicymanagementv1.PolicySubject{{Attributes: []iampolicymanagementv1.SubjectAttribute{
			{Name: core.StringPtr("iam_id"), Value: &iamID}}}},
		Roles:     roles,
		Resources: []iampolicymanagementv1.PolicyResource{{Attributes: res}},
	})
	if err != nil {
		err = apiError(ctx, "create policy", resp, err)
		if errors.Is(err, ErrPolicyExists) {
			if id, ferr := find(); ferr == nil {
				return id, false, nil
			}
		}
		return "", false, err
	}
	if p.ID == nil {
		return "", false, errors.New("iam: create policy: the answer has no policy ID")
	}
	return *p.ID, true, nil
}
