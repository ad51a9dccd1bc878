package e2etest

// IAM policy management and identity emulation. OWNER: the keys/iam work. Replace this file.

import "net/http"

type policyState struct{}

func (c *Cloud) iamAPIHandler() http.Handler { return http.NotFoundHandler() }

// hasAuthorization reports whether an authorization policy lets
// sourceService (e.g. "server-protect") use the KMS instance
// targetInstance of targetService ("kms" or "hs-crypto") with the Reader role.
// Called by the SoftLayer import.
func (c *Cloud) hasAuthorization(sourceService, targetService, targetInstance string) bool {
	return false
}
