package e2e_test

// Chaos (issue 11): full pipeline runs against the emulated cloud with
// seeded random faults (5xx, 429, dropped connections, bodies cut short,
// latency) and a simulated crash (the context cancelled at a random progress
// update, as a killed process would stop). Each run's seed picks one of the
// three formats: LUKS and encrypted VHD (a classic template and server) or
// qcow2+LUKS (a VPC image and instance); faults hit only the services the
// format uses, so none is wasted on a service the run never calls. Every run
// is rerun from its saved state until it completes; then the cloud must hold
// exactly what one clean run makes: one template and one server (classic) or
// one available image and one running instance (VPC), an object that
// decrypts to the input with the DEK in its format, no multipart upload
// left. Every failure on the way must be a typed error.
//
//	go test -run TestChaos -v .                       # 12 runs
//	E2E_CHAOS_RUNS=200 E2E_CHAOS_SEED=7 go test -run TestChaos -timeout 1h .

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/e2eimage/e2e"
	"github.com/e2eimage/e2e/audit"
	"github.com/e2eimage/e2e/disk"
	"github.com/e2eimage/e2e/e2etest"
	"github.com/e2eimage/e2e/iam"
	"github.com/e2eimage/e2e/image"
	"github.com/e2eimage/e2e/internal/demo"
	"github.com/e2eimage/e2e/keys"
	"github.com/e2eimage/e2e/luks"
	"github.com/e2eimage/e2e/provision"
	"github.com/e2eimage/e2e/storage"
)

const (
	chaosDefaultRuns = 12
	// chaosAttempts bounds the reruns of one run; the faults are cleared
	// before the last two so that every run can finish.
	chaosAttempts = 5
	// chaosParallel runs are in flight at once: most of a run is waiting on
	// the emulator's (scaled) transactions, not on the CPU.
	chaosParallel = 4
	// chaosBudget stops starting new runs after this long; the runs not
	// started are counted in the summary.
	chaosBudget = 45 * time.Second
	// chaosHang is how long one attempt may take before it counts as hung:
	// a clean run takes a few seconds, the slowest retries about 20.
	chaosHang = 90 * time.Second
)

// chaosOp is an operation faults can hit; an empty op hits every operation
// of the service.
type chaosOp struct {
	svc e2etest.Service
	op  string
}

var chaosOps = []chaosOp{
	{e2etest.ServiceIAM, "token"},
	{e2etest.ServiceIAM, "policies"},
	{e2etest.ServiceKMS, "createKey"},
	{e2etest.ServiceKMS, "listKeys"},
	{e2etest.ServiceKMS, "wrap"},
	{e2etest.ServiceKMS, "unwrap"},
	{e2etest.ServiceKMS, ""},
	{e2etest.ServiceCOS, "CreateBucket"},
	{e2etest.ServiceCOS, "HeadBucket"},
	{e2etest.ServiceCOS, "PutObject"},
	{e2etest.ServiceCOS, "CreateMultipartUpload"},
	{e2etest.ServiceCOS, "UploadPart"},
	{e2etest.ServiceCOS, "CompleteMultipartUpload"},
	{e2etest.ServiceCOS, "HeadObject"},
	{e2etest.ServiceCOS, "GetObject"},
	{e2etest.ServiceCOS, ""},
	{e2etest.ServiceSoftLayer, "SoftLayer_Virtual_Guest_Block_Device_Template_Group::createFromIcos"},
	{e2etest.ServiceSoftLayer, "SoftLayer_Virtual_Guest_Block_Device_Template_Group::getObject"},
	{e2etest.ServiceSoftLayer, "SoftLayer_Product_Order::verifyOrder"},
	{e2etest.ServiceSoftLayer, "SoftLayer_Product_Order::placeOrder"},
	{e2etest.ServiceSoftLayer, "SoftLayer_Virtual_Guest::getObject"},
	{e2etest.ServiceSoftLayer, ""},
	{e2etest.ServiceVPC, "CreateImage"},
	{e2etest.ServiceVPC, "ListImages"},
	{e2etest.ServiceVPC, "GetImage"},
	{e2etest.ServiceVPC, "DeleteImage"},
	{e2etest.ServiceVPC, "CreateInstance"},
	{e2etest.ServiceVPC, "ListInstances"},
	{e2etest.ServiceVPC, "GetInstance"},
	{e2etest.ServiceVPC, "DeleteInstance"},
	{e2etest.ServiceVPC, ""},
	{e2etest.ServiceLogs, "query"},
}

