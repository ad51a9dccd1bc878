// Package e2etest is an emulated IBM Cloud for tests, examples and demos, in
// the spirit of net/http/httptest: Start runs loopback HTTP servers for every
// service of the encrypted-image workflow — IAM (tokens, policies, service
// IDs and API keys), Key Protect / HPCS, Cloud Object Storage, the SoftLayer
// REST API (classic image templates, virtual servers, orders), the VPC API
// (custom images at /v1/images, virtual server instances at /v1/instances)
// and IBM Cloud Logs — and returns their
// endpoints and credentials.
// The official IBM Go SDK clients talk to it unchanged.
//
// It behaves like the cloud where it matters to the workflow: tokens expire,
// keys have states, wrapping is real AES-GCM, imports fail without the
// server-protect → kms authorization or when the object does not open with
// the unwrapped key, long operations take (scaled) time, and every
// state-changing call leaves an audit event that the Cloud Logs endpoint
// serves. Faults can be injected per service and operation.
//
// The package does not import testing; use it from tests like this:
//
//	cloud, err := e2etest.Start()
//	if err != nil {
//		t.Fatal(err)
//	}
//	defer cloud.Close()
//	auth := &core.IamAuthenticator{ApiKey: cloud.APIKey, URL: cloud.IAMURL}
//	// point any IBM SDK client at cloud.KMSURL, cloud.COSURL, …
package e2etest
