package e2e

import (
	"context"
	"errors"
	"fmt"

	"github.com/e2eimage/e2e/image"
	"github.com/e2eimage/e2e/provision"
	"github.com/e2eimage/e2e/storage"
)

// CleanupOptions choose what Cleanup deletes.
type CleanupOptions struct {
	Server   bool // cancel the ordered server, or delete the VPC instance
	Template bool // delete the image template
	Object   bool // delete the encrypted object from COS
}

// CleanupAll deletes everything a run created that costs money or holds
// the image: the server, the template and the object. The root key, the
// WDEK and the authorization stay: they cost nothing and other runs use them.
var CleanupAll = CleanupOptions{Server: true, Template: true, Object: true}

// CleanupError lists what Cleanup could not delete; those resources are
// still in the cloud (and still named in the state).
type CleanupError struct {
	LeftBehind []string
	Errs       []error
}

func (e *CleanupError) Error() string {
	return fmt.Sprintf("e2e: clean-up left behind %v: %v", e.LeftBehind, errors.Join(e.Errs...))
}

// Unwrap returns the individual failures.
func (e *CleanupError) Unwrap() []error { return e.Errs }

// Cleanup deletes the resources the state names, for failed runs and tests,
// and forgets them in the state. Resources already gone count as deleted.
// Whatever could not be deleted is listed in a *CleanupError and stays in
// the state, so Cleanup can be run again.
func (p *Pipeline) Cleanup(ctx context.Context, what CleanupOptions) error {
	if err := p.load(ctx); err != nil {
		return err
	}
	ce := &CleanupError{}
	fail := func(what string, err error) {
		ce.LeftBehind = append(ce.LeftBehind, what)
		ce.Errs = append(ce.Errs, err)
	}
	// A crash after the import or the order was sent but before its answer
	// was saved leaves only the intent in the state: find what it created.
	if what.Template && p.state.TemplateID == 0 && p.state.ImportToken != "" {
		if err := p.adoptTemplate(ctx); err != nil {
			fail("the template of an interrupted import", err)
		} else if p.state.TemplateID == 0 {
			p.state.ImportToken = "" // that import never reached IBM Cloud
		}
	}
	if what.Template && p.cfg.Image.Format.vpc() && p.state.VPCImageID == "" && p.state.RootKeyCRN != "" {
		if err := p.findVPCImage(ctx, true); err != nil {
			fail("the VPC image of an interrupted import", err)
		}
	}
	if what.Server && p.state.OrderRequested && p.state.ServerID == 0 && p.state.VPCInstanceID == "" {
		find := p.findOrdered
		if p.cfg.Image.Format.vpc() {
			find = p.findVPCInstance
		}
		if err := find(ctx); err != nil {
			fail("the server of an interrupted order", err)
		}
	}
	if what.Server && p.state.VPCInstanceID != "" {
		if err := p.instances.DeleteInstance(ctx, p.state.VPCInstanceID); err != nil && !errors.Is(err, provision.ErrNotFound) {
			fail("VPC instance "+p.state.VPCInstanceID, err)
		} else {
			p.state.VPCInstanceID, p.state.ServerHostname, p.state.ServerReady, p.state.OrderRequested = "", "", false, false
		}
	}
	if what.Server && p.state.ServerID != 0 {
		if err := p.servers.Cancel(ctx, p.state.ServerID); err != nil && !errors.Is(err, provision.ErrNotFound) {
			fail(fmt.Sprintf("server %d", p.state.ServerID), err)
		} else {
			p.state.ServerID, p.state.ServerHostname, p.state.ServerReady, p.state.OrderRequested = 0, "", false, false
		}
	}
	if what.Template && p.state.TemplateID != 0 {
		if err := p.images.Delete(ctx, p.state.TemplateID); err != nil && !errors.Is(err, image.ErrNotFound) {
			fail(fmt.Sprintf("template %d", p.state.TemplateID), err)
		} else {
			p.state.TemplateID, p.state.TemplateGUID, p.state.TemplateReady, p.state.ImportToken = 0, "", false, ""
		}
	}
	if what.Template && p.state.VPCImageID != "" {
		if err := p.vpc.Delete(ctx, p.state.VPCImageID); err != nil && !errors.Is(err, image.ErrNotFound) {
			fail("VPC image "+p.state.VPCImageID, err)
		} else {
			p.state.VPCImageID, p.state.TemplateReady = "", false
		}
	}
	if what.Object && p.state.ObjectURI != "" {
		u, err := storage.ParseURI(p.state.ObjectURI)
		if err == nil {
			err = p.cos.Delete(ctx, u.Bucket, u.Object)
		}
		if err != nil && !errors.Is(err, storage.ErrNotFound) {
			fail(p.state.ObjectURI, err)
		} else {
			p.state.ObjectURI, p.state.ObjectSize, p.state.ObjectSHA256, p.state.Verified = "", 0, "", false
		}
	}
	if err := p.save(ctx); err != nil {
		return err
	}
	if len(ce.Errs) > 0 {
		return ce
	}
	return nil
}

// findOrdered looks for the server of an order whose answer was lost, by
// the configured host name and the order's idempotency tag, and records it;
// none found means the order never took effect.
func (p *Pipeline) findOrdered(ctx context.Context) error {
	if p.cfg.Server == nil {
		return errors.New("an order was sent but no server is configured to look it up by")
	}
	srv, found, err := p.servers.Find(ctx, p.cfg.Server.order(p.state.TemplateGUID))
	if err != nil {
		return err
	}
	if found {
		p.state.ServerID, p.state.ServerHostname = srv.ID, srv.Hostname
	} else {
		p.state.OrderRequested = false
	}
	return nil
}
