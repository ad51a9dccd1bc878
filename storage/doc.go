// Package storage moves encrypted images in and out of IBM Cloud Object
// Storage (COS) with the official IBM COS SDK, without temporary files and
// with bounded memory.
//
// A Client is made from an endpoint, a region and credentials: an IBM Cloud
// API key (or any go-sdk-core Authenticator) with the COS instance ID, or
// an HMAC key pair, which also reaches other S3-compatible servers
// (PathStyle for those on an IP address).
//
//   - EnsureBucket creates a regional bucket ("<region>-standard") or checks
//     that an existing one is in the client's region (*RegionMismatchError).
//   - Upload streams an io.Reader of unknown size as a multipart upload with
//     concurrent parts, computing the SHA-256 (and optionally MD5) of the
//     whole object on the way; every failure or cancellation aborts the upload, so no orphan
//     parts stay behind (*UploadError says what happened). NewObjectWriter
//     is the same as an io.WriteCloser for stream encoders.
//   - NewReaderAt reads an object at random with cached, read-ahead ranged
//     GETs bound to its ETag; Download streams it and resumes a broken body.
//   - Head, List, Delete, PendingUploads and AbortUpload clean up.
//   - URI parses and prints the cos://region/bucket/object names that IBM's
//     image import takes.
//
// Errors wrap the package's sentinels (ErrNoSuchBucket, ErrNotFound,
// ErrAccessDenied, …) for errors.Is, and *RequestError carries the S3 code,
// status and request ID. Credentials never appear in errors.
//
// Memory: an upload holds at most Concurrency+1 part buffers
// ((4+1) × 16 MiB by default); a reader holds at most read-ahead + 4 blocks.
package storage
