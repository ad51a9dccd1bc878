package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"time"

	"github.com/e2eimage/e2e"
	"github.com/e2eimage/e2e/e2etest"
	"github.com/e2eimage/e2e/internal/demo"
)

func init() {
	register(command{
		name:    "run",
		usage:   "--in FILE|cos://REGION/BUCKET/OBJECT [--config FILE] [--state FILE] [--full-verify] [--no-order] [--dry-run]",
		summary: "run the whole workflow: key, authorization, encrypt+upload, import, order, audit",
		run:     runPipeline,
	})
	register(command{
		name:    "cleanup",
		usage:   "[--config FILE] [--state FILE] [--keep-object]",
		summary: "delete the server, template and object a run created (named in its state)",
		run:     runCleanup,
	})
	register(command{
		name:    "demo",
		usage:   "[--size MiB] [--format luks|vhd|qcow2]",
		summary: "run the whole workflow against an embedded emulated IBM Cloud",
		run:     runDemo,
	})
}

func runPipeline(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet("run")
	configPath := fs.String("config", "", "JSON config `file` (environment variables override it; see package e2e's Config)")
	in := fs.String("in", "", "source image: a raw, VHD or qcow2 `file`, or a cos:// object")
	state := fs.String("state", "", "state `file` (default: the config's stateFile, e2e-state.json)")
	full := fs.Bool("full-verify", false, "decrypt the whole uploaded object to verify it (default: header and key slot)")
	noOrder := fs.Bool("no-order", false, "stop after the import: order no server")
	dryRun := fs.Bool("dry-run", false, "check the config, the cloud and the state, print what would happen, change nothing")
	if _, err := parseFlags(e, fs, commands["run"].usage, args); err != nil {
		return err
	}
	if *in == "" {
		return usagef("--in is required")
	}
	cfg, err := e2e.LoadConfig(*configPath)
	if err != nil {
		return err
	}
	if *state != "" {
		cfg.StateFile = *state
	}
	if *full {
		cfg.FullVerify = true
	}
	if *noOrder {
		cfg.Server = nil
	}
	if *dryRun {
		p, err := e2e.New(cfg)
		if err != nil {
			return err
		}
		plan, err := p.Plan(ctx, e2e.ParseSource(*in))
		if err != nil {
			return err
		}
		fmt.Fprint(e.stdout, plan)
		return plan.Err()
	}
	return pipelineRun(ctx, e, cfg, nil, e2e.ParseSource(*in))
}

func runCleanup(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet("cleanup")
	configPath := fs.String("config", "", "JSON config `file` (environment variables override it)")
	state := fs.String("state", "", "state `file` of the run (default: the config's stateFile)")
	keepObject := fs.Bool("keep-object", false, "keep the encrypted object in COS")
	if _, err := parseFlags(e, fs, commands["cleanup"].usage, args); err != nil {
		return err
	}
	cfg, err := e2e.LoadConfig(*configPath)
	if err != nil {
		return err
	}
	if *state != "" {
		cfg.StateFile = *state
	}
	p, err := e2e.New(cfg)
	if err != nil {
		return err
	}
	what := e2e.CleanupAll
	what.Object = !*keepObject
	if err := p.Cleanup(ctx, what); err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, "cleaned up: server, template"+map[bool]string{true: "", false: ", object"}[*keepObject])
	return nil
}

