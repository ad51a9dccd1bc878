package e2e

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/IBM/vpc-go-sdk/vpcv1"

	"github.com/e2eimage/e2e/iam"
	"github.com/e2eimage/e2e/image"
	"github.com/e2eimage/e2e/keys"
	"github.com/e2eimage/e2e/provision"
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

// orderVPC creates the VPC instance of a qcow2 run from its VPC image and
// waits until it runs. The intent (OrderRequested) is saved before the
// create; CreateInstance finds an instance of the same name and image
// instead of creating a second, so a rerun after a crash or a lost answer
// adopts it. An instance that ends failed (e.g. its boot volume key is
// not usable) is deleted so that a rerun, once the cause is fixed, creates
// it anew (a rerun right away may find the name still being deleted).
func (p *Pipeline) orderVPC(ctx context.Context, sc *ServerConfig) (*ServerInfo, error) {
	var in *provision.VPCInstance
	err := p.stage(StageOrder, "create VPC instance "+sc.Hostname, false, func() (string, error) {
		if !p.state.TemplateReady || p.state.VPCImageID == "" {
			return "", errors.New("no available VPC image to create the instance from: run Import first")
		}
		if p.state.VPCInstanceID == "" {
			// An encrypted boot volume needs Cloud Block Storage to read the
			// key; a state authorized before a server was configured lacks it.
			if _, _, err := p.iam.EnsureAuthorization(ctx, iam.ServerProtectToKMS(p.cfg.KMS.InstanceID, p.cfg.KMS.HPCS)); err != nil {
				return "", err
			}
			p.state.OrderRequested = true
			if err := p.save(ctx); err != nil {
				return "", err
			}
			created, err := p.instances.CreateInstance(ctx, sc.vpcRequest(p.state.VPCImageID))
			if err != nil {
				return "", err
			}
			p.state.VPCInstanceID, p.state.ServerHostname = created.ID, created.Name
			if err := p.save(ctx); err != nil {
				return "", err
			}
		}
		opts := []provision.WaitOption{provision.WithProgress(func(pr provision.Progress) {
			p.progress(Update{Stage: StageOrder, Message: strings.TrimSpace(pr.PowerState + " " + pr.Transaction), Elapsed: pr.Elapsed})
		})}
		if d := time.Duration(p.cfg.PollInterval); d > 0 {
			opts = append(opts, provision.WithPollInterval(d), provision.WithMaxPollInterval(8*d))
		}
		got, err := p.instances.WaitRunning(ctx, p.state.VPCInstanceID, opts...)
		if err != nil {
			var ie *provision.VPCInstanceError
			if errors.As(err, &ie) && ie.Status == vpcv1.InstanceStatusFailedConst {
				if derr := p.instances.DeleteInstance(ctx, p.state.VPCInstanceID); derr == nil || errors.Is(derr, provision.ErrNotFound) {
					p.state.VPCInstanceID, p.state.ServerHostname, p.state.OrderRequested = "", "", false
					_ = p.save(ctx)
				}
			}
			return "", err
		}
		in = got
		p.state.ServerReady = true
		return fmt.Sprintf("VPC instance %s (%s) %s in %s, %s", got.Name, got.ID, got.Status, got.Zone, got.PrimaryIP), p.save(ctx)
	})
	if err != nil {
		return nil, err
	}
	return &ServerInfo{Hostname: in.Name, PowerState: in.Status, PrivateIP: in.PrimaryIP, VPCInstanceID: in.ID, Zone: in.Zone}, nil
}

// findVPCInstance records the instance of a create whose answer was lost
// (only the intent was saved): the one with the configured name created
// from the run's image. None found means the create never took effect.
func (p *Pipeline) findVPCInstance(ctx context.Context) error {
	if p.cfg.Server == nil {
		return errors.New("an instance was requested but no server is configured to look it up by")
	}
	in, found, err := p.instances.FindInstance(ctx, p.cfg.Server.Hostname)
	if err != nil {
		return err
	}
	switch {
	case !found:
		p.state.OrderRequested = false // the create never took effect
	case p.state.VPCImageID == "":
		// Without the run's image, another run's instance of that name
		// cannot be told from this one's: leave it to the user.
		return fmt.Errorf("instance %s is named %q, but the run's VPC image is unknown, so it may be another run's", in.ID, in.Name)
	case in.ImageID == p.state.VPCImageID:
		p.state.VPCInstanceID, p.state.ServerHostname = in.ID, in.Name
	default:
		p.state.OrderRequested = false // that name belongs to an instance of another image
	}
	return nil
}

// planVPCInstance says what Order would do for a qcow2 run, creating
// nothing: skip, reuse an instance of the name, or create one (after
// checking the request as the VPC API would).
func (p *Pipeline) planVPCInstance(ctx context.Context, sc *ServerConfig) (action, detail string, problem error) {
	st := p.state
	if st.ServerReady && st.VPCInstanceID != "" {
		return "skip", fmt.Sprintf("VPC instance %s (%s)", st.ServerHostname, st.VPCInstanceID), nil
	}
	imageID := st.VPCImageID
	if imageID == "" {
		imageID = "image-to-import" // a stand-in: the image does not exist yet
	}
	req := sc.vpcRequest(imageID)
	key := "the image's root key"
	if req.BootVolumeEncryptionKeyCRN != "" {
		key = req.BootVolumeEncryptionKeyCRN
	}
	detail = fmt.Sprintf("VPC instance %s (%s) in %s, subnet %s, boot volume encrypted with %s", req.Name, req.Profile, req.Zone, req.SubnetID, key)
	if err := req.Validate(p.cfg.Region); err != nil {
		return "check failed", detail, err
	}
	in, found, err := p.instances.FindInstance(ctx, req.Name)
	switch {
	case err != nil:
		return "check failed", detail, err
	case found && st.VPCImageID != "" && in.ImageID == st.VPCImageID:
		return "reuse", fmt.Sprintf("VPC instance %s (%s, %s)", in.Name, in.ID, in.Status), nil
	case found:
		return "check failed", detail, fmt.Errorf("%w: instance %s named %q runs image %s", provision.ErrNameTaken, in.ID, in.Name, in.ImageID)
	}
	return "create", detail, nil
}
