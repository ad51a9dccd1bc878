package e2e

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"strings"
	"time"

	"github.com/e2eimage/e2e/audit"
	"github.com/e2eimage/e2e/iam"
	"github.com/e2eimage/e2e/image"
	"github.com/e2eimage/e2e/keys"
	"github.com/e2eimage/e2e/luks"
	"github.com/e2eimage/e2e/provision"
	"github.com/e2eimage/e2e/storage"
)

// Pipeline runs the encrypted-image workflow: ensure the root key, generate
// and wrap a DEK, authorize Cloud Block Storage to use the key, ensure the
// bucket, encrypt the image straight into a multipart upload, import it as
// an image template, order a server from it and collect the audit trail.
//
// Each step is also a method of its own; all of them load the saved State,
// skip what it says is done, and save it after their work, so a rerun after
// any failure resumes where the last one stopped and never orders twice.
// A Pipeline is not safe for concurrent use.
type Pipeline struct {
	cfg      Config
	store    StateStore
	progress ProgressFunc
	state    State

	tokens  *iam.TokenSource
	keys    *keys.Client
	iam     *iam.Client
	cos     *storage.Client
	images  *image.Client
	vpc     *image.VPCClient
	servers *provision.Client
	// instances creates the VPC instance of a qcow2 run (vpc.go).
	instances *provision.VPCClient
	audit     *audit.Client
}

// Option configures New.
type Option func(*Pipeline)

// WithStateStore keeps the run's state in s. The default is a FileStore at
// Config.StateFile.
func WithStateStore(s StateStore) Option { return func(p *Pipeline) { p.store = s } }

// WithProgress reports progress to fn. The default reports nothing.
func WithProgress(fn ProgressFunc) Option { return func(p *Pipeline) { p.progress = fn } }

// New validates cfg and builds the service clients. It makes no call yet.
func New(cfg Config, opts ...Option) (*Pipeline, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	p := &Pipeline{cfg: cfg}
	for _, o := range opts {
		o(p)
	}
	if p.store == nil {
		p.store = FileStore{Path: cfg.StateFile}
	}
	if p.progress == nil {
		p.progress = func(Update) {}
	}
	var err error
	if p.tokens, err = iam.NewTokenSource(cfg.APIKey, cfg.Endpoints.IAM); err != nil {
		return nil, fmt.Errorf("e2e: %w", err)
	}
	if p.keys, err = keys.NewClient(keys.Config{Endpoint: cfg.Endpoints.KMS, InstanceID: cfg.KMS.InstanceID,
		HPCS: cfg.KMS.HPCS, Authenticator: p.tokens, IAMURL: cfg.Endpoints.IAM}); err != nil {
		return nil, fmt.Errorf("e2e: %w", err)
	}
	if p.iam, err = iam.NewClient(iam.Config{URL: cfg.Endpoints.IAM, Authenticator: p.tokens}); err != nil {
		return nil, fmt.Errorf("e2e: %w", err)
	}
	if p.cos, err = storage.NewClient(storage.Config{Endpoint: cfg.Endpoints.COS, Region: cfg.Region,
		Authenticator: p.tokens, IAMURL: cfg.Endpoints.IAM, ServiceInstanceID: cfg.COS.InstanceID,
		PathStyle: cfg.COS.PathStyle}); err != nil {
		return nil, fmt.Errorf("e2e: %w", err)
	}
	if p.images, err = image.NewClient(image.Config{Endpoint: cfg.Endpoints.SoftLayer, APIKey: cfg.APIKey}); err != nil {
		return nil, fmt.Errorf("e2e: %w", err)
	}
	if p.vpc, err = image.NewVPCClient(image.VPCConfig{Endpoint: cfg.Endpoints.VPC, Region: cfg.Region, Authenticator: p.tokens}); err != nil {
		return nil, fmt.Errorf("e2e: %w", err)
	}
	pc := provision.Config{Endpoint: cfg.Endpoints.SoftLayer, APIKey: cfg.APIKey}
	if d := time.Duration(cfg.PollInterval); d > 0 {
		// After a lost placeOrder answer, look for the server about as long
		// as 50 polls take, not provision's 10-minute default.
		pc.FindTimeout = 50 * d
	}
	if p.servers, err = provision.NewClient(pc); err != nil {
		return nil, fmt.Errorf("e2e: %w", err)
	}
	if p.instances, err = provision.NewVPCClient(provision.VPCConfig{Endpoint: cfg.Endpoints.VPC, Region: cfg.Region,
		Authenticator: p.tokens, FindTimeout: pc.FindTimeout}); err != nil {
		return nil, fmt.Errorf("e2e: %w", err)
	}
	if cfg.Audit {
		if p.audit, err = audit.NewClient(audit.Config{Endpoint: cfg.Endpoints.Logs, Authenticator: p.tokens}); err != nil {
			return nil, fmt.Errorf("e2e: %w", err)
		}
	}
	return p, nil
}

