package provision

import (
	"context"
	"fmt"
	"time"

	"github.com/softlayer/softlayer-go/datatypes"
	"github.com/softlayer/softlayer-go/services"
	"github.com/softlayer/softlayer-go/session"
)

// Server is a classic virtual server.
type Server struct {
	ID               int
	GlobalIdentifier string
	Hostname, Domain string
	Datacenter       string
	CPUs, MemoryMB   int
	Hourly           bool
	TemplateGUID     string
	PowerState       string // "RUNNING" or "HALTED"
	PublicIP         string // "" for a private-only server
	PrivateIP        string
	Tags             []string
	CreateDate       time.Time
	ProvisionDate    time.Time // zero until provisioned
	// Transaction is the step of the running transaction, "" when none.
	Transaction string
}

// FQDN is the fully qualified domain name.
func (s *Server) FQDN() string { return s.Hostname + "." + s.Domain }

// Ready reports one observation of readiness: provisioned and no
// transaction running. Wait requires two in a row.
func (s *Server) Ready() bool { return !s.ProvisionDate.IsZero() && s.Transaction == "" }

const serverMask = "mask[id,globalIdentifier,hostname,domain,startCpus,maxMemory,hourlyBillingFlag,createDate,provisionDate," +
	"primaryIpAddress,primaryBackendIpAddress,powerState,activeTransaction[transactionStatus],datacenter[name]," +
	"tagReferences[tag[name]],blockDeviceTemplateGroup[globalIdentifier]]"

func fromDatatype(g *datatypes.Virtual_Guest) *Server {
	s := &Server{
		ID: deref(g.Id), GlobalIdentifier: deref(g.GlobalIdentifier), Hostname: deref(g.Hostname), Domain: deref(g.Domain),
		CPUs: deref(g.StartCpus), MemoryMB: deref(g.MaxMemory), Hourly: deref(g.HourlyBillingFlag),
		PublicIP: deref(g.PrimaryIpAddress), PrivateIP: deref(g.PrimaryBackendIpAddress),
	}
	if g.Datacenter != nil {
		s.Datacenter = deref(g.Datacenter.Name)
	}
	if g.BlockDeviceTemplateGroup != nil {
		s.TemplateGUID = deref(g.BlockDeviceTemplateGroup.GlobalIdentifier)
	}
	if g.PowerState != nil {
		s.PowerState = deref(g.PowerState.KeyName)
	}
	if g.CreateDate != nil {
		s.CreateDate = g.CreateDate.Time
	}
	if g.ProvisionDate != nil {
		s.ProvisionDate = g.ProvisionDate.Time
	}
	if tx := g.ActiveTransaction; tx != nil && tx.Id != nil {
		s.Transaction = "pending"
		if tx.TransactionStatus != nil && tx.TransactionStatus.Name != nil {
			s.Transaction = *tx.TransactionStatus.Name
		}
	}
	for _, r := range g.TagReferences {
		if r.Tag != nil && r.Tag.Name != nil {
			s.Tags = append(s.Tags, *r.Tag.Name)
		}
	}
	return s
}

// Get returns a server by ID.
func (c *Client) Get(ctx context.Context, id int) (*Server, error) {
	var g datatypes.Virtual_Guest
	err := c.s.Call(ctx, "SoftLayer_Virtual_Guest", "getObject", true, func(s *session.Session) error {
		var err error
		g, err = services.GetVirtualGuestService(s).Id(id).Mask(serverMask).GetObject()
		return err
	})
	if err != nil {
		return nil, err
	}
	if g.Id == nil {
		return nil, fmt.Errorf("%w: getObject of server %d answered without an id", ErrUnexpectedResponse, id)
	}
	return fromDatatype(&g), nil
}

// Cancel cancels (deletes) a server, for clean-up after tests and failed
// runs. A server that does not exist gives an error wrapping ErrNotFound,
// unless an earlier attempt of this call failed temporarily (it may have
// cancelled it).
func (c *Client) Cancel(ctx context.Context, id int) error {
	var answered, ok bool // answered: the last attempt succeeded (else a retry found it gone)
	err := c.s.Delete(ctx, "SoftLayer_Virtual_Guest", "deleteObject", func(s *session.Session) error {
		var err error
		ok, err = services.GetVirtualGuestService(s).Id(id).DeleteObject()
		answered = err == nil
		return err
	})
	if err != nil {
		return err
	}
	if answered && !ok {
		return fmt.Errorf("%w: deleteObject of server %d answered false", ErrUnexpectedResponse, id)
	}
	return nil
}
