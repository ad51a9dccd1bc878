package e2e

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/e2eimage/e2e/provision"
)

// ServerInfo is the virtual server a run ordered: a classic server (ID,
// Hostname, Domain) or a VPC instance (VPCInstanceID, Hostname as its name,
// Zone; ID 0).
type ServerInfo struct {
	ID       int
	Hostname string
	Domain   string
	// PowerState is "RUNNING" or "HALTED" for a classic server, the
	// instance status ("running") for a VPC instance.
	PowerState string
	PublicIP   string
	PrivateIP  string
	// VPCInstanceID and Zone name a VPC instance; empty for classic.
	VPCInstanceID string
	Zone          string
}

func (c ServerConfig) order(templateGUID string) provision.Order {
	return provision.Order{
		Hostname:     c.Hostname,
		Domain:       c.Domain,
		Datacenter:   c.Datacenter,
		CPUs:         c.CPUs,
		MemoryMB:     c.MemoryMB,
		Flavor:       c.Flavor,
		Monthly:      c.Monthly,
		LocalDisk:    c.LocalDisk,
		NetworkSpeed: c.NetworkSpeed,
		SSHKeyIDs:    c.SSHKeyIDs,
		UserData:     c.UserData,
		Tags:         c.Tags,
		TemplateGUID: templateGUID,
	}
}

// vpcRequest is c as a VPC instance request for the image imageID.
func (c ServerConfig) vpcRequest(imageID string) provision.VPCInstanceRequest {
	return provision.VPCInstanceRequest{
		Name:                       c.Hostname,
		ImageID:                    imageID,
		Profile:                    cmp.Or(c.Profile, DefaultVPCProfile),
		Zone:                       c.Zone,
		SubnetID:                   c.SubnetID,
		VPCID:                      c.VPCID,
		KeyIDs:                     c.KeyIDs,
		ResourceGroupID:            c.ResourceGroupID,
		BootVolumeEncryptionKeyCRN: c.BootVolumeKeyCRN,
		UserData:                   c.UserData,
	}
}

// Order orders the configured server from the template and waits until it
// is ready: a classic server, or for the qcow2 format a VPC instance from
// the VPC image (see orderVPC). It orders at most once: the intent is saved
// before the order is placed, and a rerun that finds it looks the server up
// (by its hostname and idempotency tag, or the instance's unique name)
// instead of ordering again.
func (p *Pipeline) Order(ctx context.Context) (*ServerInfo, error) {
	if err := p.loadFor(ctx, StageOrder); err != nil {
		return nil, err
	}
	sc := p.cfg.Server
	if sc == nil {
		return nil, &StepError{Stage: StageOrder, Err: errors.New("no server configured")}
	}
	if p.cfg.Image.Format.vpc() {
		return p.orderVPC(ctx, sc)
	}
	var srv *provision.Server
	err := p.stage(StageOrder, "order "+sc.Hostname+"."+sc.Domain, false, func() (string, error) {
		if !p.state.TemplateReady {
			return "", errors.New("no active template to order from: run Import first")
		}
		o := sc.order(p.state.TemplateGUID)
		if p.state.ServerID == 0 {
			if _, err := p.servers.Verify(ctx, o); err != nil {
				return "", err
			}
			p.state.OrderRequested = true
			if err := p.save(ctx); err != nil {
				return "", err
			}
			s, err := p.servers.Order(ctx, o) // finds an earlier order before placing one
			if err != nil {
				return "", err
			}
			p.state.ServerID, p.state.ServerHostname = s.ID, s.Hostname
			if err := p.save(ctx); err != nil {
				return "", err
			}
		}
		opts := []provision.WaitOption{provision.WithProgress(func(pr provision.Progress) {
			p.progress(Update{Stage: StageOrder, Message: pr.Transaction, Elapsed: pr.Elapsed})
		})}
		if d := time.Duration(p.cfg.PollInterval); d > 0 {
			opts = append(opts, provision.WithPollInterval(d), provision.WithMaxPollInterval(8*d))
		}
		s, err := p.servers.Wait(ctx, p.state.ServerID, opts...)
		if err != nil {
			return "", err
		}
		srv = s
		p.state.ServerReady = true
		return fmt.Sprintf("server %d %s ready (%s)", s.ID, s.FQDN(), s.PowerState), p.save(ctx)
	})
	if err != nil {
		return nil, err
	}
	return &ServerInfo{ID: srv.ID, Hostname: srv.Hostname, Domain: srv.Domain, PowerState: srv.PowerState,
		PublicIP: srv.PublicIP, PrivateIP: srv.PrivateIP}, nil
}
