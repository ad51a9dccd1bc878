// Package vpcapi is what the image and provision packages share about
// calling the VPC API with the official vpcv1 client: building the client
// from a config with the documented defaults, its error envelope as a typed
// error, which failures are worth retrying, and polling with backoff.
package vpcapi
