package e2etest_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/IBM/go-sdk-core/v5/core"
	kp "github.com/IBM/keyprotect-go-client"
	"github.com/IBM/platform-services-go-sdk/iamidentityv1"
	"github.com/IBM/platform-services-go-sdk/iampolicymanagementv1"

	"github.com/e2eimage/e2e/e2etest"
)

func policyClient(t *testing.T, c *e2etest.Cloud, apiKey string) *iampolicymanagementv1.IamPolicyManagementV1 {
	t.Helper()
	p, err := iampolicymanagementv1.NewIamPolicyManagementV1(&iampolicymanagementv1.IamPolicyManagementV1Options{
		URL: c.IAMURL, Authenticator: &core.IamAuthenticator{ApiKey: apiKey, URL: c.IAMURL}})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func identityClient(t *testing.T, c *e2etest.Cloud) *iamidentityv1.IamIdentityV1 {
	t.Helper()
	id, err := iamidentityv1.NewIamIdentityV1(&iamidentityv1.IamIdentityV1Options{
		URL: c.IAMURL, Authenticator: &core.IamAuthenticator{ApiKey: c.APIKey, URL: c.IAMURL}})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func httpStatus(err error) int {
	var hp *core.HTTPProblem
	if errors.As(err, &hp) && hp.Response != nil {
		return hp.Response.GetStatusCode()
	}
	return 0
}

func authorizationOptions(c *e2etest.Cloud, instance string) *iampolicymanagementv1.CreatePolicyOptions {
	s := core.StringPtr
	return &iampolicymanagementv1.CreatePolicyOptions{
		Type: s("authorization"),
		Subjects: []iampolicymanagementv1.PolicySubject{{Attributes: []iampolicymanagementv1.SubjectAttribute{
			{Name: s("accountId"), Value: s(c.AccountID)}, {Name: s("serviceName"), Value: s("server-protect")}}}},
		Roles: []iampolicymanagementv1.PolicyRole{{RoleID: s("crn:v1:bluemix:public:iam::::serviceRole:Reader")}},
		Resources: []iampolicymanagementv1.PolicyResource{{Attributes: []iampolicymanagementv1.ResourceAttribute{
			{Name: s("accountId"), Value: s(c.AccountID)}, {Name: s("serviceName"), Value: s("kms")},
			{Name: s("serviceInstance"), Value: s(instance)}}}},
	}
}

func TestIAMPolicies(t *testing.T) {
	c := kmsCloud(t)
	pm := policyClient(t, c, c.APIKey)
	ctx := context.Background()

	p, _, err := pm.CreatePolicyWithContext(ctx, authorizationOptions(c, c.KPInstanceID))
	if err != nil {
		t.Fatal(err)
	}
	if p.ID == nil || *p.State != "active" || *p.Roles[0].DisplayName != "Reader" {
		t.Fatalf("created policy = %+v", p)
	}
	_, resp, err := pm.CreatePolicyWithContext(ctx, authorizationOptions(c, c.KPInstanceID))
	if err == nil || resp == nil || resp.StatusCode != http.StatusConflict || !strings.Contains(err.Error(), *p.ID) {
		t.Fatalf("duplicate policy: %v (status %v)", err, resp)
	}
	got, _, err := pm.GetPolicyWithContext(ctx, &iampolicymanagementv1.GetPolicyOptions{PolicyID: p.ID})
	if err != nil || *got.ID != *p.ID || *got.Type != "authorization" {
		t.Fatalf("GetPolicy = %+v, %v", got, err)
	}
	// A second policy, then list page by page.
	if _, _, err := pm.CreatePolicyWithContext(ctx, authorizationOptions(c, c.HPCSInstanceID)); err != nil {
		t.Fatal(err)
	}
	var ids []string
	opts := &iampolicymanagementv1.ListPoliciesOptions{AccountID: &c.AccountID, Type: core.StringPtr("authorization"), Limit: core.Int64Ptr(1)}
	for {
		list, _, err := pm.ListPoliciesWithContext(ctx, opts)
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range list.Policies {
			ids = append(ids, *q.ID)
		}
		if list.Next == nil {
			break
		}
		opts.Start = list.Next.Start
	}
	if len(ids) != 2 || ids[0] != *p.ID {
		t.Fatalf("listed %v", ids)
	}
	if _, _, err := pm.ListPoliciesWithContext(ctx, &iampolicymanagementv1.ListPoliciesOptions{AccountID: core.StringPtr("other")}); httpStatus(err) != 400 {
		t.Fatalf("list of another account: %v", err)
	}

	// Invalid bodies are refused.
	bad := authorizationOptions(c, c.KPInstanceID)
	bad.Type = core.StringPtr("nonsense")
	if _, _, err := pm.CreatePolicyWithContext(ctx, bad); httpStatus(err) != 400 {
		t.Fatalf("bad type: %v", err)
	}
	bad = authorizationOptions(c, c.KPInstanceID)
	bad.Resources[0].Attributes[0].Value = core.StringPtr("someone-else")
	if _, _, err := pm.CreatePolicyWithContext(ctx, bad); httpStatus(err) != 400 {
		t.Fatalf("foreign account: %v", err)
	}

	if ps := c.Policies(); len(ps) != 2 || ps[0].Subject["serviceName"] != "server-protect" || ps[0].Resource["serviceInstance"] != c.KPInstanceID || ps[0].Roles[0] != "Reader" {
		t.Fatalf("Policies() = %+v", ps)
	}
	if _, err := pm.DeletePolicyWithContext(ctx, &iampolicymanagementv1.DeletePolicyOptions{PolicyID: p.ID}); err != nil {
		t.Fatal(err)
	}
	if _, err := pm.DeletePolicyWithContext(ctx, &iampolicymanagementv1.DeletePolicyOptions{PolicyID: p.ID}); httpStatus(err) != 404 {
		t.Fatalf("second delete: %v", err)
	}
	var actions []string
	for _, ev := range c.Events() {
		if strings.HasPrefix(ev.Action, "iam-am.") {
			actions = append(actions, ev.Action+"/"+ev.Outcome)
		}
	}
	if got := strings.Join(actions, " "); got != "iam-am.policy.create/success iam-am.policy.create/failure iam-am.policy.create/success iam-am.policy.delete/success" {
		t.Fatalf("IAM events: %s", got)
	}

	c.InjectFault(e2etest.ServiceIAM, "policies", e2etest.Fault{Status: 500})
	if _, _, err := pm.GetPolicyWithContext(ctx, &iampolicymanagementv1.GetPolicyOptions{PolicyID: p.ID}); httpStatus(err) != 500 {
		t.Fatalf("injected 500: %v", err)
	}
	if _, _, err := policyClient(t, c, "wrong").ListPoliciesWithContext(ctx, &iampolicymanagementv1.ListPoliciesOptions{AccountID: &c.AccountID}); err == nil {
		t.Fatal("a wrong API key listed policies")
	}
}

// A service ID and its API key: the key works at the token endpoint, but
// Key Protect refuses it until an access policy grants the service ID a role.
func TestIAMServiceIDAccess(t *testing.T) {
	c := kmsCloud(t)
	ctx := context.Background()
	id := identityClient(t, c)

	sid, _, err := id.CreateServiceIDWithContext(ctx, &iamidentityv1.CreateServiceIDOptions{AccountID: &c.AccountID, Name: core.StringPtr("importer")})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(*sid.IamID, "iam-ServiceId-") || !strings.Contains(*sid.CRN, "serviceid:"+*sid.ID) {
		t.Fatalf("service ID = %+v", sid)
	}
	key, _, err := id.CreateAPIKeyWithContext(ctx, &iamidentityv1.CreateAPIKeyOptions{Name: core.StringPtr("importer-key"), IamID: sid.IamID, AccountID: &c.AccountID})
	if err != nil || key.Apikey == nil || *key.Apikey == "" {
		t.Fatalf("CreateAPIKey = %+v, %v", key, err)
	}
	listed, _, err := id.ListAPIKeysWithContext(ctx, &iamidentityv1.ListAPIKeysOptions{IamID: sid.IamID})
	if err != nil || len(listed.Apikeys) != 1 || *listed.Apikeys[0].Apikey != "" {
		t.Fatalf("ListAPIKeys must list the key without its secret: %+v, %v", listed, err)
	}
	if got, _, err := id.GetServiceIDWithContext(ctx, &iamidentityv1.GetServiceIDOptions{ID: sid.ID}); err != nil || *got.Name != "importer" {
		t.Fatalf("GetServiceID = %+v, %v", got, err)
	}
	if l, _, err := id.ListServiceIdsWithContext(ctx, &iamidentityv1.ListServiceIdsOptions{AccountID: &c.AccountID, Name: core.StringPtr("importer")}); err != nil || len(l.Serviceids) != 1 {
		t.Fatalf("ListServiceIds = %+v, %v", l, err)
	}

	k := kpClient(t, c, c.KPInstanceID, *key.Apikey)
	if _, err := k.GetKeys(ctx, 0, 0); err == nil {
		t.Fatal("a service ID without access listed keys")
	} else if st, _ := kpStatus(t, err); st != http.StatusForbidden {
		t.Fatalf("no access: %d", st)
	}
	// The service ID may not manage IAM either.
	if _, _, err := policyClient(t, c, *key.Apikey).ListPoliciesWithContext(ctx, &iampolicymanagementv1.ListPoliciesOptions{AccountID: &c.AccountID}); httpStatus(err) != 403 {
		t.Fatalf("service ID listing policies: %v", err)
	}

	s := core.StringPtr
	pm := policyClient(t, c, c.APIKey)
	_, _, err = pm.CreatePolicyWithContext(ctx, &iampolicymanagementv1.CreatePolicyOptions{
		Type:     s("access"),
		Subjects: []iampolicymanagementv1.PolicySubject{{Attributes: []iampolicymanagementv1.SubjectAttribute{{Name: s("iam_id"), Value: sid.IamID}}}},
		Roles:    []iampolicymanagementv1.PolicyRole{{RoleID: s("crn:v1:bluemix:public:iam::::serviceRole:Reader")}},
		Resources: []iampolicymanagementv1.PolicyResource{{Attributes: []iampolicymanagementv1.ResourceAttribute{
			{Name: s("accountId"), Value: &c.AccountID}, {Name: s("serviceName"), Value: s("kms")}, {Name: s("serviceInstance"), Value: &c.KPInstanceID}}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := k.GetKeys(ctx, 0, 0); err != nil {
		t.Fatalf("Reader lists keys: %v", err)
	}
	if _, err := k.CreateRootKey(ctx, "nope", nil); err == nil {
		t.Fatal("a Reader created a key")
	}
	// Reader is scoped to the Key Protect instance, not HPCS.
	if _, err := kpClient(t, c, c.HPCSInstanceID, *key.Apikey).GetKeys(ctx, 0, 0); err == nil {
		t.Fatal("access to the HPCS instance without a policy")
	}

	// Deleting the API key revokes it at the token endpoint.
	if _, err := id.DeleteAPIKeyWithContext(ctx, &iamidentityv1.DeleteAPIKeyOptions{ID: key.ID}); err != nil {
		t.Fatal(err)
	}
	if _, err := (&core.IamAuthenticator{ApiKey: *key.Apikey, URL: c.IAMURL}).RequestToken(); err == nil {
		t.Fatal("a deleted API key still gets tokens")
	}
	if _, err := id.DeleteServiceIDWithContext(ctx, &iamidentityv1.DeleteServiceIDOptions{ID: sid.ID}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := id.GetServiceIDWithContext(ctx, &iamidentityv1.GetServiceIDOptions{ID: sid.ID}); httpStatus(err) != 404 {
		t.Fatalf("deleted service ID: %v", err)
	}
	var actions []string
	for _, ev := range c.Events() {
		if strings.HasPrefix(ev.Action, "iam-identity.") {
			actions = append(actions, ev.Action)
		}
	}
	if got := strings.Join(actions, " "); got != "iam-identity.serviceid.create iam-identity.apikey.create iam-identity.apikey.delete iam-identity.serviceid.delete" {
		t.Fatalf("identity events: %s", got)
	}
}

func TestIAMServiceIDWithInlineAPIKey(t *testing.T) {
	c := kmsCloud(t)
	id := identityClient(t, c)
	sid, _, err := id.CreateServiceID(&iamidentityv1.CreateServiceIDOptions{AccountID: &c.AccountID, Name: core.StringPtr("svc"),
		Apikey: &iamidentityv1.APIKeyInsideCreateServiceIDRequest{Name: core.StringPtr("svc-key")}})
	if err != nil || sid.Apikey == nil || sid.Apikey.Apikey == nil {
		t.Fatalf("CreateServiceID with apikey = %+v, %v", sid, err)
	}
	// Deleting the service ID revokes its keys.
	if _, err := id.DeleteServiceID(&iamidentityv1.DeleteServiceIDOptions{ID: sid.ID}); err != nil {
		t.Fatal(err)
	}
	if _, err := (&core.IamAuthenticator{ApiKey: *sid.Apikey.Apikey, URL: c.IAMURL}).RequestToken(); err == nil {
		t.Fatal("the key of a deleted service ID still gets tokens")
	}
	if _, _, err := id.CreateAPIKey(&iamidentityv1.CreateAPIKeyOptions{Name: core.StringPtr("k"), IamID: core.StringPtr("iam-ServiceId-unknown")}); httpStatus(err) != 404 {
		t.Fatalf("API key for an unknown identity: %v", err)
	}
}

// go-sdk-core's IamAuthenticator against the emulated IAM: API key grant,
// refresh-token grant, and a token renewed after it expires.
func TestIamAuthenticatorRefresh(t *testing.T) {
	c := kmsCloud(t, e2etest.Options{TokenLifetime: 2 * time.Second})
	a := &core.IamAuthenticator{ApiKey: c.APIKey, URL: c.IAMURL}
	res, err := a.RequestToken()
	if err != nil || res.AccessToken == "" || res.RefreshToken == "" || res.ExpiresIn != 2 || res.Expiration <= time.Now().Unix() {
		t.Fatalf("RequestToken = %+v, %v", res, err)
	}
	r := &core.IamAuthenticator{RefreshToken: res.RefreshToken, ClientId: "bx", ClientSecret: "bx", URL: c.IAMURL}
	if tok, err := r.GetToken(); err != nil || tok == "" || tok == res.AccessToken {
		t.Fatalf("refresh-token grant = %q, %v", tok, err)
	}
	bad := &core.IamAuthenticator{RefreshToken: "nope", ClientId: "bx", ClientSecret: "bx", URL: c.IAMURL}
	if _, err := bad.GetToken(); err == nil {
		t.Fatal("an unknown refresh token was accepted")
	}

	// A token used after it expired is refused by Key Protect…
	k := kpClient(t, c, c.KPInstanceID, c.APIKey)
	stale := kp.NewContextWithAuth(context.Background(), "Bearer "+res.AccessToken)
	time.Sleep(2100 * time.Millisecond)
	if _, err := k.GetKeys(stale, 0, 0); err == nil {
		t.Fatal("an expired token was accepted")
	}
	// …while the authenticator renews its token and keeps working.
	pm, _ := iampolicymanagementv1.NewIamPolicyManagementV1(&iampolicymanagementv1.IamPolicyManagementV1Options{URL: c.IAMURL, Authenticator: a})
	if _, _, err := pm.ListPolicies(&iampolicymanagementv1.ListPoliciesOptions{AccountID: &c.AccountID}); err != nil {
		t.Fatalf("after expiry: %v", err)
	}
}