// chaosFormats are the formats a run may pick, with their names in the
// summary.
var chaosFormats = []struct {
	format e2e.Format
	name   string
}{
	{e2e.LUKSRaw, "luks"},
	{e2e.EncryptedVHD, "vhd"},
	{e2e.QCOW2LUKS, "qcow2"},
}

// opsFor are the operations a run of format f calls: a VPC run never calls
// SoftLayer, a classic run never calls VPC.
func opsFor(f e2e.Format) []chaosOp {
	skip := e2etest.ServiceVPC
	if f == e2e.QCOW2LUKS {
		skip = e2etest.ServiceSoftLayer
	}
	var ops []chaosOp
	for _, op := range chaosOps {
		if op.svc != skip {
			ops = append(ops, op)
		}
	}
	return ops
}

// chaosFault is one injected fault, described for the summary.
type chaosFault struct {
	at    chaosOp
	fault e2etest.Fault
	kind  string
}

func (f chaosFault) String() string {
	op := f.at.op
	if op == "" {
		op = "*"
	}
	op = op[strings.LastIndex(op, ":")+1:]
	return fmt.Sprintf("%s:%s %s×%d", f.at.svc, op, f.kind, f.fault.Times)
}

func randomFault(rng *rand.Rand, ops []chaosOp) chaosFault {
	f := chaosFault{at: ops[rng.IntN(len(ops))]}
	f.fault.Times = 1 + rng.IntN(3)
	switch rng.IntN(5) {
	case 0, 1:
		f.fault.Status = []int{500, 502, 503}[rng.IntN(3)]
		f.kind = strconv.Itoa(f.fault.Status)
		if rng.IntN(4) == 0 {
			// The call took effect and its answer was lost, as behind a
			// gateway that timed out: a client that resends a create
			// makes a duplicate.
			f.fault.AfterHandling = true
			f.kind = "lost" + f.kind
		}
	case 2:
		f.fault.Status = 429
		f.fault.Times = 1 // each costs the clients a Retry-After second
		f.kind = "429"
	case 3:
		f.fault.Drop = true
		f.kind = "drop"
		if rng.IntN(2) == 0 {
			f.fault.DropAfter = 1 + rng.IntN(256)
			f.kind = "cut@" + strconv.Itoa(f.fault.DropAfter)
		}
	default:
		f.fault.Latency = time.Duration(20+rng.IntN(200)) * time.Millisecond
		f.kind = "slow" + f.fault.Latency.String()
	}
	return f
}

// chaosRun is the plan and the outcome of one run.
type chaosRun struct {
	n        int
	seed     uint64
	format   e2e.Format
	fname    string
	size     int
	file     bool
	faults   []chaosFault
	crashAt  int // progress update that cancels the first attempt; 0 = none
	crashed  string
	outcomes []string // one per attempt: the failed stage and the typed cause, or "ok"
	problems []string
	elapsed  time.Duration
}

func (r *chaosRun) problem(format string, args ...any) {
	r.problems = append(r.problems, fmt.Sprintf(format, args...))
}

func planChaosRun(n int, seed uint64) *chaosRun {
	rng := rand.New(rand.NewPCG(seed, seed^0x5eed))
	r := &chaosRun{n: n, seed: seed, size: 2 << 20, file: rng.IntN(2) == 0}
	f := chaosFormats[rng.IntN(len(chaosFormats))]
	r.format, r.fname = f.format, f.name
	if rng.IntN(2) == 0 {
		r.size = 6<<20 + 512*rng.IntN(100) // a multipart upload (5 MiB parts)
	}
	ops := opsFor(r.format)
	for range 1 + rng.IntN(3) {
		r.faults = append(r.faults, randomFault(rng, ops))
	}
	if rng.IntN(2) == 0 {
		r.crashAt = 1 + rng.IntN(30)
	}
	return r
}

