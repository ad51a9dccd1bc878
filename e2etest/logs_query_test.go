package e2etest

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

func testDoc(t *testing.T) *logDoc {
	t.Helper()
	ev := Event{ID: "e1", EventTime: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Action: "kms.secrets.wrap",
		Outcome: "success", Severity: "normal", Message: "it's \"quoted\" \\ here",
		Target: EventTarget{ID: "crn:v1:bluemix:public:kms:us-south:a/acc:inst:key:k1", Name: "root key", TypeURI: "kms/secrets"},
		Reason: EventReason{ReasonCode: 200, ReasonType: "OK"}, Service: ServiceKMS}
	ev.Initiator.ID = "IBMid-1"
	return eventDoc(&ev)
}

func TestDataPrimeMatches(t *testing.T) {
	d := testDoc(t)
	tests := []struct {
		q    string
		want bool
	}{
		{"source logs", true},
		{"source logs | filter $d.action == 'kms.secrets.wrap'", true},
		{"source logs | filter $d.action == 'kms.secrets.unwrap'", false},
		{"source logs | filter $d.action != 'kms.secrets.unwrap'", true},
		{"source logs | filter $d.action.startsWith('kms.secrets.')", true},
		{"source logs | filter $d.action.startsWith('kms.secrets.w') && $d.outcome == 'failure'", false},
		{"source logs | filter $d.action.startsWith('iam') || $d.outcome == 'success'", true},
		{"source logs | filter !($d.outcome == 'success')", false},
		{"source logs | filter ($d.action == 'x' || $d.action == 'kms.secrets.wrap') && $l.applicationname == 'ibm-audit-event'", true},
		{"source logs | filter $l.subsystemname == 'kms'", true},
		{"source logs | filter $d.target.id.endsWith(':k1')", true},
		{"source logs | filter $d.target.id.endsWith(':k')", false},
		{"source logs | filter $d.target.name.contains('oot')", true},
		{"source logs | filter $d.reason.reasonCode == 200", true},
		{"source logs | filter $d.message == 'it\\'s \"quoted\" \\\\ here'", true},
		{"source logs | filter $d.message == 'it\\'s \\\"quoted\\\" \\\\ here'", true},
		{"source logs | filter $d.nosuch == 'x'", false},
		{"source logs | filter $d.target == 'x'", false}, // an object has no text
		{"source logs | filter $m.severity == 'Info' | limit 3", true},
		{"source logs | filter $d.action == 'kms.secrets.wrap' | filter $d.outcome == 'failure'", false},
	}
	for _, tt := range tests {
		q, err := compileQuery("dataprime", tt.q)
		if err != nil {
			t.Errorf("%s: %v", tt.q, err)
			continue
		}
		if got := q.match(d); got != tt.want {
			t.Errorf("%s: match = %v, want %v", tt.q, got, tt.want)
		}
	}
}

func TestDataPrimeLimit(t *testing.T) {
	q, err := compileQuery("dataprime", "source logs | limit 7 | limit 9")
	if err != nil {
		t.Fatal(err)
	}
	if q.limit != 7 {
		t.Errorf("limit = %d, want the smaller 7", q.limit)
	}
}

func TestDataPrimeErrors(t *testing.T) {
	for _, q := range []string{
		"",
		"logs",
		"source spans",
		"source logs filter $d.a == 'x'",
		"source logs | sort $d.a",
		"source logs | filter",
		"source logs | filter $d.a == 'x",
		"source logs | filter $d.a == 'x\\q'",
		"source logs | filter $d.a = 'x'",
		"source logs | filter $x.a == 'x'",
		"source logs | filter $d == 'x'",
		"source logs | filter $d.a.startsWith($d.b)",
		"source logs | filter ($d.a == 'x'",
		"source logs | filter $d.a == 'x' && ",
		"source logs | filter $d.a == 'x' 'y'",
		"source logs | limit 0",
		"source logs | limit x",
		"source logs | filter $l.a.b == 'x'",
		"source logs | filter $d.a == 'x' # comment",
		"source logs | filter $d.a == \xff",
	} {
		_, err := compileQuery("dataprime", q)
		var qe *queryError
		if !errors.As(err, &qe) {
			t.Errorf("%q: err = %v, want a *queryError", q, err)
		}
	}
}

