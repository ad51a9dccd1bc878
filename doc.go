// Package e2e automates IBM Cloud's end-to-end encrypted image workflow: a
// plain VM disk image becomes a running virtual server whose disk only the
// customer's own key can open.
//
// Every step is a primitive of its own package, usable alone:
//
//   - keys: root keys in Key Protect or HPCS; data encryption keys (DEKs) and
//     their wrapped form (WDEK).
//   - iam: the server-protect → kms authorization, service IDs, API keys and
//     the token source shared by all clients.
//   - luks and disk: pure-Go streaming encryption of disk images into LUKS1,
//     LUKS2, blktap encrypted VHD and qcow2+LUKS, with parallel sector workers;
//     decryption and inspection too.
//   - storage: streaming multipart upload to Cloud Object Storage.
//   - image: import the encrypted image as a classic image template, or as
//     a VPC custom image (qcow2), and wait.
//   - provision: order a classic virtual server from the template, or
//     create a VPC instance from the VPC image, and wait.
//   - audit: the Activity Tracker events of the run, from IBM Cloud Logs.
//
// Pipeline chains them. It saves a State after every step (never the DEK)
// through a StateStore, so a rerun after a failure or a crash resumes where
// the last run stopped and never creates a second root key, template (or
// VPC image) or server (or VPC instance). The state remembers the configuration it was made for (region,
// KMS instance, root key, format, image name, bucket, object, ordered host
// name): a rerun with another refuses with a ConfigChangedError naming the
// field rather than reuse results made for the old one. Cleanup deletes
// what a run created, including what an interrupted import or order left.
//
// Package e2etest is an emulated IBM Cloud that the tests, the examples and
// the quickstart run against; cmd/e2eimage is the command-line tool.
package e2e
