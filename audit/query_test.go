package audit

import (
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

var (
	t0 = time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	t1 = t0.Add(time.Hour)
)

func TestDataPrimeRendering(t *testing.T) {
	q := Query{Start: t0, End: t1, Actions: []string{"kms.secrets.wrap", "kms.secrets.", "audit-log.vsi*"},
		TargetIDs: []string{"crn:v1:bluemix:public:kms:us-south:a/1:i:key:k", "1234"}, TargetNames: []string{"web", "web."},
		Initiators: []string{"IBMid-1"}, Outcome: "success", Limit: 10}
	got, err := q.DataPrime()
	if err != nil {
		t.Fatal(err)
	}
	want := "source logs | filter $l.applicationname == 'ibm-audit-event'" +
		" && ($d.action == 'kms.secrets.wrap' || $d.action.startsWith('kms.secrets.') || $d.action.startsWith('audit-log.vsi'))" +
		" && ($d.target.id == 'crn:v1:bluemix:public:kms:us-south:a/1:i:key:k' || $d.target.id == '1234' || $d.target.id.endsWith(':1234') || $d.target.name == 'web' || $d.target.name.startsWith('web.'))" +
		" && ($d.initiator.id == 'IBMid-1' || $d.initiator.name == 'IBMid-1')" +
		" && $d.outcome == 'success' | limit 10"
	if got != want {
		t.Errorf("DataPrime:\n got %s\nwant %s", got, want)
	}
}

func TestLuceneRendering(t *testing.T) {
	q := Query{Start: t0, End: t1, Actions: []string{"kms.secrets.wrap", "kms.secrets."},
		TargetIDs: []string{"12 34"}, TargetNames: []string{"a b*"}, Outcome: "fail\"ure"}
	got, err := q.Lucene()
	if err != nil {
		t.Fatal(err)
	}
	want := `coralogix.metadata.applicationName:"ibm-audit-event" AND (action:"kms.secrets.wrap" OR action:kms.secrets.*)` +
		` AND (target.id:"12 34" OR target.id:*\:12\ 34 OR target.name:a\ b*) AND outcome:"fail\"ure"`
	if got != want {
		t.Errorf("Lucene:\n got %s\nwant %s", got, want)
	}
}

func TestQueryValidation(t *testing.T) {
	for name, q := range map[string]Query{
		"no start":        {End: t1},
		"no end":          {Start: t0},
		"end before":      {Start: t1, End: t0},
		"empty range":     {Start: t0, End: t0},
		"negative limit":  {Start: t0, End: t1, Limit: -1},
		"bad tier":        {Start: t0, End: t1, Tier: "hot"},
		"empty action":    {Start: t0, End: t1, Actions: []string{""}},
		"star action":     {Start: t0, End: t1, Actions: []string{"*"}},
		"star name":       {Start: t0, End: t1, TargetNames: []string{"*"}},
		"control char":    {Start: t0, End: t1, TargetNames: []string{"a\x00b"}},
		"invalid utf8":    {Start: t0, End: t1, Initiators: []string{"\xff"}},
		"bad outcome":     {Start: t0, End: t1, Outcome: "\x1b"},
		"empty target id": {Start: t0, End: t1, TargetIDs: []string{""}},
	} {
		if _, err := q.DataPrime(); !errors.Is(err, ErrInvalidQuery) {
			t.Errorf("%s: DataPrime error %v, want ErrInvalidQuery", name, err)
		}
		if _, err := q.Lucene(); !errors.Is(err, ErrInvalidQuery) {
			t.Errorf("%s: Lucene error %v, want ErrInvalidQuery", name, err)
		}
	}
}

// decodeDP decodes the DataPrime string literal at the start of s (the
// language's rules, written independently of the renderer) and returns the
// value and the rest of s.
func decodeDP(t *testing.T, s string) (string, string) {
	t.Helper()
	if !strings.HasPrefix(s, "'") {
		t.Fatalf("no literal at %q", s)
	}
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\'':
			return b.String(), s[i+1:]
		case '\\':
			i++
			switch s[i] {
			case 'n':
				b.WriteByte('\n')
			case 'r':
				b.WriteByte('\r')
			case 't':
				b.WriteByte('\t')
			case '\\', '\'', '"':
				b.WriteByte(s[i])
			default:
				t.Fatalf("unknown escape in %q", s)
			}
		default:
			b.WriteByte(s[i])
		}
	}
	t.Fatalf("unterminated literal %q", s)
	return "", ""
}