func runDemo(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet("demo")
	size := fs.Int("size", 32, "size of the generated demo image in `MiB`")
	format := fs.String("format", string(e2e.LUKSRaw), "encrypted image format: luks, vhd (classic) or qcow2 (VPC image and instance)")
	if _, err := parseFlags(e, fs, commands["demo"].usage, args); err != nil {
		return err
	}
	if *size < 2 || *size > 4096 {
		return usagef("--size must be between 2 and 4096 MiB")
	}
	switch f := e2e.Format(*format); f {
	case e2e.LUKSRaw, e2e.EncryptedVHD, e2e.QCOW2LUKS:
	default:
		return usagef("--format must be luks, vhd or qcow2, not %q", *format)
	}
	cloud, err := e2etest.Start()
	if err != nil {
		return err
	}
	defer cloud.Close()
	fmt.Fprintf(e.stdout, "emulated IBM Cloud started (%s)\n", cloud.Region)
	img := demo.Image(int64(*size)<<20, uint64(time.Now().UnixNano()))
	return pipelineRun(ctx, e, demo.ConfigFor(cloud, e2e.Format(*format)), &e2e.MemoryStore{}, e2e.FromReaderAt(bytes.NewReader(img), int64(len(img))))
}

// pipelineRun runs the pipeline with progress on stderr and prints a summary.
func pipelineRun(ctx context.Context, e *env, cfg e2e.Config, store e2e.StateStore, src e2e.Source) error {
	pp := &pipelineProgress{w: e.stderr}
	opts := []e2e.Option{e2e.WithProgress(pp.update)}
	if store != nil {
		opts = append(opts, e2e.WithStateStore(store))
	}
	p, err := e2e.New(cfg, opts...)
	if err != nil {
		return err
	}
	res, err := p.Run(ctx, src)
	pp.end()
	if err != nil {
		return err
	}
	printSummary(e.stdout, res)
	return nil
}

func printSummary(w io.Writer, res *e2e.Result) {
	st := res.State
	fmt.Fprintf(w, "root key   %s\n", st.RootKeyCRN)
	fmt.Fprintf(w, "object     %s (%s, sha256 %s)\n", st.ObjectURI, humanBytes(st.ObjectSize), st.ObjectSHA256)
	if st.VPCImageID != "" {
		fmt.Fprintf(w, "VPC image  %s\n", st.VPCImageID)
	} else {
		fmt.Fprintf(w, "template   %d (%s)\n", st.TemplateID, st.TemplateGUID)
	}
	if s := res.Server; s != nil && s.VPCInstanceID != "" {
		fmt.Fprintf(w, "instance   %s %s zone %s status %s private %s\n", s.VPCInstanceID, s.Hostname, s.Zone, s.PowerState, s.PrivateIP)
	} else if s != nil {
		fmt.Fprintf(w, "server     %d %s.%s power %s public %s private %s\n", s.ID, s.Hostname, s.Domain, s.PowerState, s.PublicIP, s.PrivateIP)
	}
	if len(res.Events) > 0 {
		fmt.Fprintf(w, "audit      %d events\n", len(res.Events))
		for _, ev := range res.Events {
			fmt.Fprintf(w, "  %s  %-38s %-8s %s\n", ev.Time.Format(time.RFC3339), ev.Action, ev.Outcome, ev.Target.ID)
		}
	}
}

// pipelineProgress draws one line per step and a progress bar while the
// image is encrypted and uploaded.
type pipelineProgress struct {
	w       io.Writer
	barLive bool
	last    time.Time
}

func (pp *pipelineProgress) update(u e2e.Update) {
	switch {
	case u.Stage == e2e.StageEncrypt && !u.Finished && u.Done > 0:
		if time.Since(pp.last) < progressEvery {
			return
		}
		pp.last = time.Now()
		total := u.Total
		if total == 0 {
			total = -1
		}
		fmt.Fprintf(pp.w, "\r%s", renderProgress("encrypt+upload", u.Done, total, u.Elapsed))
		pp.barLive = true
	case u.Skipped:
		pp.end()
		fmt.Fprintf(pp.w, "- %-15s already done\n", u.Stage)
	case u.Finished:
		pp.end()
		fmt.Fprintf(pp.w, "✓ %-15s %s (%s)\n", u.Stage, u.Message, u.Elapsed.Round(time.Millisecond))
	}
}

func (pp *pipelineProgress) end() {
	if pp.barLive {
		fmt.Fprintln(pp.w)
		pp.barLive = false
	}
}
