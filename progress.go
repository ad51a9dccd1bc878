package e2e

import "time"

// Stage names a step of the pipeline.
type Stage string

// The stages of a run, in order.
const (
	StageRootKey   Stage = "root-key"
	StageDataKey   Stage = "data-key"
	StageAuthorize Stage = "authorize"
	StageBucket    Stage = "bucket"
	StageEncrypt   Stage = "encrypt-upload"
	StageVerify    Stage = "verify"
	StageImport    Stage = "import"
	StageOrder     Stage = "order"
	StageAudit     Stage = "audit"
)

// Update reports progress. Every stage sends an update when it starts and
// one when it finishes (Finished true) or is skipped (Skipped and Finished
// true), each with a one-line Message; a failed stage sends no finishing
// update (its error is Run's). In between, the encrypt-upload stage sends
// byte counts, and the import and order stages send the cloud's status on
// every poll (Message only).
type Update struct {
	Stage   Stage
	Message string
	// Done counts bytes uploaded so far (encrypt-upload only).
	Done int64
	// Total is the expected size of the encrypted object: the source's size
	// plus the LUKS header area, an estimate for VHD and qcow2 (their
	// metadata differs); 0 when the source's size is unknown.
	Total int64
	// Rate is the upload's bytes per second so far (encrypt-upload only).
	Rate     float64
	Skipped  bool // the step's result was already in the state
	Finished bool
	// Elapsed is the time since the stage started.
	Elapsed time.Duration
}

// ProgressFunc receives updates. It is called synchronously from the
// pipeline's goroutine (during the upload at most a few times per second)
// and must return quickly; it must not call back into the Pipeline.
type ProgressFunc func(Update)
