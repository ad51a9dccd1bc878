package e2etest

import (
	"fmt"
	"time"
)

// KeyInfo describes a Key Protect or HPCS key held by the cloud. It never
// carries key material.
type KeyInfo struct {
	ID, Name, CRN string
	InstanceID    string // KPInstanceID or HPCSInstanceID
	Root          bool   // a root key (not extractable); false for standard keys
	Imported      bool
	State         int // KeyActive, KeySuspended, KeyDeactivated or KeyDestroyed
	Versions      int // key versions; rotations add one
	Aliases       []string
	Created       time.Time
}

// Keys returns every key of both KMS instances, in creation order,
// including destroyed ones.
func (c *Cloud) Keys() []KeyInfo {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.kms.init()
	out := make([]KeyInfo, 0, len(c.kms.order))
	for _, id := range c.kms.order {
		k := c.kms.keys[id]
		out = append(out, KeyInfo{
			ID: k.id, Name: k.name, CRN: k.crn, InstanceID: k.instance,
			Root: !k.extractable, Imported: k.imported, State: k.state,
			Versions: len(k.versions), Aliases: append([]string(nil), k.aliases...), Created: k.created,
		})
	}
	return out
}

// SetKeyState forces a key into a state, as IBM Cloud does on its own: a
// key is deactivated when it expires, suspended when its instance is, and
// destroyed when deleted. Destroying shreds the key's material. It is for
// tests that need a key in a state the API cannot reach directly.
func (c *Cloud) SetKeyState(keyID string, state int) error {
	switch state {
	case KeyActive, KeySuspended, KeyDeactivated, KeyDestroyed:
	default:
		return fmt.Errorf("e2etest: %d is not a key state", state)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.kms.init()
	k, ok := c.kms.keys[keyID]
	if !ok {
		return fmt.Errorf("e2etest: key %s does not exist", keyID)
	}
	if k.state == KeyDestroyed && state != KeyDestroyed {
		return fmt.Errorf("e2etest: key %s is destroyed; its material is gone", keyID)
	}
	k.state, k.updated = state, kmsNow()
	if state == KeyDestroyed {
		k.deleted = k.updated
		k.aliases = nil
		for i := range k.versions {
			clear(k.versions[i].material)
		}
	}
	return nil
}
