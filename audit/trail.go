package audit

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Run names the resources of one encrypted-image run, to read its trail.
// Unset fields are ignored; at least one resource and Start are required.
type Run struct {
	RootKeyCRN   string // the root key that wrapped the DEK
	TemplateID   string // the image template (a SoftLayer ID or a CRN)
	TemplateName string
	ServerID     string // the virtual server (a SoftLayer ID or a CRN)
	Hostname     string // a host name also matches its FQDNs

	// Start and End bound the run. The default End is now.
	Start, End time.Time
}

// Trail returns the audit trail of one run in time order: every event on
// its root key (wraps, unwraps, rotations), its image template (creation)
// and its server (provisioning, power actions), whatever the action.
func (c *Client) Trail(ctx context.Context, r Run) ([]Event, error) {
	q := Query{Start: r.Start, End: r.End}
	if q.End.IsZero() {
		q.End = time.Now()
	}
	for _, id := range []string{r.RootKeyCRN, r.TemplateID, r.ServerID} {
		if id != "" {
			q.TargetIDs = append(q.TargetIDs, id)
		}
	}
	if r.TemplateName != "" {
		q.TargetNames = append(q.TargetNames, r.TemplateName)
	}
	if h := r.Hostname; h != "" {
		q.TargetNames = append(q.TargetNames, h)
		if !strings.ContainsAny(h, ".*") {
			q.TargetNames = append(q.TargetNames, h+".") // events may name the FQDN
		}
	}
	if len(q.TargetIDs)+len(q.TargetNames) == 0 {
		return nil, fmt.Errorf("%w: a Run names no resource", ErrInvalidQuery)
	}
	var out []Event
	for ev, err := range c.Events(ctx, q) {
		if err != nil {
			return out, err
		}
		out = append(out, ev)
	}
	slices.SortStableFunc(out, func(a, b Event) int { return a.Time.Compare(b.Time) })
	return out, nil
}
