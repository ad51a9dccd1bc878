package audit

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Tier is the Cloud Logs storage tier a query searches.
type Tier string

// The tiers. The zero Tier means TierFrequentSearch.
const (
	// TierFrequentSearch is the fast, recent tier (Priority insights).
	TierFrequentSearch Tier = "frequent_search"
	// TierArchive is the long-term tier in the instance's COS bucket;
	// large archive searches suit Client.Background.
	TierArchive Tier = "archive"
)

// Application is the Cloud Logs application name of every Activity Tracker
// event; every query is restricted to it.
const Application = "ibm-audit-event"

// Query selects audit events. Start and End are required; every other
// field narrows the selection when set, and the fields combine with AND.
type Query struct {
	// Start (inclusive) and End (exclusive) bound the event time.
	Start, End time.Time
	// Actions match the event action exactly, or as a prefix when the value
	// ends in "." or "*" ("kms.secrets." and "kms.secrets.*" both match
	// "kms.secrets.wrap"). Any one of them may match.
	Actions []string
	// TargetIDs and TargetNames select the events whose target is any of
	// them. A CRN matches the target ID exactly; another value (a key ID, a
	// template ID) also matches a target CRN that ends in ":"+value. A name
	// matches exactly, or as a prefix when it ends in "." or "*" ("web1."
	// matches "web1.example.com").
	TargetIDs, TargetNames []string
	// Initiators match the initiator's IAM ID or name.
	Initiators []string
	// Outcome matches the outcome exactly ("success", "failure").
	Outcome string
	// Limit caps how many events are returned; when more matched, the
	// results end with a *TruncatedError. Zero means no cap.
	Limit int
	// Tier is the storage tier to search. The default is TierFrequentSearch.
	Tier Tier
}

// validate checks what every rendering needs.
func (q *Query) validate() error {
	if q.Start.IsZero() || q.End.IsZero() {
		return fmt.Errorf("%w: Start and End are required", ErrInvalidQuery)
	}
	if !q.End.After(q.Start) {
		return fmt.Errorf("%w: End (%s) is not after Start (%s)", ErrInvalidQuery,
			q.End.Format(time.RFC3339Nano), q.Start.Format(time.RFC3339Nano))
	}
	if q.Limit < 0 {
		return fmt.Errorf("%w: negative Limit %d", ErrInvalidQuery, q.Limit)
	}
	switch q.Tier {
	case "", TierFrequentSearch, TierArchive:
	default:
		return fmt.Errorf("%w: unknown tier %q", ErrInvalidQuery, q.Tier)
	}
	for _, a := range append(q.Actions[:len(q.Actions):len(q.Actions)], q.TargetNames...) {
		if a == "*" {
			return fmt.Errorf("%w: %q would match everything; leave the list empty instead", ErrInvalidQuery, a)
		}
	}
	check := func(field string, vs ...string) error {
		for _, v := range vs {
			if err := checkValue(field, v); err != nil {
				return err
			}
		}
		return nil
	}
	for _, err := range []error{check("Actions", q.Actions...), check("TargetIDs", q.TargetIDs...),
		check("TargetNames", q.TargetNames...), check("Initiators", q.Initiators...)} {
		if err != nil {
			return err
		}
	}
	if q.Outcome != "" {
		return check("Outcome", q.Outcome)
	}
	return nil
}

// checkValue refuses values that cannot be carried faithfully: empty ones,
// invalid UTF-8, and control characters other than tab and newlines.
func checkValue(field, v string) error {
	if v == "" {
		return fmt.Errorf("%w: an empty value in %s", ErrInvalidQuery, field)
	}
	if !utf8.ValidString(v) {
		return fmt.Errorf("%w: a value in %s is not valid UTF-8", ErrInvalidQuery, field)
	}
	for _, r := range v {
		if (r < 0x20 && r != '\t' && r != '\n' && r != '\r') || r == 0x7f {
			return fmt.Errorf("%w: a value in %s holds control character %U", ErrInvalidQuery, field, r)
		}
	}
	return nil
}

// actionPrefix reports whether an Actions or TargetNames value is a
// prefix, and the prefix.
func actionPrefix(a string) (string, bool) {
	if p, ok := strings.CutSuffix(a, "*"); ok {
		return p, true
	}
	return a, strings.HasSuffix(a, ".")
}

