// Package retryafter reads the Retry-After header that a rate-limited or
// overloaded server (429, 503) sends, and waits as a context allows. The
// SoftLayer session (internal/slsession) and the VPC clients
// (internal/vpcapi) share it, so both read the header the same way.
package retryafter