func TestChaos(t *testing.T) {
	runs := chaosDefaultRuns
	if v := os.Getenv("E2E_CHAOS_RUNS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("E2E_CHAOS_RUNS=%q is not a positive number", v)
		}
		runs = n
	}
	base := uint64(1)
	if v := os.Getenv("E2E_CHAOS_SEED"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("E2E_CHAOS_SEED=%q is not a number", v)
		}
		base = n
	}
	budget := chaosBudget
	if runs > chaosDefaultRuns {
		budget = time.Duration(runs) * 5 * time.Second
	}
	if d, ok := t.Deadline(); ok && time.Until(d) < budget+15*time.Second {
		budget = max(time.Until(d)-15*time.Second, time.Second)
	}
	t.Logf("%d runs, seeds %d…%d (E2E_CHAOS_RUNS, E2E_CHAOS_SEED), budget %v", runs, base, base+uint64(runs)-1, budget)

	start := time.Now()
	results := make([]*chaosRun, runs)
	sem := make(chan struct{}, chaosParallel)
	var wg sync.WaitGroup
	for i := range runs {
		sem <- struct{}{}
		if time.Since(start) > budget {
			<-sem
			break
		}
		r := planChaosRun(i, base+uint64(i))
		results[i] = r
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			r.run(t.TempDir())
		}()
	}
	wg.Wait()

	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "run\tseed\tformat\tMiB\tsource\tfaults\tcrash\tattempts\tresult")
	done, skipped := 0, 0
	for _, r := range results {
		if r == nil {
			skipped++
			continue
		}
		done++
		src := "stream"
		switch {
		case r.file:
			src = "file"
		case r.seekable():
			src = "readerAt"
		}
		faults := make([]string, len(r.faults))
		for i, f := range r.faults {
			faults[i] = f.String()
		}
		crash := "-"
		if r.crashAt > 0 {
			crash = fmt.Sprintf("#%d %s", r.crashAt, r.crashed)
			if r.crashed == "" {
				crash = fmt.Sprintf("#%d (not reached)", r.crashAt)
			}
		}
		result := "ok"
		if len(r.problems) > 0 {
			result = fmt.Sprintf("FAIL (%d problems)", len(r.problems))
		}
		fmt.Fprintf(tw, "%d\t%d\t%s\t%.1f\t%s\t%s\t%s\t%s\t%s %v\n", r.n, r.seed, r.fname, float64(r.size)/(1<<20), src,
			strings.Join(faults, ", "), crash, strings.Join(r.outcomes, " → "), result, r.elapsed.Round(time.Millisecond))
	}
	tw.Flush()
	t.Logf("chaos summary (%d runs in %v, %d not started within the budget):\n%s", done, time.Since(start).Round(time.Millisecond), skipped, b.String())
	for _, r := range results {
		if r == nil || len(r.problems) == 0 {
			continue
		}
		t.Run(fmt.Sprintf("run%d-seed%d", r.n, r.seed), func(t *testing.T) {
			for _, p := range r.problems {
				t.Error(p)
			}
		})
	}
	if done == 0 {
		t.Error("no chaos run started within the budget")
	}
}

