// Package image manages classic infrastructure image templates with the
// official softlayer-go client: it imports an encrypted image from Cloud
// Object Storage (SoftLayer createFromIcos with a root key CRN and a
// wrapped data key), waits for the import to finish, and gets, lists,
// deletes, exports (copyToIcos) and captures (createArchiveTransaction)
// templates.
//
// A Client is built from an endpoint and one kind of credential: an IBM
// Cloud API key (Basic "apikey"), a classic user name and API key, or an
// IAM token source. Point Config.Endpoint at e2etest.Cloud.SoftLayerURL to
// run against the emulator.
//
// ImportEncrypted validates the request before it calls the API (URI shape,
// object name conventions of the format, the 100 GB limit, required fields)
// and checks the answer even when it is a 200. The import itself runs for
// minutes to an hour: Wait polls it with backoff and returns the active
// template or an *ImportError carrying the template ID and IBM's message.
// Cancelling Wait's context stops the waiting, not the import.
//
// VPCClient does the same for VPC custom images (vpcv1 CreateImage of a
// qcow2+LUKS object with an encrypted data key and its root key CRN).
//
// Errors: ErrInvalidRequest (with a *ValidationError naming the field),
// ErrImportFailed (with *ImportError), and the API's ErrNotFound,
// ErrUnauthorized, ErrRateLimited, ErrTransport with an *APIError.
package image
