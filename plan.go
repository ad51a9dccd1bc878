package e2e

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/e2eimage/e2e/iam"
	"github.com/e2eimage/e2e/keys"
	"github.com/e2eimage/e2e/storage"
)

// Plan is what a run would do, found out without changing anything: the
// dry run. Problems are the findings that would make the run fail.
type Plan struct {
	Steps []PlannedStep
}

// PlannedStep is one step of a Plan.
type PlannedStep struct {
	Stage Stage
	// Action is "skip" (the state says it is done), "reuse" (it exists
	// already), "create", "run" or "check failed".
	Action string
	Detail string
	// Problem, when set, would make the run fail at this step.
	Problem error
}

// Err joins the plan's problems, nil when the run is expected to succeed.
func (p *Plan) Err() error {
	var errs []error
	for _, s := range p.Steps {
		if s.Problem != nil {
			errs = append(errs, &StepError{Stage: s.Stage, Err: s.Problem})
		}
	}
	return errors.Join(errs...)
}

// String renders the plan as an aligned table, one step a line.
func (p *Plan) String() string {
	var b strings.Builder
	for _, s := range p.Steps {
		fmt.Fprintf(&b, "%-15s %-13s %s", s.Stage, s.Action, s.Detail)
		if s.Problem != nil {
			fmt.Fprintf(&b, " — PROBLEM: %v", s.Problem)
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// Plan checks the configuration against the cloud and the saved state and
// reports what Run would do, creating and ordering nothing: it reads the
// root key, the authorization policy and the bucket, opens the source, and
// has SoftLayer verify the server order (verifyOrder, not placeOrder) once
// a template exists to order from.
func (p *Pipeline) Plan(ctx context.Context, src Source) (*Plan, error) {
	if err := p.load(ctx); err != nil {
		return nil, err
	}
	st := p.state
	plan := &Plan{}
	add := func(s Stage, action, detail string, problem error) {
		plan.Steps = append(plan.Steps, PlannedStep{Stage: s, Action: action, Detail: detail, Problem: problem})
	}

	// A state made for another configuration: Run would refuse it.
	if st.Run != nil {
		if err := st.Run.check(p.cfg.identity(), st.OrderRequested || st.ServerID != 0); err != nil {
			add(StageRootKey, "check failed", "saved state", err)
			return plan, nil
		}
	}

	// Credentials first: without a token nothing else can be checked.
	if _, err := p.tokens.Token(ctx); err != nil {
		add(StageRootKey, "check failed", "IAM token for the API key", err)
		return plan, nil
	}

	switch {
	case st.RootKeyCRN != "":
		add(StageRootKey, "skip", st.RootKeyCRN, nil)
	case p.cfg.KMS.RootKeyID != "":
		k, err := p.keys.GetKey(ctx, p.cfg.KMS.RootKeyID)
		if err == nil && k.State != keys.Active {
			err = &keys.KeyStateError{KeyID: k.ID, Op: "use", State: k.State}
		}
		if err != nil {
			add(StageRootKey, "check failed", "root key "+p.cfg.KMS.RootKeyID, err)
		} else {
			add(StageRootKey, "reuse", k.CRN, nil)
		}
	default:
		k, err := p.keys.FindRootKey(ctx, p.cfg.KMS.RootKeyName)
		switch {
		case err == nil:
			add(StageRootKey, "reuse", fmt.Sprintf("root key %q %s", k.Name, k.CRN), nil)
		case errors.Is(err, keys.ErrKeyNotFound):
			add(StageRootKey, "create", fmt.Sprintf("root key %q in instance %s", p.cfg.KMS.RootKeyName, p.cfg.KMS.InstanceID), nil)
		default:
			add(StageRootKey, "check failed", "root key "+p.cfg.KMS.RootKeyName, err)
		}
	}

	if len(st.WDEK) > 0 {
		add(StageDataKey, "run", "unwrap the saved WDEK", nil)
	} else {
		add(StageDataKey, "create", "generate a DEK and wrap it with the root key", nil)
	}

	for _, a := range p.authorizations() {
		if st.AuthorizationPolicyID != "" {
			add(StageAuthorize, "skip", a.String(), nil)
		} else if id, err := p.iam.FindAuthorization(ctx, a); err == nil {
			add(StageAuthorize, "reuse", fmt.Sprintf("%s (policy %s)", a, id), nil)
		} else if errors.Is(err, iam.ErrNotFound) {
			add(StageAuthorize, "create", a.String(), nil)
		} else {
			add(StageAuthorize, "check failed", a.String(), err)
		}
	}

	bucket := p.cfg.COS.Bucket
	if st.Bucket == bucket {
		add(StageBucket, "skip", "bucket "+bucket, nil)
	} else if loc, err := p.cos.BucketLocation(ctx, bucket); err == nil {
		if got := storage.LocationRegion(loc); got != p.cfg.Region {
			add(StageBucket, "check failed", "bucket "+bucket,
				&storage.RegionMismatchError{Bucket: bucket, Want: p.cfg.Region, Got: got})
		} else {
			add(StageBucket, "reuse", fmt.Sprintf("bucket %s (%s)", bucket, loc), nil)
		}
	} else if errors.Is(err, storage.ErrNoSuchBucket) {
		add(StageBucket, "create", fmt.Sprintf("bucket %s in %s", bucket, p.cfg.Region), nil)
	} else {
		add(StageBucket, "check failed", "bucket "+bucket, err)
	}

	uri := storage.URI{Region: p.cfg.Region, Bucket: bucket, Object: p.cfg.COS.Object}
	if st.ObjectURI == uri.String() {
		add(StageEncrypt, "skip", st.ObjectURI, nil)
	} else {
		action, detail, err := p.describeSource(ctx, src, uri)
		add(StageEncrypt, action, detail, err)
	}

	if st.TemplateReady {
		add(StageImport, "skip", fmt.Sprintf("template %d %s", st.TemplateID, st.VPCImageID), nil)
	} else if p.cfg.Image.Format.vpc() {
		add(StageImport, "create", fmt.Sprintf("encrypted VPC custom image %q (%s)", p.cfg.Image.Name, p.cfg.Image.OS), nil)
	} else {
		add(StageImport, "create", fmt.Sprintf("encrypted image template %q (%s, %s)", p.cfg.Image.Name, p.cfg.Image.OS, p.cfg.Image.Format), nil)
	}

	if sc := p.cfg.Server; sc != nil {
		switch {
		case p.cfg.Image.Format.vpc():
			action, detail, err := p.planVPCInstance(ctx, sc)
			add(StageOrder, action, detail, err)
		case st.ServerReady:
			add(StageOrder, "skip", fmt.Sprintf("server %d", st.ServerID), nil)
		case st.TemplateReady:
			q, err := p.servers.Verify(ctx, sc.order(st.TemplateGUID))
			if err != nil {
				add(StageOrder, "check failed", "verifyOrder "+sc.Hostname+"."+sc.Domain, err)
			} else {
				add(StageOrder, "create", fmt.Sprintf("server %s.%s in %s (verified: $%.3f/hour, $%.2f/month)",
					sc.Hostname, sc.Domain, sc.Datacenter, q.HourlyCost, q.MonthlyCost), nil)
			}
		default:
			add(StageOrder, "create", fmt.Sprintf("server %s.%s in %s (verifyOrder runs once the template exists)",
				sc.Hostname, sc.Domain, sc.Datacenter), nil)
		}
	}
	if p.cfg.Audit {
		add(StageAudit, "run", "read the run's events from "+p.cfg.Endpoints.Logs, nil)
	}
	return plan, nil
}

// describeSource opens the source to report its size and format.
func (p *Pipeline) describeSource(ctx context.Context, src Source, uri storage.URI) (string, string, error) {
	if src.empty() {
		return "check failed", "source", errNoSource
	}
	in, err := src.open(ctx, p.cos)
	if err != nil {
		return "check failed", "source " + src.String(), err
	}
	defer in.done()
	kind := "raw"
	if in.disk != nil {
		kind = in.disk.Format().String()
	}
	detail := fmt.Sprintf("encrypt %s (%s, %d bytes) as %s → %s", src, kind, in.size, p.cfg.Image.Format, uri)
	if in.size == 0 {
		return "check failed", detail, ErrEmptySource
	}
	if in.size > MaxImageSize {
		return "check failed", detail, fmt.Errorf("%w: %d bytes", ErrTooLarge, in.size)
	}
	if p.cfg.Image.Format == EncryptedVHD && in.disk == nil {
		return "check failed", detail, errNeedSeekable
	}
	return "run", detail, nil
}
