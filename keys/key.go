package keys

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"time"

	kp "github.com/IBM/keyprotect-go-client"

	"github.com/e2eimage/e2e/internal/once"
)

// KeyState is the state of a key, numbered as Key Protect numbers them.
type KeyState int

// Key states. Wrap needs Active; unwrap works when Active or Deactivated.
const (
	Active      KeyState = 1
	Suspended   KeyState = 2 // disabled; Enable makes it Active again
	Deactivated KeyState = 3 // expired
	Destroyed   KeyState = 5 // deleted; its material is gone
)

func (s KeyState) String() string {
	switch s {
	case Active:
		return "active"
	case Suspended:
		return "suspended"
	case Deactivated:
		return "deactivated"
	case Destroyed:
		return "destroyed"
	}
	return fmt.Sprintf("state %d", int(s))
}

// Key describes a key; it never carries root key material.
type Key struct {
	ID         string
	Name       string
	CRN        string // what an image import names as the root key (crkCrn)
	State      KeyState
	Root       bool // a root key (wraps DEKs); false for standard keys
	Imported   bool
	Aliases    []string
	Version    string // the current key version ID; rotation changes it
	Created    time.Time
	LastRotate time.Time // zero until the first rotation
}

func keyFrom(k *kp.Key) *Key {
	out := &Key{ID: k.ID, Name: k.Name, CRN: k.CRN, State: KeyState(k.State), Root: !k.Extractable,
		Imported: k.Imported, Aliases: k.Aliases}
	if k.KeyVersion != nil {
		out.Version = k.KeyVersion.ID
	}
	if k.CreationDate != nil {
		out.Created = *k.CreationDate
	}
	if k.LastRotateDate != nil {
		out.LastRotate = *k.LastRotateDate
	}
	return out
}

// CreateRootKey creates a root key whose material the service generates.
func (c *Client) CreateRootKey(ctx context.Context, name string) (*Key, error) {
	actx, err := c.authCtx(ctx)
	if err != nil {
		return nil, err
	}
	actx, g, done := once.Start(actx)
	defer done()
	k, err := c.kp.CreateRootKey(actx, name, nil)
	if err != nil {
		return nil, createErr(ctx, g, "create root key", err)
	}
	return keyFrom(k), nil
}

// ImportOption configures ImportRootKey.
type ImportOption func(*importOptions)

type importOptions struct{ token bool }

// WithImportToken imports the material encrypted under a fresh import token
// (RSA-OAEP-SHA256 transport key and a nonce proving possession), so it
// never crosses the network in the clear. Key Protect only; the default is
// a plain (TLS-protected) import.
func WithImportToken() ImportOption { return func(o *importOptions) { o.token = true } }

// ImportRootKey creates a root key from your own material (16, 24 or 32
// bytes). The caller keeps and zeroes payload.
func (c *Client) ImportRootKey(ctx context.Context, name string, payload []byte, opts ...ImportOption) (*Key, error) {
	if n := len(payload); n != 16 && n != 24 && n != 32 {
		return nil, fmt.Errorf("%w: root key material must be 16, 24 or 32 bytes, not %d", ErrBadRequest, n)
	}
	var o importOptions
	for _, opt := range opts {
		opt(&o)
	}
	actx, err := c.authCtx(ctx)
	if err != nil {
		return nil, err
	}
	b64 := base64.StdEncoding.EncodeToString(payload)
	if !o.token {
		actx, g, done := once.Start(actx)
		defer done()
		k, err := c.kp.CreateImportedRootKey(actx, name, nil, b64, "", "")
		if err != nil {
			return nil, createErr(ctx, g, "import root key", err)
		}
		return keyFrom(k), nil
	}
	if c.cfg.HPCS {
		return nil, errors.New("keys: import tokens are supported for Key Protect only")
	}
	if _, err := c.kp.CreateImportToken(actx, 600, 1); err != nil {
		return nil, convertError(ctx, "create import token", "", err)
	}
	tk, err := c.kp.GetImportTokenTransportKey(actx)
	if err != nil {
		return nil, convertError(ctx, "get import token", "", err)
	}
	encKey, err := kp.EncryptKey(b64, tk.Payload)
	if err != nil {
		return nil, fmt.Errorf("keys: import token: %w", err)
	}
	encNonce, iv, err := kp.EncryptNonce(b64, tk.Nonce, "")
	if err != nil {
		return nil, fmt.Errorf("keys: import token: %w", err)
	}
	actx, g, done := once.Start(actx)
	defer done()
	k, err := c.kp.CreateImportedRootKey(actx, name, nil, encKey, encNonce, iv)
	if err != nil {
		return nil, createErr(ctx, g, "import root key", err)
	}
	return keyFrom(k), nil
}

// GetKey returns a key by ID or alias. A destroyed key is a *KeyStateError.
func (c *Client) GetKey(ctx context.Context, idOrAlias string) (*Key, error) {
	actx, err := c.authCtx(ctx)
	if err != nil {
		return nil, err
	}
	k, err := c.kp.GetKeyMetadata(actx, idOrAlias)
	if err != nil {
		return nil, convertError(ctx, "get", idOrAlias, err)
	}
	return keyFrom(k), nil
}

