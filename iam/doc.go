// Package iam manages the IBM Cloud IAM side of the encrypted-image
// workflow with IBM's official SDKs (go-sdk-core, platform-services-go-sdk):
//
//   - TokenSource: one IAM token source shared by every client of a run
//     (it implements core.Authenticator and hands out raw tokens);
//   - authorization policies: EnsureAuthorization creates (idempotently) the
//     server-protect → kms|hs-crypto Reader policy an encrypted import needs,
//     VerifyAuthorizations reports what is missing;
//   - service IDs, their API keys (returned once, never printed), and
//     access policies that let them read a COS bucket and use a KMS instance.
//
// Errors are typed: test them with errors.Is against ErrInvalidAPIKey,
// ErrUnauthorized, ErrNotFound, ErrPolicyExists, ErrRateLimited,
// ErrMissingAuthorization and ErrOutcomeUnknown, or errors.As with *ServiceError (HTTP status and
// IAM error code) and *MissingAuthorizationError.
//
// Calls answered 429 or 5xx are retried with exponential backoff (4 times,
// up to 30 s apart, by default; see Config), and every call honours ctx.
// Creating a service ID or an API key is the exception: after a 5xx or a
// lost answer it may have taken effect, so it is not resent (a second API
// key would be a live credential nobody holds) and the error wraps
// ErrOutcomeUnknown.
//
// The package works unchanged against github.com/e2eimage/e2e/e2etest: give
// it the emulator's IAMURL and APIKey.
//
// Live tests run against IBM Cloud only when IBMCLOUD_API_KEY is set
// (IBMCLOUD_IAM_URL overrides the IAM endpoint; KP_INSTANCE_ID names a Key
// Protect instance whose authorization is verified, never created).
package iam