// Result is what a run produced.
type Result struct {
	State State
	// Server is the ordered server, nil when none was ordered.
	Server *ServerInfo
	// Events is the audit trail, when Config.Audit is on.
	Events []audit.Event
}

// Run executes every step for the image src and returns the result. On
// error the state is saved up to the last finished step: run again to
// resume.
func (p *Pipeline) Run(ctx context.Context, src Source) (*Result, error) {
	if err := p.loadFor(ctx, StageRootKey); err != nil {
		return nil, err
	}
	if p.state.StartedAt.IsZero() {
		p.state.StartedAt = time.Now().UTC()
		if err := p.save(ctx); err != nil {
			return nil, err
		}
	}
	if err := p.EnsureRootKey(ctx); err != nil {
		return nil, err
	}
	dek, err := p.DataKey(ctx)
	if err != nil {
		return nil, err
	}
	defer dek.Destroy()
	if err := p.Authorize(ctx); err != nil {
		return nil, err
	}
	if err := p.EnsureBucket(ctx); err != nil {
		return nil, err
	}
	if err := p.EncryptUpload(ctx, src, dek); err != nil {
		return nil, err
	}
	if err := p.Verify(ctx, dek); err != nil {
		return nil, err
	}
	dek.Destroy()
	if err := p.Import(ctx); err != nil {
		return nil, err
	}
	res := &Result{}
	if p.cfg.Server != nil {
		srv, err := p.Order(ctx)
		if err != nil {
			return nil, err
		}
		res.Server = srv
	}
	if p.cfg.Audit {
		evs, err := p.Trail(ctx)
		if err != nil {
			return nil, err
		}
		res.Events = evs
	}
	res.State = p.state
	return res, nil
}

// String describes the pipeline without any credential.
func (p *Pipeline) String() string { return "e2e.Pipeline{" + p.cfg.String() + "}" }

// GoString is String: %#v must not print the API key either.
func (p *Pipeline) GoString() string { return p.String() }

// State returns the run's state as last loaded or saved.
func (p *Pipeline) State() State { return p.state }

func (p *Pipeline) load(ctx context.Context) error {
	s, err := p.store.Load(ctx)
	if err != nil {
		return err
	}
	p.state = s
	return nil
}

func (p *Pipeline) save(ctx context.Context) error {
	p.state.UpdatedAt = time.Now().UTC()
	if p.state.Run == nil {
		id := p.cfg.identity()
		p.state.Run = &id
	} else if p.cfg.Server != nil && (p.state.OrderRequested || p.state.ServerID != 0) && p.state.Run.ServerHostname == "" {
		p.state.Run.ServerHostname = p.cfg.Server.Hostname
	}
	// Save even when ctx is cancelled: the work it records is done.
	if err := p.store.Save(context.WithoutCancel(ctx), p.state); err != nil {
		return err
	}
	return nil
}