// run executes the run's attempts in their own cloud and checks the end state.
func (r *chaosRun) run(dir string) {
	start := time.Now()
	defer func() { r.elapsed = time.Since(start) }()
	cloud, err := e2etest.Start()
	if err != nil {
		r.problem("start the cloud: %v", err)
		return
	}
	defer cloud.Close()
	cfg := chaosConfig(cloud, r.format)
	cfg.StateFile = filepath.Join(dir, "state.json") // a crash loses everything but this file
	img := demo.Image(int64(r.size), r.seed)
	src := func() e2e.Source { return e2e.FromReader(bytes.NewReader(img), int64(len(img))) }
	if r.seekable() {
		src = func() e2e.Source { return e2e.FromReaderAt(bytes.NewReader(img), int64(len(img))) }
	}
	if r.file {
		path := filepath.Join(dir, "image.raw")
		if err := os.WriteFile(path, img, 0o600); err != nil {
			r.problem("write the image: %v", err)
			return
		}
		src = func() e2e.Source { return e2e.FromFile(path) }
	}
	for _, f := range r.faults {
		cloud.InjectFault(f.at.svc, f.at.op, f.fault)
	}

	completed := false
	for attempt := 1; attempt <= chaosAttempts && !completed; attempt++ {
		if attempt == chaosAttempts-1 {
			cloud.ClearFaults()
		}
		ctx, cancel := context.WithCancel(context.Background())
		var mu sync.Mutex
		updates := 0
		progress := func(u e2e.Update) {
			if attempt != 1 || r.crashAt == 0 {
				return
			}
			mu.Lock()
			defer mu.Unlock()
			updates++
			if updates == r.crashAt {
				r.crashed = string(u.Stage)
				cancel()
			}
		}
		p, err := e2e.New(cfg, e2e.WithProgress(progress))
		if err != nil {
			cancel()
			r.problem("New: %v", err)
			return
		}
		type outcome struct {
			res *e2e.Result
			err error
		}
		ch := make(chan outcome, 1)
		go func() {
			res, err := p.Run(ctx, src())
			ch <- outcome{res, err}
		}()
		var res *e2e.Result
		select {
		case o := <-ch:
			res, err = o.res, o.err
		case <-time.After(chaosHang):
			// Keep the evidence: every goroutine's stack, before the cancel
			// unwinds them (a hang was seen twice under heavy machine load).
			_ = pprof.Lookup("goroutine").WriteTo(os.Stderr, 2)
			cancel()
			select {
			case o := <-ch:
				r.problem("attempt %d hung for %v and returned only when cancelled: %v", attempt, chaosHang, o.err)
			case <-time.After(10 * time.Second):
				r.problem("attempt %d hung for %v and ignored the cancellation", attempt, chaosHang)
			}
			r.outcomes = append(r.outcomes, "hung")
			return
		}
		cancel()
		if err == nil {
			completed = true
			r.outcomes = append(r.outcomes, "ok")
			cloud.ClearFaults() // faults left over must not hit the checks' own calls
			r.check(cloud, cfg, res, img)
			break
		}
		cause := chaosCause(err)
		stage := "?"
		var se *e2e.StepError
		if errors.As(err, &se) {
			stage = string(se.Stage)
		} else {
			r.problem("attempt %d: %v (%T) is not an *e2e.StepError", attempt, err, err)
		}
		if cause == "" {
			cause = "untyped"
			r.problem("attempt %d failed with an untyped error: %v", attempt, err)
		}
		r.outcomes = append(r.outcomes, stage+":"+cause)
	}
	if !completed {
		r.problem("did not complete in %d attempts: %v", chaosAttempts, r.outcomes)
	}
	// Whatever happened, nothing may be left half-done.
	if ups := cloud.MultipartUploads(cfg.COS.Bucket); len(ups) != 0 {
		r.problem("orphan multipart uploads: %+v", ups)
	}
	for _, tpl := range cloud.Templates() {
		if tpl.Status != image.StatusActive && !r.reported("ImportError") {
			r.problem("template %d is %s and no run reported an import failure", tpl.ID, tpl.Status)
		}
	}
	for _, im := range cloud.VPCImages() {
		if im.Status != "available" && !r.reported("image.VPCImportError") {
			r.problem("VPC image %s is %s and no run reported an import failure", im.ID, im.Status)
		}
	}
	for _, in := range cloud.VPCInstances() {
		if in.Status != "running" && !r.reported("provision.VPCInstanceError") {
			r.problem("VPC instance %s is %s and no run reported an instance failure", in.ID, in.Status)
		}
	}
}

// seekable says whether the run reads a stream source at random: the
// encrypted VHD and qcow2 formats need a seekable source, and a run not
// from a file gives them the image in memory.
func (r *chaosRun) seekable() bool {
	return !r.file && r.format != e2e.LUKSRaw
}