// decodeLucene decodes a Lucene quoted phrase or escaped word at the start
// of s; wildcards report as '\x00'.
func decodeLucene(t *testing.T, s string) (string, string) {
	t.Helper()
	var b strings.Builder
	if strings.HasPrefix(s, `"`) {
		for i := 1; i < len(s); i++ {
			switch s[i] {
			case '"':
				return b.String(), s[i+1:]
			case '\\':
				i++
			}
			b.WriteByte(s[i])
		}
		t.Fatalf("unterminated phrase %q", s)
	}
	i := 0
	for ; i < len(s); i++ {
		c := s[i]
		if c == ' ' || c == ')' || c == '(' || c == '\t' || c == '\n' || c == '\r' {
			break
		}
		switch {
		case c == '\\':
			i++
			b.WriteByte(s[i])
		case c == '*' || c == '?':
			b.WriteByte(0)
		case strings.IndexByte(`+-&|!{}[]^"~:/`, c) >= 0:
			t.Fatalf("unescaped %q in word %q", c, s)
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), s[i:]
}

// FuzzRenderEscaping: whatever the value, the rendered query is the
// expected structure around one literal that decodes back to the value:
// no value escapes its quotes.
func FuzzRenderEscaping(f *testing.F) {
	for _, s := range []string{"kms.secrets.wrap", "a'b", `a\'b`, `x' || $d.action == 'y`, `") OR action:*`,
		`\`, `'`, `"`, "new\nline", "tab\there", `a\`, "kms.secrets.", "é ü", `) || true || (`, " AND NOT "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		q := Query{Start: t0, End: t1, Outcome: v}
		dp, err := q.DataPrime()
		if v == "" { // no outcome: no outcome filter at all
			if want := "source logs | filter $l.applicationname == 'ibm-audit-event'"; err != nil || dp != want {
				t.Fatalf("empty outcome: DataPrime = %q, %v; want %q", dp, err, want)
			}
			return
		}
		if err != nil {
			if !errors.Is(err, ErrInvalidQuery) {
				t.Fatalf("error %v is not ErrInvalidQuery", err)
			}
			if checkValue("v", v) == nil {
				t.Fatalf("a valid value was refused: %v", err)
			}
			return
		}
		if !utf8.ValidString(v) {
			t.Fatalf("invalid UTF-8 %q was accepted", v)
		}
		prefix := "source logs | filter $l.applicationname == 'ibm-audit-event' && $d.outcome == "
		rest, ok := strings.CutPrefix(dp, prefix)
		if !ok {
			t.Fatalf("DataPrime %q lost its structure", dp)
		}
		got, tail := decodeDP(t, rest)
		if got != v || tail != "" {
			t.Fatalf("DataPrime %q: literal decodes to %q then %q; want %q then \")\"", dp, got, tail, v)
		}

		lc, err := q.Lucene()
		if err != nil {
			t.Fatal(err)
		}
		rest, ok = strings.CutPrefix(lc, `coralogix.metadata.applicationName:"ibm-audit-event" AND outcome:`)
		if !ok {
			t.Fatalf("Lucene %q lost its structure", lc)
		}
		got, tail = decodeLucene(t, rest)
		if got != v || tail != "" {
			t.Fatalf("Lucene %q: phrase decodes to %q then %q; want %q then \")\"", lc, got, tail, v)
		}

		// As a prefix, the value is an escaped word with one wildcard.
		q = Query{Start: t0, End: t1, Actions: []string{v + "*"}}
		lc, err = q.Lucene()
		if err != nil {
			t.Fatal(err)
		}
		rest, _ = strings.CutPrefix(lc, `coralogix.metadata.applicationName:"ibm-audit-event" AND (action:`)
		got, tail = decodeLucene(t, rest)
		if got != v+"\x00" || tail != ")" {
			t.Fatalf("Lucene %q: word decodes to %q then %q; want %q then \")\"", lc, got, tail, v+"*")
		}
		dp, _ = q.DataPrime()
		rest, _ = strings.CutPrefix(dp, "source logs | filter $l.applicationname == 'ibm-audit-event' && ($d.action.startsWith(")
		got, tail = decodeDP(t, rest)
		if got != v || tail != "))" {
			t.Fatalf("DataPrime %q: literal decodes to %q then %q", dp, got, tail)
		}
	})
}