// stage reports the start and end of one step and wraps its error.
func (p *Pipeline) stage(s Stage, msg string, skip bool, fn func() (string, error)) error {
	if skip {
		p.progress(Update{Stage: s, Message: msg, Skipped: true, Finished: true})
		return nil
	}
	start := time.Now()
	p.progress(Update{Stage: s, Message: msg})
	done, err := fn()
	if err != nil {
		return &StepError{Stage: s, Err: err}
	}
	p.progress(Update{Stage: s, Message: done, Finished: true, Elapsed: time.Since(start)})
	return nil
}

// StepError says which step of a run failed; the state is resumable.
type StepError struct {
	Stage Stage
	Err   error
}

func (e *StepError) Error() string { return fmt.Sprintf("e2e: %s: %v", e.Stage, e.Err) }

// Unwrap returns the step's error.
func (e *StepError) Unwrap() error { return e.Err }

// EnsureRootKey finds or creates the root key and records its CRN.
func (p *Pipeline) EnsureRootKey(ctx context.Context) error {
	if err := p.loadFor(ctx, StageRootKey); err != nil {
		return err
	}
	want := p.cfg.KMS.RootKeyID
	if want == "" {
		want = "named " + p.cfg.KMS.RootKeyName
	}
	return p.stage(StageRootKey, "root key "+want, p.state.RootKeyCRN != "", func() (string, error) {
		var k *keys.Key
		var err error
		if p.cfg.KMS.RootKeyID != "" {
			k, err = p.keys.GetKey(ctx, p.cfg.KMS.RootKeyID)
			if err == nil && k.State != keys.Active {
				err = &keys.KeyStateError{KeyID: k.ID, Op: "use", State: k.State}
			}
		} else if len(p.cfg.KMS.ImportPayload) > 0 {
			k, err = p.keys.FindRootKey(ctx, p.cfg.KMS.RootKeyName)
			if errors.Is(err, keys.ErrKeyNotFound) {
				k, err = p.keys.ImportRootKey(ctx, p.cfg.KMS.RootKeyName, p.cfg.KMS.ImportPayload)
			}
		} else {
			k, err = p.keys.EnsureRootKey(ctx, p.cfg.KMS.RootKeyName)
		}
		if err != nil {
			return "", err
		}
		p.state.RootKeyID, p.state.RootKeyCRN = k.ID, k.CRN
		return "root key " + k.CRN, p.save(ctx)
	})
}

// DataKey returns the run's DEK: generated and wrapped by the root key on
// the first run (only the WDEK is saved), unwrapped from the saved WDEK on a
// rerun. The caller must Destroy it.
func (p *Pipeline) DataKey(ctx context.Context) (*keys.DEK, error) {
	if err := p.loadFor(ctx, StageDataKey); err != nil {
		return nil, err
	}
	if p.state.RootKeyID == "" {
		return nil, &StepError{Stage: StageDataKey, Err: errors.New("no root key yet: run EnsureRootKey first")}
	}
	var dek *keys.DEK
	err := p.stage(StageDataKey, "data key", false, func() (string, error) {
		if len(p.state.WDEK) > 0 {
			d, rewrapped, err := p.keys.UnwrapDEK(ctx, p.state.RootKeyID, keys.WDEK(p.state.WDEK))
			if err != nil {
				return "", err
			}
			dek = d
			if len(rewrapped) > 0 && string(rewrapped) != string(p.state.WDEK) {
				// The root key rotated: keep the WDEK under its newest version.
				p.state.WDEK = rewrapped
				return "data key unwrapped (WDEK rewrapped after a rotation)", p.save(ctx)
			}
			return "data key unwrapped from the saved WDEK", nil
		}
		d, w, err := p.newDEK(ctx)
		if err != nil {
			return "", err
		}
		dek = d
		p.state.WDEK = w
		if err := p.save(ctx); err != nil {
			d.Destroy()
			return "", err
		}
		return fmt.Sprintf("data key generated (%d bytes) and wrapped", d.Len()), nil
	})
	if err != nil {
		if dek != nil {
			dek.Destroy() // e.g. unwrapped, but saving the rewrapped WDEK failed
		}
		return nil, err
	}
	return dek, nil
}

