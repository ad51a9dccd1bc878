// Package keys manages root keys and data encryption keys (DEKs) in IBM Key
// Protect or Hyper Protect Crypto Services, with IBM's official
// keyprotect-go-client:
//
//   - root keys: create, import (16/24/32 bytes, optionally under an import
//     token), get by ID or alias, EnsureRootKey (reuse the active key of
//     that name), rotate, disable/enable, delete; Key.CRN is what an image
//     import names as its root key;
//   - DEKs: GenerateDEK (the service generates and wraps 32 bytes), NewDEK +
//     WrapDEK (made locally), UnwrapDEK (which also hands back the WDEK
//     rewrapped after a rotation); AAD is supported but off by default,
//     because IBM's image imports need WDEKs without AAD;
//   - DEK knows the secret each image format needs: LUKSPassphrase (base64
//     text, IBM's 2018 LUKS images), VHDKey (raw 32/64-byte XTS key,
//     encrypted VHD), QCOW2Passphrase (UTF-8 text, qcow2+LUKS). Destroy
//     zeroes it; it never prints or marshals its plaintext. A WDEK is safe
//     to persist.
//
// Errors are typed: errors.Is with ErrKeyNotFound, ErrKeyNotActive (errors.As
// *KeyStateError for the state), ErrUnauthorized, ErrWrongInstance,
// ErrWrongKey, ErrNotRootKey, ErrRateLimited, ErrBadRequest, ErrTransport;
// errors.As *ServiceError for the HTTP status, Key Protect's reasons and the
// correlation ID to quote to IBM.
//
// Failed calls (429, 5xx, dropped connections, answers cut short) are
// retried by the kp client, except creations of root keys: a create whose
// outcome is unknown (5xx, lost answer) is not resent, as that could make a
// second key, and its error wraps ErrOutcomeUnknown. EnsureRootKey then
// looks for the key again.
//
// The package works unchanged against github.com/e2eimage/e2e/e2etest:
// Config{Endpoint: cloud.KMSURL, InstanceID: cloud.KPInstanceID, APIKey:
// cloud.APIKey, IAMURL: cloud.IAMURL}.
//
// Live tests run against IBM Cloud only when these variables are set:
// IBMCLOUD_API_KEY (an API key), KP_INSTANCE_ID (a Key Protect instance
// GUID), and optionally KP_ENDPOINT (default https://us-south.kms.cloud.ibm.com)
// and IBMCLOUD_IAM_URL (default https://iam.cloud.ibm.com). They create a
// root key named "e2e-live-test-<time>" and delete it afterwards.
package keys
