// Package provision orders virtual servers from an image and waits until
// they run: classic virtual servers from an image template with the
// official softlayer-go client (Client), and VPC virtual server instances
// from a custom image with the official vpcv1 client (VPCClient).
//
// Order verifies first (generateOrderTemplate + verifyOrder) so price and
// validation errors surface before anything is bought, then places the
// order at most once: placeOrder is never retried, and every order carries
// an idempotency tag on a unique hostname, so a rerun after a crash (or
// after an answer lost on the network) finds the server it already ordered
// with getVirtualGuests instead of ordering a second one.
//
// Wait polls until provisionDate is set and no transaction runs, seen twice
// in a row (SoftLayer sets provisionDate before its last transaction ends),
// and reports the power state and IP addresses.
//
// Errors: ErrInvalidOrder (a *ValidationError naming the field) before any
// call; ErrHostnameTaken when the hostname belongs to another order;
// ErrOutcomeUnknown when placeOrder's answer was lost and the server could
// not be found yet (rerun Order, which looks first); the API's ErrNotFound,
// ErrUnauthorized, ErrRateLimited, ErrTransport with an *APIError, whose
// Exception carries SoftLayer's reason for a refused order.
//
// VPCClient.CreateInstance creates an instance from a VPC image (e.g. an
// encrypted one that image.VPCClient imported), with its boot volume
// encrypted under a root key of the caller's (the image's key by default).
// The create call is sent once and never resent; instance names are unique
// in a region, so when its answer is lost CreateInstance, and any rerun,
// looks for the instance by name (FindInstance) before creating another.
// WaitRunning polls until the instance is running and returns a
// *VPCInstanceError (ErrInstanceFailed) with IBM's status reasons when it
// fails instead, e.g. "encryption_key_deleted". GetInstance and
// DeleteInstance complete it. Errors: a *ValidationError (ErrInvalidOrder)
// before any call; ErrNameTaken when the name belongs to another instance;
// ErrOutcomeUnknown as for Order; the same API sentinels with a
// *VPCAPIError carrying VPC's error code and trace ID.
package provision