// newDEK makes the DEK the format needs: 32 bytes generated by the KMS for
// LUKS (its base64 text is the passphrase), a local 64-byte key for
// AES-256-XTS encrypted VHDs, a local 64-character passphrase for qcow2.
func (p *Pipeline) newDEK(ctx context.Context) (*keys.DEK, keys.WDEK, error) {
	var d *keys.DEK
	var err error
	switch p.cfg.Image.Format {
	case EncryptedVHD:
		d, err = keys.NewDEK(64)
	case QCOW2LUKS:
		d, err = keys.NewPassphraseDEK(64) // the DEK is the passphrase text QEMU reads
	default:
		return p.keys.GenerateDEK(ctx, p.state.RootKeyID)
	}
	{
		if err != nil {
			return nil, nil, err
		}
		w, err := p.keys.WrapDEK(ctx, p.state.RootKeyID, d)
		if err != nil {
			d.Destroy()
			return nil, nil, err
		}
		return d, w, nil
	}
}

// Authorize ensures Cloud Block Storage (server-protect) may read the KMS
// instance's keys, which IBM requires before importing an encrypted image.
func (p *Pipeline) Authorize(ctx context.Context) error {
	if err := p.loadFor(ctx, StageAuthorize); err != nil {
		return err
	}
	as := p.authorizations()
	names := make([]string, len(as))
	for i, a := range as {
		names[i] = a.String()
	}
	return p.stage(StageAuthorize, strings.Join(names, "; "), p.state.AuthorizationPolicyID != "", func() (string, error) {
		var ids, done []string
		for _, a := range as {
			id, created, err := p.iam.EnsureAuthorization(ctx, a)
			if err != nil {
				return "", err
			}
			verb := "found"
			if created {
				verb = "created"
			}
			ids = append(ids, id)
			done = append(done, verb+" policy "+id)
		}
		p.state.AuthorizationPolicyID = strings.Join(ids, ",")
		return strings.Join(done, "; "), p.save(ctx)
	})
}

// authorizations are the service-to-service policies the import needs:
// Cloud Block Storage (server-protect) reading the key for classic images;
// the VPC image service (is/image) reading the object and the key for VPC.
func (p *Pipeline) authorizations() []iam.Authorization {
	if !p.cfg.Image.Format.vpc() {
		return []iam.Authorization{iam.ServerProtectToKMS(p.cfg.KMS.InstanceID, p.cfg.KMS.HPCS)}
	}
	target := "kms"
	if p.cfg.KMS.HPCS {
		target = "hs-crypto"
	}
	as := []iam.Authorization{
		iam.ImageToCOS(p.cfg.COS.InstanceID),
		{Source: "is", SourceResourceType: "image", Target: target, TargetInstance: p.cfg.KMS.InstanceID, Role: "Reader"},
	}
	if p.cfg.Server != nil {
		// The instance's boot volume is encrypted with the root key.
		as = append(as, iam.ServerProtectToKMS(p.cfg.KMS.InstanceID, p.cfg.KMS.HPCS))
	}
	return as
}

// EnsureBucket creates the bucket in the run's region, or checks that an
// existing one is there.
func (p *Pipeline) EnsureBucket(ctx context.Context) error {
	if err := p.loadFor(ctx, StageBucket); err != nil {
		return err
	}
	b := p.cfg.COS.Bucket
	return p.stage(StageBucket, "bucket "+b, p.state.Bucket == b, func() (string, error) {
		if err := p.cos.EnsureBucket(ctx, b); err != nil {
			return "", err
		}
		p.state.Bucket = b
		return fmt.Sprintf("bucket %s in %s", b, p.cfg.Region), p.save(ctx)
	})
}

