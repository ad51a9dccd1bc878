package e2e

import (
	"context"
	"errors"
	"fmt"
)

// ErrConfigChanged is matched (errors.Is) by a ConfigChangedError: the saved
// state belongs to a run with another configuration.
var ErrConfigChanged = errors.New("e2e: configuration changed since the saved state")

// RunIdentity is what the saved state was made for: the configuration fields
// whose change would make the saved results stale (another key, bucket,
// object, format or image name). It is recorded on the first save.
type RunIdentity struct {
	Region        string `json:"region,omitempty"`
	KMSInstanceID string `json:"kmsInstanceId,omitempty"`
	RootKeyID     string `json:"rootKeyId,omitempty"`
	RootKeyName   string `json:"rootKeyName,omitempty"`
	Bucket        string `json:"bucket,omitempty"`
	Object        string `json:"object,omitempty"`
	Format        Format `json:"format,omitempty"`
	ImageName     string `json:"imageName,omitempty"`
	// ServerHostname is the ordered server's host name, once one is ordered.
	ServerHostname string `json:"serverHostname,omitempty"`
}

// ConfigChangedError says which configuration field differs from the one
// the saved state was made with. A rerun refuses rather than silently
// reusing a key, object, template or server made for another
// configuration: restore the field, or start afresh with another
// Config.StateFile (after Cleanup of the old run if it is not wanted).
type ConfigChangedError struct {
	Field string // the Config field, e.g. "COS.Bucket"
	Saved string
	Now   string
}

func (e *ConfigChangedError) Error() string {
	return fmt.Sprintf("e2e: %s is %q but the saved state was made with %q: restore it or use another state file", e.Field, e.Now, e.Saved)
}

// Is makes errors.Is(err, ErrConfigChanged) true.
func (e *ConfigChangedError) Is(target error) bool { return target == ErrConfigChanged }

func (c Config) identity() RunIdentity {
	id := RunIdentity{
		Region: c.Region, KMSInstanceID: c.KMS.InstanceID, RootKeyID: c.KMS.RootKeyID, RootKeyName: c.KMS.RootKeyName,
		Bucket: c.COS.Bucket, Object: c.COS.Object, Format: c.Image.Format, ImageName: c.Image.Name,
	}
	if c.Server != nil {
		id.ServerHostname = c.Server.Hostname
	}
	return id
}

// check compares the saved identity with the current one. The server's
// host name only matters once a server was ordered.
func (saved RunIdentity) check(now RunIdentity, ordered bool) error {
	fields := []struct{ name, saved, now string }{
		{"Region", saved.Region, now.Region},
		{"KMS.InstanceID", saved.KMSInstanceID, now.KMSInstanceID},
		{"KMS.RootKeyID", saved.RootKeyID, now.RootKeyID},
		{"KMS.RootKeyName", saved.RootKeyName, now.RootKeyName},
		{"Image.Format", string(saved.Format), string(now.Format)},
		{"Image.Name", saved.ImageName, now.ImageName},
		{"COS.Bucket", saved.Bucket, now.Bucket},
		// Last: the default object name derives from the image name and format.
		{"COS.Object", saved.Object, now.Object},
	}
	if ordered && saved.ServerHostname != "" {
		fields = append(fields, struct{ name, saved, now string }{"Server.Hostname", saved.ServerHostname, now.ServerHostname})
	}
	for _, f := range fields {
		if f.saved != f.now {
			return &ConfigChangedError{Field: f.name, Saved: f.saved, Now: f.now}
		}
	}
	return nil
}

// loadFor loads the state for a step and refuses a state made for another
// configuration; its errors are the step's.
func (p *Pipeline) loadFor(ctx context.Context, s Stage) error {
	if err := p.load(ctx); err != nil {
		return &StepError{Stage: s, Err: err}
	}
	if p.state.Run == nil {
		return nil // nothing saved yet (or a state from before identities): recorded on the next save
	}
	ordered := p.state.OrderRequested || p.state.ServerID != 0
	if err := p.state.Run.check(p.cfg.identity(), ordered); err != nil {
		return &StepError{Stage: s, Err: err}
	}
	return nil
}