// ListRootKeys returns the root keys of the instance that are not
// destroyed, oldest first.
func (c *Client) ListRootKeys(ctx context.Context) ([]*Key, error) {
	actx, err := c.authCtx(ctx)
	if err != nil {
		return nil, err
	}
	const page = 200
	var out []*Key
	seen := map[string]bool{} // a server that ignores the offset would loop us forever
	extractable := false
	for offset := uint32(0); ; offset += page {
		limit, off := uint32(page), offset
		ks, err := c.kp.ListKeys(actx, &kp.ListKeysOptions{Limit: &limit, Offset: &off, Extractable: &extractable,
			State: []kp.KeyState{kp.Active, kp.Suspended, kp.Deactivated}})
		if err != nil {
			return nil, convertError(ctx, "list keys", "", err)
		}
		for i := range ks.Keys {
			if seen[ks.Keys[i].ID] {
				return nil, fmt.Errorf("keys: list keys: the service returned key %s twice (at offset %d)", ks.Keys[i].ID, offset)
			}
			seen[ks.Keys[i].ID] = true
			out = append(out, keyFrom(&ks.Keys[i]))
		}
		if len(ks.Keys) < page {
			return out, nil
		}
	}
}

// FindRootKey returns the oldest active root key with that name, or an
// error that wraps ErrKeyNotFound.
func (c *Client) FindRootKey(ctx context.Context, name string) (*Key, error) {
	ks, err := c.ListRootKeys(ctx)
	if err != nil {
		return nil, err
	}
	for _, k := range ks {
		if k.Name == name && k.State == Active {
			return k, nil
		}
	}
	return nil, fmt.Errorf("%w: no active root key named %q", ErrKeyNotFound, name)
}

// EnsureRootKey returns the active root key with that name, creating it
// only when none exists, so reruns do not pile up duplicate keys. A create
// whose outcome is unknown (ErrOutcomeUnknown) is followed by another look
// for the key. Key
// Protect does not make names unique: two processes ensuring the same name
// at the same moment may both create one.
func (c *Client) EnsureRootKey(ctx context.Context, name string) (*Key, error) {
	k, err := c.FindRootKey(ctx, name)
	if err == nil {
		return k, nil
	}
	if !errors.Is(err, ErrKeyNotFound) {
		return nil, err
	}
	k, err = c.CreateRootKey(ctx, name)
	if errors.Is(err, ErrOutcomeUnknown) {
		// The create may have gone through: reuse its key rather than make another.
		if found, ferr := c.FindRootKey(ctx, name); ferr == nil {
			return found, nil
		}
	}
	return k, err
}

// SetAlias gives a key an alias (at most 5 per key, unique in the
// instance), by which GetKey and every key operation can then name it.
func (c *Client) SetAlias(ctx context.Context, keyID, alias string) error {
	actx, err := c.authCtx(ctx)
	if err != nil {
		return err
	}
	_, err = c.kp.CreateKeyAlias(actx, alias, keyID)
	return convertError(ctx, "set alias", keyID, err)
}

// Rotate gives a generated root key new material (a new key version).
// WDEKs wrapped before still unwrap; UnwrapDEK then also returns them
// rewrapped under the new version.
func (c *Client) Rotate(ctx context.Context, keyID string) error {
	return c.rotate(ctx, keyID, "")
}

// RotateImported rotates an imported root key to new material of 16, 24 or 32 bytes.
func (c *Client) RotateImported(ctx context.Context, keyID string, payload []byte) error {
	if n := len(payload); n != 16 && n != 24 && n != 32 {
		return fmt.Errorf("%w: root key material must be 16, 24 or 32 bytes, not %d", ErrBadRequest, n)
	}
	return c.rotate(ctx, keyID, base64.StdEncoding.EncodeToString(payload))
}

func (c *Client) rotate(ctx context.Context, keyID, payload string) error {
	actx, err := c.authCtx(ctx)
	if err != nil {
		return err
	}
	return c.stateError(ctx, "rotate", keyID, c.kp.Rotate(actx, keyID, payload))
}

// Disable suspends a root key: wrap and unwrap fail until Enable. Images
// protected by it cannot be imported or booted meanwhile.
func (c *Client) Disable(ctx context.Context, keyID string) error {
	actx, err := c.authCtx(ctx)
	if err != nil {
		return err
	}
	return c.stateError(ctx, "disable", keyID, c.kp.DisableKey(actx, keyID))
}

// Enable re-activates a suspended root key.
func (c *Client) Enable(ctx context.Context, keyID string) error {
	actx, err := c.authCtx(ctx)
	if err != nil {
		return err
	}
	return c.stateError(ctx, "enable", keyID, c.kp.EnableKey(actx, keyID))
}

// DeleteKey destroys a key; data protected by it can no longer be opened.
func (c *Client) DeleteKey(ctx context.Context, keyID string) error {
	actx, err := c.authCtx(ctx)
	if err != nil {
		return err
	}
	_, err = c.kp.DeleteKey(actx, keyID, kp.ReturnMinimal)
	return convertError(ctx, "delete", keyID, err)
}

// stateError converts err; a refusal because of the key's state becomes a
// *KeyStateError naming the state, which it looks up.
func (c *Client) stateError(ctx context.Context, op, keyID string, err error) error {
	err = convertError(ctx, op, keyID, err)
	var se *ServiceError
	if errors.As(err, &se) && se.Status == http.StatusConflict && se.hasReason("KEY_ACTION_INVALID_STATE_ERR") {
		if k, gerr := c.GetKey(ctx, keyID); gerr == nil {
			return &KeyStateError{KeyID: keyID, Op: op, State: k.State}
		}
		return &KeyStateError{KeyID: keyID, Op: op}
	}
	return err
}