// EncryptUpload encrypts src with dek in the configured format, streaming
// straight into a multipart upload: no temporary file, and encryption
// overlaps the upload. A failed or cancelled upload is aborted.
func (p *Pipeline) EncryptUpload(ctx context.Context, src Source, dek *keys.DEK) error {
	if err := p.loadFor(ctx, StageEncrypt); err != nil {
		return err
	}
	uri := storage.URI{Region: p.cfg.Region, Bucket: p.cfg.COS.Bucket, Object: p.cfg.COS.Object}
	return p.stage(StageEncrypt, "encrypt "+src.String()+" → "+uri.String(), p.state.ObjectURI == uri.String(), func() (string, error) {
		if src.empty() {
			return "", errNoSource
		}
		in, err := src.open(ctx, p.cos)
		if err != nil {
			return "", err
		}
		defer in.done()
		if in.size > MaxImageSize {
			return "", fmt.Errorf("%w: %s is %d bytes", ErrTooLarge, src, in.size)
		}
		if in.size == 0 {
			return "", fmt.Errorf("%w: %s", ErrEmptySource, src)
		}
		res, err := p.encryptInto(ctx, in, dek, uri)
		if err != nil {
			return "", err
		}
		p.state.ObjectURI = res.URI.String()
		p.state.ObjectSize = res.Size
		p.state.ObjectSHA256 = hex.EncodeToString(res.SHA256)
		p.state.Verified = false
		return fmt.Sprintf("%s: %d bytes in %d parts, sha256 %s", res.URI, res.Size, res.Parts, p.state.ObjectSHA256[:16]), p.save(ctx)
	})
}

func (p *Pipeline) encryptInto(ctx context.Context, in *opened, dek *keys.DEK, uri storage.URI) (*storage.UploadResult, error) {
	start := time.Now()
	total := in.size
	if total > 0 {
		total += luksOverhead
	}
	opts := []storage.UploadOption{storage.WithProgress(func(pr storage.Progress) {
		p.progress(Update{Stage: StageEncrypt, Done: pr.Bytes, Total: total, Rate: pr.Rate(), Elapsed: time.Since(start)})
	})}
	if p.cfg.COS.PartSize > 0 {
		opts = append(opts, storage.WithPartSize(p.cfg.COS.PartSize))
	}
	if p.cfg.COS.Concurrency > 0 {
		opts = append(opts, storage.WithConcurrency(p.cfg.COS.Concurrency))
	}
	if total > 0 {
		opts = append(opts, storage.WithSizeHint(total))
	}
	obj := p.cos.NewObjectWriter(ctx, uri.Bucket, uri.Object, opts...)
	if err := p.encode(ctx, obj, in, dek); err != nil {
		_ = obj.CloseWithError(err) // aborts the multipart upload
		return nil, err
	}
	if err := obj.Close(); err != nil {
		return nil, err
	}
	return obj.Result(), nil
}

// luksOverhead is the LUKS1 header area cryptsetup's layout puts before the
// payload (4096 sectors), for progress totals.
const luksOverhead = 4096 * 512

// encode writes the encrypted image in the configured format to w.
func (p *Pipeline) encode(ctx context.Context, w io.Writer, in *opened, dek *keys.DEK) error {
	switch p.cfg.Image.Format {
	case LUKSRaw:
		pass := dek.LUKSPassphrase()
		defer clear(pass)
		opts := []luks.Option{luks.WithIterTime(time.Duration(p.cfg.Encrypt.IterTime))}
		if p.cfg.Encrypt.Workers > 0 {
			opts = append(opts, luks.WithWorkers(p.cfg.Encrypt.Workers))
		}
		lw, err := luks.NewWriter(w, pass, opts...)
		if err != nil {
			return err
		}
		n, err := lw.ReadFrom(ctxReader{ctx, in.r})
		if err == nil && n == 0 {
			err = ErrEmptySource // a stream of unknown size that held nothing
		}
		// Close even after an error: it stops the workers (which write to w)
		// and zeroes the volume key before the caller aborts the upload.
		if cerr := lw.Close(); err == nil {
			err = cerr
		}
		return err
	default:
		return encodeDisk(ctx, p.cfg, w, in, dek)
	}
}

