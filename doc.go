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
//   - image: import the encrypted image as an image template and wait.
//   - provision: order a virtual server from the template and wait.
//   - audit: the Activity Tracker events of the run, from IBM Cloud Logs.
//
// Package e2etest is an emulated IBM Cloud that the tests, the examples and
// the quickstart run against; cmd/e2eimage is the command-line tool.
package e2e
