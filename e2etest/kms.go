package e2etest

// Key Protect / HPCS emulation. OWNER: the keys/iam work. Replace this file.

import (
	"errors"
	"net/http"
)

type kmsState struct{}

func (c *Cloud) kmsHandler() http.Handler { return http.NotFoundHandler() }

// unwrapWDEK unwraps a wrapped DEK with the root key named by its CRN, as
// the storage service does during an import; it fails when the key does not
// exist, is not in a state that allows unwrap, or the WDEK is not its.
// Called by the SoftLayer import.
func (c *Cloud) unwrapWDEK(rootKeyCRN string, wdek []byte) ([]byte, error) {
	return nil, errors.New("e2etest: key protect is not emulated yet")
}