// Verify reads the uploaded object back from COS and opens it with the DEK:
// the header and key slot always; every byte with Config.FullVerify.
func (p *Pipeline) Verify(ctx context.Context, dek *keys.DEK) error {
	if err := p.loadFor(ctx, StageVerify); err != nil {
		return err
	}
	return p.stage(StageVerify, "verify "+p.state.ObjectURI, p.state.Verified, func() (string, error) {
		u, err := storage.ParseURI(p.state.ObjectURI)
		if err != nil {
			return "", fmt.Errorf("no uploaded object to verify: %w", err)
		}
		ra, err := p.cos.NewReaderAt(ctx, u.Bucket, u.Object)
		if err != nil {
			return "", err
		}
		defer ra.Close()
		if ra.Size() != p.state.ObjectSize {
			return "", fmt.Errorf("%w: %s is %d bytes, uploaded %d", storage.ErrSizeMismatch, u, ra.Size(), p.state.ObjectSize)
		}
		h := sha256.New()
		n, err := p.openImage(ctx, ra, dek, h)
		if err != nil {
			return "", err
		}
		p.state.Verified = true
		msg := "header and key slot open with the DEK"
		if p.cfg.FullVerify {
			msg = fmt.Sprintf("decrypted all %d bytes (plaintext sha256 %x)", n, h.Sum(nil)[:8])
		}
		return msg, p.save(ctx)
	})
}

// openImage opens the encrypted object with the DEK; with FullVerify it
// decrypts every byte into h.
func (p *Pipeline) openImage(ctx context.Context, ra *storage.ObjectReaderAt, dek *keys.DEK, h hash.Hash) (int64, error) {
	switch p.cfg.Image.Format {
	case LUKSRaw:
		pass := dek.LUKSPassphrase()
		defer clear(pass)
		vol, err := luks.OpenContext(ctx, ra, pass)
		if err != nil {
			return 0, err
		}
		defer vol.Close()
		if !p.cfg.FullVerify {
			return 0, nil
		}
		return io.Copy(h, ctxReader{ctx, io.NewSectionReader(vol, 0, vol.Size())})
	default:
		return verifyDisk(ctx, p.cfg, ra, dek, h)
	}
}

// Import creates the encrypted image template from the uploaded object and
// waits until it is active.
func (p *Pipeline) Import(ctx context.Context) error {
	if err := p.loadFor(ctx, StageImport); err != nil {
		return err
	}
	return p.stage(StageImport, "import "+p.cfg.Image.Name, p.state.TemplateReady, func() (string, error) {
		if p.state.ObjectURI == "" {
			return "", errors.New("no uploaded object to import: run EncryptUpload first")
		}
		if p.cfg.Image.Format.vpc() {
			return p.importVPC(ctx)
		}
		if p.state.TemplateID == 0 && p.state.ImportToken != "" {
			if err := p.adoptTemplate(ctx); err != nil {
				return "", err
			}
		}
		if p.state.TemplateID == 0 {
			p.state.ImportToken = newToken()
			if err := p.save(ctx); err != nil {
				return "", err
			}
			t, err := p.images.ImportEncrypted(ctx, image.ImportRequest{
				Name:            p.cfg.Image.Name,
				Note:            strings.TrimSpace(p.cfg.Image.Note + " " + importMark(p.state.ImportToken)),
				OSReferenceCode: p.cfg.Image.OS,
				URI:             p.state.ObjectURI,
				IBMAPIKey:       p.cfg.APIKey,
				RootKeyCRN:      p.state.RootKeyCRN,
				WrappedDEK:      keys.WDEK(p.state.WDEK).String(),
				Format:          imageFormat(p.cfg.Image.Format),
				CloudInit:       p.cfg.Image.CloudInit,
				BYOL:            p.cfg.Image.BYOL,
				Size:            p.state.ObjectSize,
			})
			if err != nil {
				return "", err
			}
			p.state.TemplateID, p.state.TemplateGUID = t.ID, t.GlobalIdentifier
			if err := p.save(ctx); err != nil {
				return "", err
			}
		}
		opts := []image.WaitOption{image.WithProgress(func(pr image.Progress) {
			p.progress(Update{Stage: StageImport, Message: pr.Status.KeyName + " " + pr.Transaction, Elapsed: pr.Elapsed})
		})}
		if d := time.Duration(p.cfg.PollInterval); d > 0 {
			opts = append(opts, image.WithPollInterval(d), image.WithMaxPollInterval(8*d))
		}
		t, err := p.images.Wait(ctx, p.state.TemplateID, opts...)
		if err != nil {
			var ie *image.ImportError
			if errors.As(err, &ie) {
				// The template failed for good: a rerun must import anew.
				p.state.TemplateID, p.state.TemplateGUID, p.state.ImportToken = 0, "", ""
				_ = p.save(ctx)
			}
			return "", err
		}
		p.state.TemplateGUID = t.GlobalIdentifier
		p.state.TemplateReady = true
		return fmt.Sprintf("template %d (%s) active", t.ID, t.GlobalIdentifier), p.save(ctx)
	})
}

