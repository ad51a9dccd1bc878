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

// Update reports progress. Done and Total count bytes during encryption and
// upload; other stages send an update when they start (Done 0) and when
// they finish (Finished true), with a one-line Message.
type Update struct {
	Stage    Stage
	Message  string
	Done     int64
	Total    int64 // 0 when unknown
	Rate     float64
	Skipped  bool // the step's result was already in the state
	Finished bool
	Elapsed  time.Duration
}

// ProgressFunc receives updates. It is called synchronously from the
// pipeline's goroutine (during the upload at most a few times per second)
// and must return quickly; it must not call back into the Pipeline.
type ProgressFunc func(Update)
