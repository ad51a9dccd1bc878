package e2e

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/e2eimage/e2e/image"
	"github.com/e2eimage/e2e/keys"
)

// importVPC imports the uploaded qcow2+LUKS object as a VPC custom image and
// waits until it is available. VPC image names are unique per region, so a
// rerun after a lost answer finds the image by its name instead of creating
// it twice.
func (p *Pipeline) importVPC(ctx context.Context) (string, error) {
	if p.state.VPCImageID == "" {
		if err := p.findVPCImage(ctx, false); err != nil {
			return "", err
		}
	}
	if p.state.VPCImageID == "" {
		im, err := p.vpc.ImportEncrypted(ctx, image.VPCImportRequest{
			Name:       p.cfg.Image.Name,
			URI:        p.state.ObjectURI,
			OSName:     p.cfg.Image.OS,
			RootKeyCRN: p.state.RootKeyCRN,
			WrappedDEK: keys.WDEK(p.state.WDEK).String(),
		})
		if err != nil {
			return "", err
		}
		p.state.VPCImageID = im.ID
		if err := p.save(ctx); err != nil {
			return "", err
		}
	}
	opts := []image.WaitOption{image.WithProgress(func(pr image.Progress) {
		p.progress(Update{Stage: StageImport, Message: pr.Status.KeyName, Elapsed: pr.Elapsed})
	})}
	if d := time.Duration(p.cfg.PollInterval); d > 0 {
		opts = append(opts, image.WithPollInterval(d), image.WithMaxPollInterval(8*d))
	}
	im, err := p.vpc.Wait(ctx, p.state.VPCImageID, opts...)
	if err != nil {
		var ie *image.VPCImportError
		if errors.As(err, &ie) {
			// Failed for good: delete it (names are unique) so a rerun can import anew.
			_ = p.vpc.Delete(ctx, p.state.VPCImageID)
			p.state.VPCImageID = ""
			_ = p.save(ctx)
		}
		return "", err
	}
	p.state.TemplateReady = true
	return fmt.Sprintf("VPC image %s (%s) available", im.Name, im.ID), p.save(ctx)
}

// findVPCImage records the image an interrupted import created (its answer
// lost): the one with the run's image name and root key. VPC image names
// are unique per region. Failed images count only with failed set (for
// Cleanup, which deletes them too).
func (p *Pipeline) findVPCImage(ctx context.Context, failed bool) error {
	ims, err := p.vpc.List(ctx, p.cfg.Image.Name)
	if err != nil {
		return fmt.Errorf("look for an image of an interrupted import: %w", err)
	}
	for _, im := range ims {
		if (failed || !im.Failed()) && im.EncryptionKeyCRN == p.state.RootKeyCRN {
			p.state.VPCImageID = im.ID
		}
	}
	return nil
}
