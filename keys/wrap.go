package keys

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
)

// WrapOption configures GenerateDEK, WrapDEK and UnwrapDEK.
type WrapOption func(*wrapOptions)

type wrapOptions struct{ aad []string }

// WithAAD binds additional authenticated data to the WDEK: unwrapping then
// needs the same strings. The default is none — IBM's image imports need
// WDEKs without AAD, so use it only for your own data.
func WithAAD(aad ...string) WrapOption {
	return func(o *wrapOptions) { o.aad = append([]string(nil), aad...) }
}

func wrapOpts(opts []WrapOption) *[]string {
	var o wrapOptions
	for _, opt := range opts {
		opt(&o)
	}
	if len(o.aad) == 0 {
		return nil
	}
	return &o.aad
}

// GenerateDEK asks the service to generate a 32-byte DEK and wrap it with
// the root key (a wrap without plaintext). It returns the DEK, to use and
// Destroy, and the WDEK, to persist.
func (c *Client) GenerateDEK(ctx context.Context, rootKeyID string, opts ...WrapOption) (*DEK, WDEK, error) {
	actx, err := c.authCtx(ctx)
	if err != nil {
		return nil, nil, err
	}
	res, err := c.kp.WrapCreateDEKV2(actx, rootKeyID, wrapOpts(opts))
	if err != nil {
		return nil, nil, c.stateError(ctx, "wrap", rootKeyID, err)
	}
	dek, err := decodeDEK(res.PlainText)
	if err != nil {
		return nil, nil, err
	}
	w, err := ParseWDEK(res.CipherText)
	if err != nil {
		dek.Destroy()
		return nil, nil, fmt.Errorf("keys: wrap: the service answered a bad ciphertext: %w", err)
	}
	return dek, w, nil
}

// WrapDEK wraps a DEK made locally (NewDEK, NewPassphraseDEK) with the root key.
func (c *Client) WrapDEK(ctx context.Context, rootKeyID string, dek *DEK, opts ...WrapOption) (WDEK, error) {
	if dek == nil || dek.Len() == 0 {
		return nil, fmt.Errorf("%w: empty or destroyed DEK", ErrBadRequest)
	}
	actx, err := c.authCtx(ctx)
	if err != nil {
		return nil, err
	}
	pt := dek.LUKSPassphrase() // the API takes the plaintext as base64 text
	defer clear(pt)
	res, err := c.kp.WrapV2(actx, rootKeyID, pt, wrapOpts(opts))
	if err != nil {
		return nil, c.stateError(ctx, "wrap", rootKeyID, err)
	}
	w, err := ParseWDEK(res.CipherText)
	if err != nil {
		return nil, fmt.Errorf("keys: wrap: the service answered a bad ciphertext: %w", err)
	}
	return w, nil
}

// UnwrapDEK unwraps a WDEK with the root key. The second result is the WDEK
// to persist from now on: rewrapped under the current key version when the
// key was rotated since w was made, else w itself.
func (c *Client) UnwrapDEK(ctx context.Context, rootKeyID string, w WDEK, opts ...WrapOption) (*DEK, WDEK, error) {
	if len(w) == 0 {
		return nil, nil, fmt.Errorf("%w: empty WDEK", ErrBadRequest)
	}
	actx, err := c.authCtx(ctx)
	if err != nil {
		return nil, nil, err
	}
	pt, rewrapped, err := c.kp.UnwrapV2(actx, rootKeyID, []byte(w.String()), wrapOpts(opts))
	if err != nil {
		return nil, nil, c.stateError(ctx, "unwrap", rootKeyID, err)
	}
	dek, err := decodeDEK(string(pt))
	clear(pt)
	if err != nil {
		return nil, nil, err
	}
	next := w
	if len(rewrapped) > 0 {
		if next, err = ParseWDEK(string(rewrapped)); err != nil {
			dek.Destroy()
			return nil, nil, fmt.Errorf("keys: unwrap: the service answered a bad rewrapped ciphertext: %w", err)
		}
	}
	return dek, next, nil
}

func decodeDEK(b64 string) (*DEK, error) {
	b, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || len(b) == 0 {
		return nil, errors.New("keys: the service answered a plaintext that is not base64")
	}
	return &DEK{b: b}, nil
}
