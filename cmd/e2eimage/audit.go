package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/e2eimage/e2e"
	"github.com/e2eimage/e2e/audit"
)

func init() {
	register(command{
		name:    "audit",
		usage:   "--since 1h [--until TIME] [--action A]... [--target ID]... [--outcome O] [--limit N] [--json] | --state FILE [--json]  (IBMCLOUD_API_KEY, E2E_LOGS_URL)",
		summary: "read Activity Tracker events from IBM Cloud Logs, or the audit trail of a pipeline run",
		run:     runAudit,
	})
}

// listFlag is a repeatable string flag; commas separate values too.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(s string) error {
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v == "" {
			return errors.New("empty value")
		}
		*l = append(*l, v)
	}
	return nil
}

func runAudit(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet("audit")
	cfgPath := configFlag(fs)
	since := fs.Duration("since", 0, "read the events of this last `duration` (e.g. 1h, 30m)")
	until := fs.String("until", "", "end of the time range, RFC 3339 (default: now)")
	var actions, targets listFlag
	fs.Var(&actions, "action", "event `action`, or prefix ending in \".\" or \"*\" (kms.secrets.); repeatable")
	fs.Var(&targets, "target", "target `ID`: a CRN, or a key or template ID; repeatable")
	outcome := fs.String("outcome", "", "only events with this outcome: success or failure")
	limit := fs.Int("limit", 0, "stop after N events (0: no limit)")
	statePath := fs.String("state", "", "print the audit trail of the run recorded in this state `file` (e2e-state.json)")
	asJSON := fs.Bool("json", false, "print one JSON object per event (JSON Lines) instead of text")
	pos, err := parseFlags(e, fs, commands["audit"].usage, args)
	if err != nil {
		return err
	}
	set := setFlags(fs)
	switch {
	case len(pos) > 0:
		return usagef("unexpected argument %q", pos[0])
	case *statePath != "" && (set["since"] || set["until"] || len(actions) > 0 || len(targets) > 0 || set["outcome"] || set["limit"]):
		return usagef("--state reads a run's whole trail; it takes no --since, --until, --action, --target, --outcome or --limit")
	case *statePath == "" && !set["since"]:
		return usagef("--since or --state is required")
	case set["since"] && *since <= 0:
		return usagef("--since must be positive, not %s", *since)
	case *limit < 0:
		return usagef("--limit must not be negative")
	case *outcome != "" && *outcome != "success" && *outcome != "failure" && *outcome != "pending":
		return usagef("--outcome must be success, failure or pending, not %q", *outcome)
	}
	end := time.Now()
	if *until != "" {
		if end, err = time.Parse(time.RFC3339, *until); err != nil {
			return usagef("--until %q is not an RFC 3339 time (2006-01-02T15:04:05Z)", *until)
		}
	}
	var run audit.Run
	if *statePath != "" {
		if run, err = runFromState(ctx, *statePath); err != nil {
			return err
		}
	}

	cfg, err := loadCloudConfig(*cfgPath)
	if err != nil {
		return err
	}
	if cfg.Endpoints.Logs == "" {
		return usagef("E2E_LOGS_URL is not set (the IBM Cloud Logs instance endpoint that receives Activity Tracker events)")
	}
	ts, err := tokenSource(cfg)
	if err != nil {
		return err
	}
	c, err := audit.NewClient(audit.Config{Endpoint: cfg.Endpoints.Logs, Authenticator: ts})
	if err != nil {
		return err
	}
	p := eventPrinter{w: e.stdout, json: *asJSON}
	if *statePath != "" {
		run.TemplateName = cfg.Image.Name
		evs, err := c.Trail(ctx, run)
		if err != nil {
			return err
		}
		for _, ev := range evs {
			if err := p.print(ev); err != nil {
				return err
			}
		}
		return nil
	}
	q := audit.Query{Start: end.Add(-*since), End: end, Actions: actions, TargetIDs: targets, Outcome: *outcome, Limit: *limit}
	for ev, err := range c.Events(ctx, q) {
		if err != nil {
			return err
		}
		if err := p.print(ev); err != nil {
			return err
		}
	}
	return nil
}

// runFromState names the resources of the run recorded in a state file,
// as e2e.Pipeline.Trail does.
func runFromState(ctx context.Context, path string) (audit.Run, error) {
	var run audit.Run
	if _, err := os.Stat(path); err != nil {
		return run, err // a missing file is not an empty run here
	}
	st, err := e2e.FileStore{Path: path}.Load(ctx)
	if err != nil {
		return run, err
	}
	if st.StartedAt.IsZero() || st.RootKeyCRN == "" && st.TemplateID == 0 && st.ServerID == 0 {
		return run, fmt.Errorf("%s records no run (no start time, root key, template or server)", path)
	}
	// A minute of slack: the first events can precede the recorded start.
	run = audit.Run{RootKeyCRN: st.RootKeyCRN, Start: st.StartedAt.Add(-time.Minute), Hostname: st.ServerHostname}
	if st.TemplateID != 0 {
		run.TemplateID = fmt.Sprint(st.TemplateID)
	}
	if st.ServerID != 0 {
		run.ServerID = fmt.Sprint(st.ServerID)
	}
	return run, nil
}

// eventJSON is the --json form of an event: stable field names, one
// object per line.
type eventJSON struct {
	Time          time.Time `json:"time"`
	Action        string    `json:"action"`
	Outcome       string    `json:"outcome"`
	Severity      string    `json:"severity,omitempty"`
	Message       string    `json:"message,omitempty"`
	CorrelationID string    `json:"correlation_id,omitempty"`
	Service       string    `json:"service,omitempty"`
	Initiator     struct {
		ID   string `json:"id,omitempty"`
		Name string `json:"name,omitempty"`
		Type string `json:"type,omitempty"`
	} `json:"initiator"`
	Target struct {
		ID   string `json:"id,omitempty"`
		CRN  string `json:"crn,omitempty"`
		Name string `json:"name,omitempty"`
		Type string `json:"type,omitempty"`
	} `json:"target"`
	Reason struct {
		Code int    `json:"code,omitempty"`
		Type string `json:"type,omitempty"`
	} `json:"reason"`
}

type eventPrinter struct {
	w    io.Writer
	json bool
}

func (p eventPrinter) print(ev audit.Event) error {
	if p.json {
		j := eventJSON{Time: ev.Time.UTC(), Action: ev.Action, Outcome: ev.Outcome, Severity: ev.Severity,
			Message: ev.Message, CorrelationID: ev.CorrelationID, Service: ev.Subsystem}
		j.Initiator.ID, j.Initiator.Name, j.Initiator.Type = ev.Initiator.ID, ev.Initiator.Name, ev.Initiator.Type
		j.Target.ID, j.Target.CRN, j.Target.Name, j.Target.Type = ev.Target.ID, ev.Target.CRN, ev.Target.Name, ev.Target.Type
		j.Reason.Code, j.Reason.Type = ev.Reason.Code, ev.Reason.Type
		b, err := json.Marshal(j)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(p.w, "%s\n", b)
		return err
	}
	target := ev.Target.ID
	if ev.Target.Name != "" && ev.Target.Name != target {
		target += " (" + ev.Target.Name + ")"
	}
	who := ev.Initiator.Name
	if who == "" {
		who = ev.Initiator.ID
	}
	_, err := fmt.Fprintf(p.w, "%s  %-34s %-8s %s  by %s\n", ev.Time.UTC().Format(time.RFC3339), ev.Action, ev.Outcome, target, who)
	return err
}

var _ flag.Value = (*listFlag)(nil)