// DataPrime renders the filter as a DataPrime query ("source logs | filter
// … [| limit N]"). The time range and tier are not part of the text: they
// travel in the query's metadata. Every value is a quoted, escaped string
// literal, so no value can change the query's structure.
func (q Query) DataPrime() (string, error) {
	if err := q.validate(); err != nil {
		return "", err
	}
	conds := []string{"$l.applicationname == " + dpQuote(Application)}
	oneOf := func(vals []string, one func(string) string) {
		if len(vals) == 0 {
			return
		}
		parts := make([]string, len(vals))
		for i, v := range vals {
			parts[i] = one(v)
		}
		conds = append(conds, "("+strings.Join(parts, " || ")+")")
	}
	oneOf(q.Actions, func(a string) string {
		if p, ok := actionPrefix(a); ok {
			return "$d.action.startsWith(" + dpQuote(p) + ")"
		}
		return "$d.action == " + dpQuote(a)
	})
	var targets []string
	for _, id := range q.TargetIDs {
		targets = append(targets, "$d.target.id == "+dpQuote(id))
		if !strings.HasPrefix(id, "crn:") {
			targets = append(targets, "$d.target.id.endsWith("+dpQuote(":"+id)+")")
		}
	}
	for _, n := range q.TargetNames {
		if p, ok := actionPrefix(n); ok {
			targets = append(targets, "$d.target.name.startsWith("+dpQuote(p)+")")
		} else {
			targets = append(targets, "$d.target.name == "+dpQuote(n))
		}
	}
	if len(targets) > 0 {
		conds = append(conds, "("+strings.Join(targets, " || ")+")")
	}
	oneOf(q.Initiators, func(v string) string {
		return "$d.initiator.id == " + dpQuote(v) + " || $d.initiator.name == " + dpQuote(v)
	})
	if q.Outcome != "" {
		conds = append(conds, "$d.outcome == "+dpQuote(q.Outcome))
	}
	s := "source logs | filter " + strings.Join(conds, " && ")
	if q.Limit > 0 {
		s += " | limit " + strconv.Itoa(q.Limit)
	}
	return s, nil
}

// dpQuote renders a DataPrime single-quoted string literal.
func dpQuote(v string) string {
	var b strings.Builder
	b.WriteByte('\'')
	for _, r := range v {
		switch r {
		case '\\', '\'', '"':
			b.WriteByte('\\')
			b.WriteRune(r)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('\'')
	return b.String()
}

// Lucene renders the filter as a Lucene query. Exact values are quoted
// phrases; prefixes and suffixes are words whose every special character
// is escaped, so only the one wildcard the renderer adds is a wildcard.
// Limit is not part of Lucene: it travels in the query's metadata.
func (q Query) Lucene() (string, error) {
	if err := q.validate(); err != nil {
		return "", err
	}
	conds := []string{`coralogix.metadata.applicationName:` + lcQuote(Application)}
	group := func(parts []string) {
		if len(parts) > 0 {
			conds = append(conds, "("+strings.Join(parts, " OR ")+")")
		}
	}
	var parts []string
	for _, a := range q.Actions {
		if p, ok := actionPrefix(a); ok {
			parts = append(parts, "action:"+lcEscape(p)+"*")
		} else {
			parts = append(parts, "action:"+lcQuote(a))
		}
	}
	group(parts)
	parts = nil
	for _, id := range q.TargetIDs {
		parts = append(parts, "target.id:"+lcQuote(id))
		if !strings.HasPrefix(id, "crn:") {
			parts = append(parts, "target.id:*"+lcEscape(":"+id))
		}
	}
	for _, n := range q.TargetNames {
		if p, ok := actionPrefix(n); ok {
			parts = append(parts, "target.name:"+lcEscape(p)+"*")
		} else {
			parts = append(parts, "target.name:"+lcQuote(n))
		}
	}
	group(parts)
	parts = nil
	for _, v := range q.Initiators {
		parts = append(parts, "initiator.id:"+lcQuote(v), "initiator.name:"+lcQuote(v))
	}
	group(parts)
	if q.Outcome != "" {
		conds = append(conds, "outcome:"+lcQuote(q.Outcome))
	}
	return strings.Join(conds, " AND "), nil
}

// lcQuote renders a Lucene quoted phrase.
func lcQuote(v string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(v) + `"`
}

// lcEscape escapes a Lucene word: every special character and every space
// gets a backslash.
func lcEscape(v string) string {
	var b strings.Builder
	for _, r := range v {
		if strings.ContainsRune(`+-&|!(){}[]^"~*?:\/ `+"\t\r\n", r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}
