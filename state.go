package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// State is the record of a run's progress, saved after every step so that a
// rerun resumes where the last one stopped and never orders twice. It holds
// nothing secret: the WDEK is safe to persist, the DEK is never stored.
type State struct {
	RootKeyID  string `json:"rootKeyId,omitempty"`
	RootKeyCRN string `json:"rootKeyCrn,omitempty"`
	// WDEK is the wrapped data key; the DEK is recovered by unwrapping it.
	WDEK []byte `json:"wdek,omitempty"`
	// AuthorizationPolicyID is the server-protect → kms policy in force.
	AuthorizationPolicyID string `json:"authorizationPolicyId,omitempty"`
	Bucket                string `json:"bucket,omitempty"`
	// ObjectURI is the cos:// URI of the uploaded encrypted image, set once
	// the upload completed.
	ObjectURI    string `json:"objectUri,omitempty"`
	ObjectSize   int64  `json:"objectSize,omitempty"`
	ObjectSHA256 string `json:"objectSha256,omitempty"`
	// Verified is set once the uploaded object was read back and opened with the DEK.
	Verified bool `json:"verified,omitempty"`
	// ImportToken marks the template this run asked for (it is in the
	// template's note): set before createFromIcos, so a rerun after a lost
	// answer adopts the template instead of importing a second one.
	ImportToken  string `json:"importToken,omitempty"`
	TemplateID   int    `json:"templateId,omitempty"`
	TemplateGUID string `json:"templateGlobalIdentifier,omitempty"`
	// VPCImageID is the VPC custom image of a qcow2 (VPC) run.
	VPCImageID string `json:"vpcImageId,omitempty"`
	// TemplateReady is set once the import finished and the template is active.
	TemplateReady bool `json:"templateReady,omitempty"`
	// OrderRequested is set just before an order is placed: a rerun that finds
	// it set looks the server up instead of ordering again.
	OrderRequested bool   `json:"orderRequested,omitempty"`
	ServerID       int    `json:"serverId,omitempty"`
	ServerHostname string `json:"serverHostname,omitempty"`
	ServerReady    bool   `json:"serverReady,omitempty"`
	// VPCInstanceID is the VPC instance of a qcow2 (VPC) run; its name is
	// in ServerHostname. OrderRequested and ServerReady apply to it too.
	VPCInstanceID string `json:"vpcInstanceId,omitempty"`
	// StartedAt is when the first run began (the start of the audit window).
	StartedAt time.Time `json:"startedAt,omitempty"`
	UpdatedAt time.Time `json:"updatedAt,omitempty"`
	// Run is the configuration the state was made for; a rerun with another
	// refuses with a ConfigChangedError.
	Run *RunIdentity `json:"run,omitempty"`
}

// StateStore saves and loads a run's State. Load returns a zero State and no
// error when nothing was saved yet.
type StateStore interface {
	Load(ctx context.Context) (State, error)
	Save(ctx context.Context, s State) error
}

// FileStore is a StateStore keeping the state in one JSON file, written
// atomically (temporary file + rename) with mode 0600.
type FileStore struct {
	Path string
}

// Load reads the state file; a missing file is an empty state.
func (f FileStore) Load(ctx context.Context) (State, error) {
	var s State
	b, err := os.ReadFile(f.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return s, fmt.Errorf("e2e: read state: %w", err)
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return s, fmt.Errorf("e2e: state file %s is corrupt: %w", f.Path, err)
	}
	return s, nil
}

// Save writes the state file atomically.
func (f FileStore) Save(ctx context.Context, s State) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return fmt.Errorf("e2e: encode state: %w", err)
	}
	dir := filepath.Dir(f.Path)
	tmp, err := os.CreateTemp(dir, ".e2e-state-*")
	if err != nil {
		return fmt.Errorf("e2e: save state: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("e2e: save state: %w", err)
	}
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("e2e: save state: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("e2e: save state: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("e2e: save state: %w", err)
	}
	if err := os.Rename(tmp.Name(), f.Path); err != nil {
		return fmt.Errorf("e2e: save state: %w", err)
	}
	return nil
}

// MemoryStore is a StateStore in memory, for tests and one-shot runs.
type MemoryStore struct {
	s State
}

// Load returns a copy of the saved state.
func (m *MemoryStore) Load(context.Context) (State, error) { return m.s.clone(), nil }

// Save keeps a copy of s.
func (m *MemoryStore) Save(_ context.Context, s State) error {
	m.s = s.clone()
	return nil
}

// clone copies s deeply: a change to the copy must not change a saved state.
func (s State) clone() State {
	s.WDEK = append([]byte(nil), s.WDEK...)
	if s.Run != nil {
		r := *s.Run
		s.Run = &r
	}
	return s
}
