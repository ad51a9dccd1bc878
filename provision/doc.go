// Package provision orders classic virtual servers from an image template
// with the official softlayer-go client, waits until they are ready, and
// cancels them.
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
package provision
