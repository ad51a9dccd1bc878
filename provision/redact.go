package provision

import (
	"fmt"
	"io"

	"github.com/e2eimage/e2e/internal/slsession"
)

// String describes the configuration without its credentials, so %v, %+v
// and %#v never print a key.
func (c Config) String() string {
	return fmt.Sprintf("provision.Config{Endpoint:%q APIKey:%q Username:%q ClassicAPIKey:%q Token:%t Timeout:%v Retries:%d RetryWait:%v FindTimeout:%v}",
		c.Endpoint, slsession.Redact(c.APIKey), c.Username, slsession.Redact(c.ClassicAPIKey), c.Token != nil, c.Timeout, c.Retries, c.RetryWait, c.FindTimeout)
}

// GoString is String, for %#v.
func (c Config) GoString() string { return c.String() }

// Format prints String for every verb, so %d or %x cannot reach the
// secret fields either.
func (c Config) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, c.String()) }

// String describes the order with the size of its user data, not its
// text: cloud-init user data often carries passwords and tokens (as
// VPCInstanceRequest hides it).
func (o Order) String() string {
	return fmt.Sprintf("provision.Order{Hostname:%q Domain:%q Datacenter:%q CPUs:%d MemoryMB:%d Flavor:%q Monthly:%t LocalDisk:%t NetworkSpeed:%d PrivateNetworkOnly:%t SSHKeyIDs:%v UserData:%d bytes Tags:%q TemplateGUID:%q IdempotencyKey:%q}",
		o.Hostname, o.Domain, o.Datacenter, o.CPUs, o.MemoryMB, o.Flavor, o.Monthly, o.LocalDisk, o.NetworkSpeed, o.PrivateNetworkOnly,
		o.SSHKeyIDs, len(o.UserData), o.Tags, o.TemplateGUID, o.IdempotencyKey)
}

// GoString is String, for %#v.
func (o Order) GoString() string { return o.String() }

// Format prints String for every verb.
func (o Order) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, o.String()) }