// chaosConfig is the fastest config of format f: a classic template and
// server, or for qcow2 a VPC image and a VPC instance in the first zone.
func chaosConfig(cloud *e2etest.Cloud, f e2e.Format) e2e.Config {
	cfg := testConfig(cloud)
	cfg.Image.Format = f
	switch f {
	case e2e.QCOW2LUKS:
		cfg = vpcConfig(cloud)
		cfg.COS.Object = "chaos.qcow2"
	case e2e.EncryptedVHD:
		cfg.COS.Object = "chaos.vhd"
	default:
		cfg.COS.Object = "chaos.luks"
	}
	return cfg
}

func (r *chaosRun) reported(cause string) bool {
	for _, o := range r.outcomes {
		if strings.HasSuffix(o, ":"+cause) {
			return true
		}
	}
	return false
}

// check asserts the cloud holds one clean run's result.
func (r *chaosRun) check(cloud *e2etest.Cloud, cfg e2e.Config, res *e2e.Result, img []byte) {
	if objs := cloud.Objects(cfg.COS.Bucket); len(objs) != 1 {
		r.problem("%d objects in the bucket, want 1: %+v", len(objs), objs)
	}
	if r.format == e2e.QCOW2LUKS {
		r.checkVPC(cloud, res, img)
		return
	}
	if n := len(cloud.VPCImages()) + len(cloud.VPCInstances()); n != 0 {
		r.problem("a classic run made %d VPC images and instances", n)
	}
	tpls := cloud.Templates()
	if len(tpls) != 1 {
		r.problem("%d templates in the cloud, want 1: %+v", len(tpls), tpls)
		return
	}
	tpl := tpls[0]
	if tpl.ID != res.State.TemplateID || tpl.Status != image.StatusActive {
		r.problem("template %d is %s; the state names %d", tpl.ID, tpl.Status, res.State.TemplateID)
	}
	guests := cloud.Guests()
	if len(guests) != 1 {
		r.problem("%d servers in the cloud, want 1 (duplicate orders?)", len(guests))
	} else if guests[0].TemplateGUID != tpl.GlobalIdentifier || guests[0].ID != res.State.ServerID {
		r.problem("server %d from template %s; want server %d from %s", guests[0].ID, guests[0].TemplateGUID, res.State.ServerID, tpl.GlobalIdentifier)
	}
	r.checkPlaintext(cloud, tpl.URI, res.State, img)
}

// checkVPC asserts the cloud holds one available VPC image from the run's
// object and one running instance booted from it, and no template or
// classic server.
func (r *chaosRun) checkVPC(cloud *e2etest.Cloud, res *e2e.Result, img []byte) {
	if n := len(cloud.Templates()) + len(cloud.Guests()); n != 0 {
		r.problem("a VPC run made %d classic templates and servers", n)
	}
	ims := cloud.VPCImages()
	if len(ims) != 1 {
		r.problem("%d VPC images in the cloud, want 1: %+v", len(ims), ims)
		return
	}
	im := ims[0]
	if im.ID != res.State.VPCImageID || im.Status != "available" || im.EncryptionKeyCRN != res.State.RootKeyCRN {
		r.problem("VPC image %s is %s with key %s; the state names %s and key %s", im.ID, im.Status, im.EncryptionKeyCRN,
			res.State.VPCImageID, res.State.RootKeyCRN)
	}
	ins := cloud.VPCInstances()
	if len(ins) != 1 {
		r.problem("%d VPC instances in the cloud, want 1 (duplicate creates?): %+v", len(ins), ins)
	} else if in := ins[0]; in.ID != res.State.VPCInstanceID || in.Status != "running" || in.ImageID != im.ID {
		r.problem("VPC instance %s is %s from image %s; want instance %s running from %s", in.ID, in.Status, in.ImageID,
			res.State.VPCInstanceID, im.ID)
	}
	r.checkPlaintext(cloud, im.FileHref, res.State, img)
}

