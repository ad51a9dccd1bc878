package provision

import (
	"fmt"
	"io"
)

// String describes the configuration without its credentials: the
// authenticator (which may hold an API key) shows as its type only, so
// %v, %+v and %#v never print a key.
func (c VPCConfig) String() string {
	return fmt.Sprintf("provision.VPCConfig{Endpoint:%q Region:%q Authenticator:%T Retries:%d RetryWait:%v FindTimeout:%v}",
		c.Endpoint, c.Region, c.Authenticator, c.Retries, c.RetryWait, c.FindTimeout)
}

// GoString is String, for %#v.
func (c VPCConfig) GoString() string { return c.String() }

// Format prints String for every verb.
func (c VPCConfig) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, c.String()) }

// String describes the request with the size of its user data, not its
// text: cloud-init user data often carries passwords and tokens.
func (r VPCInstanceRequest) String() string {
	return fmt.Sprintf("provision.VPCInstanceRequest{Name:%q ImageID:%q Profile:%q Zone:%q SubnetID:%q VPCID:%q KeyIDs:%q ResourceGroupID:%q BootVolumeEncryptionKeyCRN:%q BootVolumeProfile:%q UserData:%d bytes}",
		r.Name, r.ImageID, r.Profile, r.Zone, r.SubnetID, r.VPCID, r.KeyIDs, r.ResourceGroupID, r.BootVolumeEncryptionKeyCRN, r.BootVolumeProfile, len(r.UserData))
}

// GoString is String, for %#v.
func (r VPCInstanceRequest) GoString() string { return r.String() }

// Format prints String for every verb.
func (r VPCInstanceRequest) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, r.String()) }
