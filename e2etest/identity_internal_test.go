package e2etest

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"testing"
	"time"
)

// A token lives exactly its lifetime: the whole-second exp claim (which a
// token issued at hh:mm:10.999 for one second sets to :11) must not end it
// early, and the nanosecond expiry ends it on time.
func TestTokenExpiryToTheNanosecond(t *testing.T) {
	c, err := Start()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	token := func(exp int64, expNano time.Time) string {
		cl := tokenClaims{IAMID: "IBMid-test", Name: "t", SubType: "user", Exp: exp, ExpNano: expNano.UnixNano()}
		payload, err := json.Marshal(cl)
		if err != nil {
			t.Fatal(err)
		}
		signed := jwtHeader + "." + base64.RawURLEncoding.EncodeToString(payload)
		return signed + "." + c.sign(signed)
	}
	now := time.Now()
	// exp already reached in whole seconds, but half a second left.
	if _, err := c.verifyToken(token(now.Unix(), now.Add(500*time.Millisecond))); err != nil {
		t.Errorf("a token with 500 ms left was refused: %v", err)
	}
	if _, err := c.verifyToken(token(now.Unix()+1, now.Add(-time.Millisecond))); !errors.Is(err, errExpiredToken) {
		t.Errorf("a token past its expiry = %v, want errExpiredToken", err)
	}
	// Issued tokens carry both, exp truncated to the second.
	tok, exp := c.issueToken(Identity{IAMID: "IBMid-test", Name: "t", Kind: "user"}, "test")
	if _, err := c.verifyToken(tok); err != nil {
		t.Errorf("a fresh token was refused: %v", err)
	}
	if !exp.After(now) {
		t.Errorf("token expiry %v is not after %v", exp, now)
	}
}