func TestLuceneMatches(t *testing.T) {
	d := testDoc(t)
	tests := []struct {
		q    string
		want bool
	}{
		{"", true},
		{`action:"kms.secrets.wrap"`, true},
		{`action:kms.secrets.wrap`, true},
		{`action:kms.secrets.*`, true},
		{`action:kms.secrets.un*`, false},
		{`action:kms.?ecrets.wrap`, true},
		{`action:kms.secrets.\*`, false}, // an escaped star is a star
		{`target.id:*\:k1`, true},
		{`target.id:*\:k`, false},
		{`target.name:"root key"`, true},
		{`target.name:root\ key`, true},
		{`target.name:"root"`, false},
		{`coralogix.metadata.applicationName:"ibm-audit-event" AND coralogix.metadata.subsystemName:kms`, true},
		{`action:x OR outcome:success`, true},
		{`action:x OR (outcome:success AND NOT severity:normal)`, false},
		{`NOT action:x`, true},
		{`message:"it's \"quoted\" \\ here"`, true},
		{`reason.reasonCode:200`, true},
	}
	for _, tt := range tests {
		q, err := compileQuery("lucene", tt.q)
		if err != nil {
			t.Errorf("%s: %v", tt.q, err)
			continue
		}
		if got := q.match(d); got != tt.want {
			t.Errorf("%s: match = %v, want %v", tt.q, got, tt.want)
		}
	}
}

func TestLuceneErrors(t *testing.T) {
	for _, q := range []string{
		`kms`,
		`action:`,
		`action:a action:b`,
		`action:"unterminated`,
		`action:a\`,
		`action:a~2`,
		`action:[a TO b]`,
		`(action:a`,
		`action:a AND`,
		`action:a)`,
		`+action:a`,
		`action:a^2`,
	} {
		_, err := compileQuery("lucene", q)
		var qe *queryError
		if !errors.As(err, &qe) {
			t.Errorf("%q: err = %v, want a *queryError", q, err)
		}
	}
}

func TestGlobMatch(t *testing.T) {
	pat := func(s string) []globElem {
		var p []globElem
		for _, r := range s {
			if r == '*' || r == '?' {
				p = append(p, globElem{kind: byte(r)})
			} else {
				p = append(p, globElem{r: r})
			}
		}
		return p
	}
	for _, tt := range []struct {
		pat, s string
		want   bool
	}{
		{"", "", true}, {"*", "", true}, {"*", "abc", true}, {"a*c", "abbbc", true}, {"a*c", "abcd", false},
		{"*:k1", "crn:x:k1", true}, {"?", "é", true}, {"a**b", "ab", true}, {"*a*a*a*b", strings.Repeat("a", 40), false},
	} {
		if got := globMatch(pat(tt.pat), tt.s); got != tt.want {
			t.Errorf("globMatch(%q, %q) = %v, want %v", tt.pat, tt.s, got, tt.want)
		}
	}
}

// FuzzCompileQuery: the parsers never panic, and what compiles evaluates.
func FuzzCompileQuery(f *testing.F) {
	for _, s := range []string{
		"source logs | filter $l.applicationname == 'ibm-audit-event' && ($d.action.startsWith('kms.secrets.') || $d.action == 'x') | limit 5",
		`coralogix.metadata.applicationName:"ibm-audit-event" AND (action:kms.secrets.* OR target.id:*\:k1) AND NOT outcome:"failure"`,
		"source logs | filter $d.message == 'a\\'b\\\\c\\n'",
	} {
		f.Add(s)
	}
	raw, _ := json.Marshal(map[string]any{"action": "kms.secrets.wrap"})
	doc := &logDoc{labels: map[string]string{"applicationname": AuditApplication}, meta: map[string]string{}, raw: string(raw),
		data: map[string]any{"action": "kms.secrets.wrap", "target": map[string]any{"id": "crn:a:k1"}}}
	f.Fuzz(func(t *testing.T, s string) {
		for _, syntax := range []string{"dataprime", "lucene"} {
			q, err := compileQuery(syntax, s)
			if err != nil {
				var qe *queryError
				if !errors.As(err, &qe) {
					t.Fatalf("%s %q: error of type %T", syntax, s, err)
				}
				continue
			}
			q.match(doc)
		}
	})
}