// checkPlaintext asserts the object at uri (the one the template or image
// was made from) decrypts to the input.
func (r *chaosRun) checkPlaintext(cloud *e2etest.Cloud, uri string, st e2e.State, img []byte) {
	u, err := storage.ParseURI(uri)
	if err != nil {
		r.problem("image URI %q: %v", uri, err)
		return
	}
	got, err := decryptObject(cloud, u, st, r.format)
	if err != nil {
		r.problem("decrypt the %s object: %v", r.fname, err)
		return
	}
	if len(got) < len(img) || !bytes.Equal(got[:len(img)], img) || strings.Trim(string(got[len(img):]), "\x00") != "" {
		r.problem("the %s object does not decrypt to the input (%d bytes, input %d)", r.fname, len(got), len(img))
	}
}

func isA[T error](err error) bool {
	var t T
	return errors.As(err, &t)
}

// chaosCauses name the typed errors a failed run may end with, most
// specific first.
var chaosCauses = []struct {
	name string
	is   func(error) bool
}{
	{"canceled", func(err error) bool { return errors.Is(err, context.Canceled) }},
	{"ImportError", isA[*image.ImportError]},
	{"image.VPCImportError", isA[*image.VPCImportError]},
	{"provision.VPCInstanceError", isA[*provision.VPCInstanceError]},
	{"vpc.APIError", isA[*image.VPCAPIError]},
	{"keys.KeyStateError", isA[*keys.KeyStateError]},
	{"keys.ServiceError", isA[*keys.ServiceError]},
	{"keys.ErrRateLimited", func(err error) bool { return errors.Is(err, keys.ErrRateLimited) }},
	{"keys.ErrUnauthorized", func(err error) bool { return errors.Is(err, keys.ErrUnauthorized) }},
	{"keys.ErrTransport", func(err error) bool { return errors.Is(err, keys.ErrTransport) }},
	{"keys.ErrOutcomeUnknown", func(err error) bool { return errors.Is(err, keys.ErrOutcomeUnknown) }},
	{"iam.ServiceError", isA[*iam.ServiceError]},
	{"iam.ErrRateLimited", func(err error) bool { return errors.Is(err, iam.ErrRateLimited) }},
	{"iam.ErrInvalidAPIKey", func(err error) bool { return errors.Is(err, iam.ErrInvalidAPIKey) }},
	{"storage.UploadError", isA[*storage.UploadError]},
	{"storage.RequestError", isA[*storage.RequestError]},
	{"storage.ErrSizeMismatch", func(err error) bool { return errors.Is(err, storage.ErrSizeMismatch) }},
	{"storage.ErrObjectChanged", func(err error) bool { return errors.Is(err, storage.ErrObjectChanged) }},
	{"provision.ErrOutcomeUnknown", func(err error) bool { return errors.Is(err, provision.ErrOutcomeUnknown) }},
	{"provision.ErrHostnameTaken", func(err error) bool { return errors.Is(err, provision.ErrHostnameTaken) }},
	{"softlayer.APIError", isA[*image.APIError]},
	{"softlayer.ErrTransport", func(err error) bool { return errors.Is(err, image.ErrTransport) }},
	{"audit.QueryError", isA[*audit.QueryError]},
	{"audit", func(err error) bool {
		for _, s := range []error{audit.ErrStreamCut, audit.ErrIdle, audit.ErrQueryFailed, audit.ErrMalformedStream, audit.ErrTruncated} {
			if errors.Is(err, s) {
				return true
			}
		}
		return false
	}},
	{"luks", func(err error) bool {
		return errors.Is(err, luks.ErrCorrupt) || errors.Is(err, luks.ErrNotLUKS) || errors.Is(err, luks.ErrWrongPassphrase)
	}},
	{"disk", func(err error) bool { return errors.Is(err, disk.ErrCorrupt) }},
}

// chaosCause names the typed error inside err, or "" when there is none.
func chaosCause(err error) string {
	for _, c := range chaosCauses {
		if c.is(err) {
			return c.name
		}
	}
	return ""
}