// adoptTemplate looks for the template an earlier, interrupted import
// created (its answer lost): the one named like ours whose note carries
// this run's import token.
func (p *Pipeline) adoptTemplate(ctx context.Context) error {
	ts, err := p.images.List(ctx, p.cfg.Image.Name)
	if err != nil {
		return fmt.Errorf("look for the template of an interrupted import: %w", err)
	}
	for _, t := range ts {
		if strings.Contains(t.Note, importMark(p.state.ImportToken)) {
			p.state.TemplateID, p.state.TemplateGUID = t.ID, t.GlobalIdentifier
			return p.save(ctx)
		}
	}
	return nil // the earlier call never reached IBM Cloud: import anew
}

func importMark(token string) string { return "[e2e:" + token + "]" }

func newToken() string {
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return hex.EncodeToString(b)
}

func imageFormat(f Format) image.Format {
	if f == EncryptedVHD {
		return image.EncryptedVHD
	}
	return image.LUKSRaw
}

// Trail collects the run's audit events: the root key's wraps and unwraps,
// the template (or VPC image) creation and the server's provisioning (or
// the VPC instance's creation), in time order.
func (p *Pipeline) Trail(ctx context.Context) ([]audit.Event, error) {
	if err := p.loadFor(ctx, StageAudit); err != nil {
		return nil, err
	}
	if p.audit == nil {
		return nil, &StepError{Stage: StageAudit, Err: errors.New("audit is off (set Config.Audit and Endpoints.Logs)")}
	}
	if p.state.StartedAt.IsZero() {
		return nil, &StepError{Stage: StageAudit, Err: errors.New("the run has no start time in its state")}
	}
	var evs []audit.Event
	run := audit.Run{RootKeyCRN: p.state.RootKeyCRN, TemplateName: p.cfg.Image.Name, Start: p.state.StartedAt.Add(-time.Minute)}
	if p.state.TemplateID != 0 {
		run.TemplateID = fmt.Sprint(p.state.TemplateID)
	}
	if p.state.VPCImageID != "" {
		run.TemplateID = p.state.VPCImageID
	}
	if p.state.ServerID != 0 {
		run.ServerID = fmt.Sprint(p.state.ServerID)
		run.Hostname = p.state.ServerHostname
	}
	if p.state.VPCInstanceID != "" {
		run.ServerID, run.Hostname = p.state.VPCInstanceID, p.state.ServerHostname
	}
	err := p.stage(StageAudit, "audit trail", false, func() (string, error) {
		var err error
		evs, err = p.audit.Trail(ctx, run)
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("%d events", len(evs)), nil
	})
	return evs, err
}
