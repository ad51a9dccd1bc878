package iam

import (
	"context"
	"errors"
	"fmt"

	"github.com/IBM/go-sdk-core/v5/core"
	"github.com/IBM/platform-services-go-sdk/iamidentityv1"

	"github.com/e2eimage/e2e/internal/once"
)

// ServiceID is an IAM service ID: an identity for a program, such as the
// one an image import uses to read COS and the KMS.
type ServiceID struct {
	ID    string // "ServiceId-…"
	IAMID string // "iam-ServiceId-…", the subject of access policies
	CRN   string
	Name  string
}

// APIKey is an API key of a service ID. The secret is returned by IAM only
// when the key is created; String, GoString, Format and MarshalJSON never
// print it. Call Destroy when done.
type APIKey struct {
	ID    string // "ApiKey-…"
	Name  string
	IAMID string // the identity the key authenticates as
	CRN   string

	secret []byte
}

// Secret returns the API key text, to hand to a token source or an import.
// It is empty after Destroy.
func (k *APIKey) Secret() string { return string(k.secret) }

// Destroy zeroes the secret.
func (k *APIKey) Destroy() { clear(k.secret); k.secret = nil }

// String describes the key without its secret.
func (k *APIKey) String() string {
	return fmt.Sprintf("iam.APIKey{ID: %s, Name: %s, IAMID: %s, Secret: [REDACTED]}", k.ID, k.Name, k.IAMID)
}

// GoString is String.
func (k *APIKey) GoString() string { return k.String() }

// Format prints String for every verb.
func (k *APIKey) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(k.String())) }

// MarshalJSON encodes the key without its secret.
func (k *APIKey) MarshalJSON() ([]byte, error) {
	return fmt.Appendf(nil, `{"id":%q,"name":%q,"iam_id":%q,"crn":%q}`, k.ID, k.Name, k.IAMID, k.CRN), nil
}

func serviceIDFrom(s *iamidentityv1.ServiceID) *ServiceID {
	return &ServiceID{ID: deref(s.ID), IAMID: deref(s.IamID), CRN: deref(s.CRN), Name: deref(s.Name)}
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// CreateServiceID creates a service ID in the account. It is not resent
// after a 5xx or a lost answer (names are not unique): the error then
// wraps ErrOutcomeUnknown; FindServiceID tells whether it was created.
func (c *Client) CreateServiceID(ctx context.Context, name, description string) (*ServiceID, error) {
	acct, err := c.AccountID(ctx)
	if err != nil {
		return nil, err
	}
	opts := &iamidentityv1.CreateServiceIDOptions{AccountID: &acct, Name: &name}
	if description != "" {
		opts.Description = &description
	}
	cctx, g, stop := once.Start(ctx)
	defer stop()
	s, resp, err := c.identity.CreateServiceIDWithContext(cctx, opts)
	if err != nil {
		return nil, createErr(ctx, g, "create service ID", resp, err)
	}
	return serviceIDFrom(s), nil
}

// FindServiceID returns the service ID with that name, or an error that
// wraps ErrNotFound.
func (c *Client) FindServiceID(ctx context.Context, name string) (*ServiceID, error) {
	acct, err := c.AccountID(ctx)
	if err != nil {
		return nil, err
	}
	list, resp, err := c.identity.ListServiceIdsWithContext(ctx, &iamidentityv1.ListServiceIdsOptions{AccountID: &acct, Name: &name})
	if err != nil {
		return nil, apiError(ctx, "list service IDs", resp, err)
	}
	for i := range list.Serviceids {
		if deref(list.Serviceids[i].Name) == name {
			return serviceIDFrom(&list.Serviceids[i]), nil
		}
	}
	return nil, fmt.Errorf("%w: service ID %q", ErrNotFound, name)
}

// DeleteServiceID deletes a service ID (by ID or IAM ID) and its API keys.
func (c *Client) DeleteServiceID(ctx context.Context, id string) error {
	resp, err := c.identity.DeleteServiceIDWithContext(ctx, &iamidentityv1.DeleteServiceIDOptions{ID: &id})
	return apiError(ctx, "delete service ID", resp, err)
}

// CreateAPIKey creates an API key for the identity iamID (a service ID's
// IAMID). The returned key holds the secret; IAM will not show it again.
// It is not resent after a 5xx or a lost answer, which would leave a live
// key nobody holds: the error then wraps ErrOutcomeUnknown.
func (c *Client) CreateAPIKey(ctx context.Context, iamID, name string) (*APIKey, error) {
	acct, err := c.AccountID(ctx)
	if err != nil {
		return nil, err
	}
	cctx, g, stop := once.Start(ctx)
	defer stop()
	k, resp, err := c.identity.CreateAPIKeyWithContext(cctx, &iamidentityv1.CreateAPIKeyOptions{
		Name: &name, IamID: &iamID, AccountID: &acct, StoreValue: core.BoolPtr(false)})
	if err != nil {
		return nil, createErr(ctx, g, "create API key", resp, err)
	}
	if k.Apikey == nil || *k.Apikey == "" {
		return nil, errors.New("iam: create API key: the answer holds no key")
	}
	return &APIKey{ID: deref(k.ID), Name: deref(k.Name), IAMID: deref(k.IamID), CRN: deref(k.CRN), secret: []byte(*k.Apikey)}, nil
}

// DeleteAPIKey deletes an API key by ID ("ApiKey-…").
func (c *Client) DeleteAPIKey(ctx context.Context, id string) error {
	resp, err := c.identity.DeleteAPIKeyWithContext(ctx, &iamidentityv1.DeleteAPIKeyOptions{ID: &id})
	return apiError(ctx, "delete API key", resp, err)
}
