package e2etest

// The query languages of the emulated Cloud Logs: a documented subset of
// DataPrime and of Lucene, tokenized and parsed into a small condition tree.
//
// DataPrime subset:
//
//	source logs [| filter COND]... [| limit N]
//	COND   := AND ('||' AND)*          AND := UNARY ('&&' UNARY)*
//	UNARY  := '!' UNARY | '(' COND ')' | FIELD ('==' | '!=') LITERAL
//	        | FIELD '.' ('startsWith' | 'endsWith' | 'contains') '(' STRING ')'
//	FIELD  := ('$d' | '$l' | '$m') ('.' IDENT)+   user data, labels, metadata
//	LITERAL:= STRING | NUMBER | true | false
//	STRING := '…' with escapes \\ \' \" \n \r \t
//
// Lucene subset:
//
//	COND := AND ('OR' AND)*    AND := UNARY ('AND' UNARY)*    UNARY := 'NOT' UNARY | '(' COND ')' | TERM
//	TERM := FIELD ':' ( '"' phrase '"' | word )
//
// A quoted phrase matches the whole field value exactly; a word may hold the
// wildcards * and ?, and a backslash escapes any character. Field names are
// user-data paths (target.id), except coralogix.metadata.applicationName and
// coralogix.metadata.subsystemName, which name the labels. Operators must be
// written: two terms side by side are an error, not an implicit OR.
//
// Anything else is refused with a *queryError, which the handlers turn into a
// 400, as Cloud Logs refuses a query that does not compile.

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// logDoc is one stored log record as queries see it.
type logDoc struct {
	labels map[string]string // applicationname, subsystemname
	meta   map[string]string // severity, timestamp, logid, …
	data   map[string]any    // the user data (the CADF event), numbers as json.Number
	raw    string            // the user data as JSON text
}

// fieldRef names a value of a logDoc: scope 'd' (user data), 'l' (labels)
// or 'm' (metadata), and a path.
type fieldRef struct {
	scope byte
	path  []string
}

func (f fieldRef) String() string {
	return "$" + string(f.scope) + "." + strings.Join(f.path, ".")
}

// lookup returns the field's value as text; objects, arrays, null and
// missing fields have none.
func (f fieldRef) lookup(d *logDoc) (string, bool) {
	switch f.scope {
	case 'l', 'm':
		m := d.labels
		if f.scope == 'm' {
			m = d.meta
		}
		if len(f.path) != 1 {
			return "", false
		}
		v, ok := m[strings.ToLower(f.path[0])]
		return v, ok
	}
	var cur any = d.data
	for _, p := range f.path {
		obj, ok := cur.(map[string]any)
		if !ok {
			return "", false
		}
		if cur, ok = obj[p]; !ok {
			return "", false
		}
	}
	switch v := cur.(type) {
	case string:
		return v, true
	case json.Number:
		return v.String(), true
	case bool:
		return strconv.FormatBool(v), true
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64), true
	}
	return "", false
}

// cond is a compiled filter condition.
type cond interface{ match(d *logDoc) bool }

type andCond struct{ l, r cond }
type orCond struct{ l, r cond }
type notCond struct{ c cond }

func (c andCond) match(d *logDoc) bool { return c.l.match(d) && c.r.match(d) }
func (c orCond) match(d *logDoc) bool  { return c.l.match(d) || c.r.match(d) }
func (c notCond) match(d *logDoc) bool { return !c.c.match(d) }

// cmpCond compares a field with a literal.
type cmpCond struct {
	field fieldRef
	op    string // "==", "!=", "startsWith", "endsWith", "contains"
	value string
}

func (c cmpCond) match(d *logDoc) bool {
	v, ok := c.field.lookup(d)
	switch c.op {
	case "==":
		return ok && v == c.value
	case "!=":
		return !ok || v != c.value
	case "startsWith":
		return ok && strings.HasPrefix(v, c.value)
	case "endsWith":
		return ok && strings.HasSuffix(v, c.value)
	case "contains":
		return ok && strings.Contains(v, c.value)
	}
	return false
}

// globCond matches a field against a Lucene wildcard pattern.
type globCond struct {
	field fieldRef
	pat   []globElem
}

// globElem is one pattern element: a literal rune, or a wildcard.
type globElem struct {
	r    rune
	kind byte // 0 literal, '*' any run, '?' any one rune
}

func (c globCond) match(d *logDoc) bool {
	v, ok := c.field.lookup(d)
	return ok && globMatch(c.pat, v)
}

// globMatch reports whether s matches pat, backtracking on the last star
// only (linear in practice, never exponential).
func globMatch(pat []globElem, s string) bool {
	rs := []rune(s)
	p, i := 0, 0
	starP, starI := -1, 0
	for i < len(rs) {
		switch {
		case p < len(pat) && pat[p].kind == '*':
			starP, starI = p, i
			p++
		case p < len(pat) && (pat[p].kind == '?' || (pat[p].kind == 0 && pat[p].r == rs[i])):
			p++
			i++
		case starP >= 0:
			starI++
			p, i = starP+1, starI
		default:
			return false
		}
	}
	for p < len(pat) && pat[p].kind == '*' {
		p++
	}
	return p == len(pat)
}

// logQuery is a compiled query.
type logQuery struct {
	cond  cond // nil matches everything
	limit int  // from "| limit N"; 0 when absent
}

func (q *logQuery) match(d *logDoc) bool { return q.cond == nil || q.cond.match(d) }

// queryError is a query that does not compile; Pos is a byte offset.
type queryError struct {
	Syntax string
	Pos    int
	Msg    string
}

func (e *queryError) Error() string {
	return fmt.Sprintf("%s query does not compile: at offset %d: %s", e.Syntax, e.Pos, e.Msg)
}

// compileQuery parses text in the named syntax ("dataprime" or "lucene").
func compileQuery(syntax, text string) (*logQuery, error) {
	if !utf8.ValidString(text) {
		return nil, &queryError{Syntax: syntax, Msg: "the query is not valid UTF-8"}
	}
	switch syntax {
	case "dataprime":
		return parseDataPrime(text)
	case "lucene":
		return parseLucene(text)
	}
	return nil, &queryError{Syntax: syntax, Msg: "unknown syntax"}
}

// ---- DataPrime ----

type dpKind int

const (
	dpEOF dpKind = iota
	dpIdent
	dpField // $d, $l, $m
	dpString
	dpNumber
	dpPunct // . ( ) | && || ! == !=
)

type dpToken struct {
	kind dpKind
	text string // identifier, punctuation, decoded string or number
	pos  int
}

func dpTokenize(s string) ([]dpToken, error) {
	var toks []dpToken
	i := 0
	for i < len(s) {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '$':
			if i+1 < len(s) && strings.IndexByte("dlm", s[i+1]) >= 0 && (i+2 == len(s) || !isIdentByte(s[i+2])) {
				toks = append(toks, dpToken{dpField, s[i : i+2], i})
				i += 2
				continue
			}
			return nil, &queryError{"dataprime", i, "unknown keypath prefix (want $d, $l or $m)"}
		case isIdentStart(c):
			j := i
			for j < len(s) && isIdentByte(s[j]) {
				j++
			}
			toks = append(toks, dpToken{dpIdent, s[i:j], i})
			i = j
		case c >= '0' && c <= '9':
			j := i
			for j < len(s) && s[j] >= '0' && s[j] <= '9' {
				j++
			}
			toks = append(toks, dpToken{dpNumber, s[i:j], i})
			i = j
		case c == '\'':
			v, n, err := readDPString(s[i:])
			if err != nil {
				err.(*queryError).Pos += i
				return nil, err
			}
			toks = append(toks, dpToken{dpString, v, i})
			i += n
		default:
			two := ""
			if i+1 < len(s) {
				two = s[i : i+2]
			}
			switch {
			case two == "&&" || two == "||" || two == "==" || two == "!=":
				toks = append(toks, dpToken{dpPunct, two, i})
				i += 2
			case strings.IndexByte(".()|!", c) >= 0:
				toks = append(toks, dpToken{dpPunct, string(c), i})
				i++
			default:
				return nil, &queryError{"dataprime", i, fmt.Sprintf("unexpected character %q", c)}
			}
		}
	}
	return append(toks, dpToken{dpEOF, "", len(s)}), nil
}

// readDPString decodes a single-quoted string at the start of s and returns it
// with the number of bytes it took.
func readDPString(s string) (string, int, error) {
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		switch c := s[i]; c {
		case '\'':
			return b.String(), i + 1, nil
		case '\\':
			if i+1 == len(s) {
				return "", 0, &queryError{"dataprime", i, "unterminated escape"}
			}
			i++
			switch e := s[i]; e {
			case '\\', '\'', '"':
				b.WriteByte(e)
			case 'n':
				b.WriteByte('\n')
			case 'r':
				b.WriteByte('\r')
			case 't':
				b.WriteByte('\t')
			default:
				return "", 0, &queryError{"dataprime", i - 1, fmt.Sprintf("unknown escape \\%c", e)}
			}
		default:
			b.WriteByte(c)
		}
	}
	return "", 0, &queryError{"dataprime", 0, "unterminated string"}
}

func isIdentStart(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

func isIdentByte(c byte) bool { return isIdentStart(c) || (c >= '0' && c <= '9') }

type dpParser struct {
	toks []dpToken
	i    int
}

func (p *dpParser) peek() dpToken { return p.toks[p.i] }
func (p *dpParser) next() dpToken {
	t := p.toks[p.i]
	if t.kind != dpEOF {
		p.i++
	}
	return t
}

func (p *dpParser) errf(t dpToken, format string, args ...any) error {
	return &queryError{"dataprime", t.pos, fmt.Sprintf(format, args...)}
}

func (p *dpParser) isPunct(s string) bool {
	t := p.peek()
	return t.kind == dpPunct && t.text == s
}

func (p *dpParser) expectPunct(s string) error {
	if t := p.next(); t.kind != dpPunct || t.text != s {
		return p.errf(t, "expected %q, found %s", s, describe(t))
	}
	return nil
}

func describe(t dpToken) string {
	if t.kind == dpEOF {
		return "end of query"
	}
	return strconv.Quote(t.text)
}

func parseDataPrime(s string) (*logQuery, error) {
	toks, err := dpTokenize(s)
	if err != nil {
		return nil, err
	}
	p := &dpParser{toks: toks}
	if t := p.next(); t.kind != dpIdent || t.text != "source" {
		return nil, p.errf(t, "a query starts with \"source logs\", found %s", describe(t))
	}
	if t := p.next(); t.kind != dpIdent || t.text != "logs" {
		return nil, p.errf(t, "only the logs source is supported, found %s", describe(t))
	}
	q := &logQuery{}
	for p.peek().kind != dpEOF {
		if err := p.expectPunct("|"); err != nil {
			return nil, err
		}
		stage := p.next()
		if stage.kind != dpIdent {
			return nil, p.errf(stage, "expected a stage name, found %s", describe(stage))
		}
		switch stage.text {
		case "filter":
			c, err := p.parseOr()
			if err != nil {
				return nil, err
			}
			if q.cond == nil {
				q.cond = c
			} else {
				q.cond = andCond{q.cond, c}
			}
		case "limit":
			n := p.next()
			if n.kind != dpNumber {
				return nil, p.errf(n, "limit takes a number, found %s", describe(n))
			}
			v, err := strconv.Atoi(n.text)
			if err != nil || v <= 0 {
				return nil, p.errf(n, "limit must be a positive number")
			}
			if q.limit == 0 || v < q.limit {
				q.limit = v
			}
		default:
			return nil, p.errf(stage, "unsupported stage %q (this emulator knows filter and limit)", stage.text)
		}
	}
	return q, nil
}

func (p *dpParser) parseOr() (cond, error) {
	l, err := p.parseAnd()
	if err != nil {
		return nil, err
	}
	for p.isPunct("||") {
		p.next()
		r, err := p.parseAnd()
		if err != nil {
			return nil, err
		}
		l = orCond{l, r}
	}
	return l, nil
}

func (p *dpParser) parseAnd() (cond, error) {
	l, err := p.parseUnary()
	if err != nil {
		return nil, err
	}
	for p.isPunct("&&") {
		p.next()
		r, err := p.parseUnary()
		if err != nil {
			return nil, err
		}
		l = andCond{l, r}
	}
	return l, nil
}

func (p *dpParser) parseUnary() (cond, error) {
	if p.isPunct("!") {
		p.next()
		c, err := p.parseUnary()
		if err != nil {
			return nil, err
		}
		return notCond{c}, nil
	}
	if p.isPunct("(") {
		p.next()
		c, err := p.parseOr()
		if err != nil {
			return nil, err
		}
		return c, p.expectPunct(")")
	}
	return p.parseComparison()
}

var dpMethods = map[string]bool{"startsWith": true, "endsWith": true, "contains": true}

func (p *dpParser) parseComparison() (cond, error) {
	t := p.next()
	if t.kind != dpField {
		return nil, p.errf(t, "expected a field like $d.action, found %s", describe(t))
	}
	f := fieldRef{scope: t.text[1]}
	for p.isPunct(".") {
		p.next()
		id := p.next()
		if id.kind != dpIdent {
			return nil, p.errf(id, "expected a field name after \".\", found %s", describe(id))
		}
		if dpMethods[id.text] && p.isPunct("(") {
			if len(f.path) == 0 {
				return nil, p.errf(id, "%s needs a field", id.text)
			}
			p.next()
			arg := p.next()
			if arg.kind != dpString {
				return nil, p.errf(arg, "%s takes a string, found %s", id.text, describe(arg))
			}
			if err := p.expectPunct(")"); err != nil {
				return nil, err
			}
			return cmpCond{f, id.text, arg.text}, nil
		}
		f.path = append(f.path, id.text)
	}
	if len(f.path) == 0 {
		return nil, p.errf(t, "%s needs a field name", t.text)
	}
	if f.scope != 'd' && len(f.path) != 1 {
		return nil, p.errf(t, "%s has no nested fields", f)
	}
	op := p.next()
	if op.kind != dpPunct || (op.text != "==" && op.text != "!=") {
		return nil, p.errf(op, "expected == or != after %s, found %s", f, describe(op))
	}
	v := p.next()
	switch {
	case v.kind == dpString || v.kind == dpNumber:
	case v.kind == dpIdent && (v.text == "true" || v.text == "false"):
	default:
		return nil, p.errf(v, "expected a literal after %s, found %s", op.text, describe(v))
	}
	return cmpCond{f, op.text, v.text}, nil
}

// ---- Lucene ----

type lcKind int

const (
	lcEOF lcKind = iota
	lcAnd
	lcOr
	lcNot
	lcOpen
	lcClose
	lcTerm
)

type lcToken struct {
	kind  lcKind
	pos   int
	field string
	exact bool // a quoted phrase
	pat   []globElem
}

// Characters that end an unquoted Lucene word or are syntax inside one.
const lcSpecial = `+-&|!(){}[]^"~*?:\/`

func parseLucene(s string) (*logQuery, error) {
	toks, err := lcTokenize(s)
	if err != nil {
		return nil, err
	}
	p := &lcParser{toks: toks}
	if p.peek().kind == lcEOF {
		return &logQuery{}, nil
	}
	c, err := p.parseOr()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != lcEOF {
		return nil, lcErr(t.pos, "expected AND or OR between terms (implicit operators are not supported)")
	}
	return &logQuery{cond: c}, nil
}

func lcErr(pos int, msg string) error { return &queryError{"lucene", pos, msg} }

func lcTokenize(s string) ([]lcToken, error) {
	var toks []lcToken
	i := 0
	for i < len(s) {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '(':
			toks = append(toks, lcToken{kind: lcOpen, pos: i})
			i++
		case c == ')':
			toks = append(toks, lcToken{kind: lcClose, pos: i})
			i++
		default:
			j := i
			for j < len(s) && (isIdentByte(s[j]) || s[j] == '.') {
				j++
			}
			word := s[i:j]
			if j < len(s) && s[j] == ':' && word != "" {
				t, n, err := readLuceneTerm(s[j+1:], j+1)
				if err != nil {
					return nil, err
				}
				t.field, t.pos = word, i
				toks = append(toks, t)
				i = j + 1 + n
				continue
			}
			if j == len(s) || strings.IndexByte(" \t\r\n()", s[j]) >= 0 {
				switch word {
				case "AND":
					toks = append(toks, lcToken{kind: lcAnd, pos: i})
					i = j
					continue
				case "OR":
					toks = append(toks, lcToken{kind: lcOr, pos: i})
					i = j
					continue
				case "NOT":
					toks = append(toks, lcToken{kind: lcNot, pos: i})
					i = j
					continue
				}
			}
			return nil, lcErr(i, "expected field:value, AND, OR, NOT or parentheses (free-text and other Lucene syntax are not supported)")
		}
	}
	return append(toks, lcToken{kind: lcEOF, pos: len(s)}), nil
}

// readLuceneTerm reads the value of a term (after the colon) and returns it with
// the number of bytes it took. off is its offset in the query.
func readLuceneTerm(s string, off int) (lcToken, int, error) {
	t := lcToken{kind: lcTerm}
	if s == "" {
		return t, 0, lcErr(off, "missing value after ':'")
	}
	if s[0] == '"' {
		t.exact = true
		for i := 1; i < len(s); i++ {
			switch s[i] {
			case '"':
				return t, i + 1, nil
			case '\\':
				if i+1 == len(s) {
					return t, 0, lcErr(off+i, "unterminated escape")
				}
				i++
			}
			r, n := utf8.DecodeRuneInString(s[i:])
			t.pat = append(t.pat, globElem{r: r})
			i += n - 1
		}
		return t, 0, lcErr(off, "unterminated quoted value")
	}
	i := 0
	for i < len(s) {
		c := s[i]
		if c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == ')' || c == '(' {
			break
		}
		switch {
		case c == '\\':
			if i+1 == len(s) {
				return t, 0, lcErr(off+i, "unterminated escape")
			}
			r, n := utf8.DecodeRuneInString(s[i+1:])
			t.pat = append(t.pat, globElem{r: r})
			i += 1 + n
			continue
		case c == '*' || c == '?':
			t.pat = append(t.pat, globElem{kind: c})
		case strings.IndexByte(lcSpecial, c) >= 0:
			return t, 0, lcErr(off+i, fmt.Sprintf("unsupported Lucene syntax %q in a value (escape it with a backslash)", c))
		default:
			r, n := utf8.DecodeRuneInString(s[i:])
			t.pat = append(t.pat, globElem{r: r})
			i += n
			continue
		}
		i++
	}
	if i == 0 {
		return t, 0, lcErr(off, "missing value after ':'")
	}
	return t, i, nil
}

type lcParser struct {
	toks []lcToken
	i    int
}

func (p *lcParser) peek() lcToken { return p.toks[p.i] }
func (p *lcParser) next() lcToken {
	t := p.toks[p.i]
	if t.kind != lcEOF {
		p.i++
	}
	return t
}

func (p *lcParser) parseOr() (cond, error) {
	l, err := p.parseAnd()
	if err != nil {
		return nil, err
	}
	for p.peek().kind == lcOr {
		p.next()
		r, err := p.parseAnd()
		if err != nil {
			return nil, err
		}
		l = orCond{l, r}
	}
	return l, nil
}

func (p *lcParser) parseAnd() (cond, error) {
	l, err := p.parseUnary()
	if err != nil {
		return nil, err
	}
	for p.peek().kind == lcAnd {
		p.next()
		r, err := p.parseUnary()
		if err != nil {
			return nil, err
		}
		l = andCond{l, r}
	}
	return l, nil
}

func (p *lcParser) parseUnary() (cond, error) {
	t := p.next()
	switch t.kind {
	case lcNot:
		c, err := p.parseUnary()
		if err != nil {
			return nil, err
		}
		return notCond{c}, nil
	case lcOpen:
		c, err := p.parseOr()
		if err != nil {
			return nil, err
		}
		if cl := p.next(); cl.kind != lcClose {
			return nil, lcErr(cl.pos, "expected ')'")
		}
		return c, nil
	case lcTerm:
		f := luceneField(t.field)
		if t.exact || !hasWildcard(t.pat) {
			var b strings.Builder
			for _, e := range t.pat {
				b.WriteRune(e.r)
			}
			return cmpCond{f, "==", b.String()}, nil
		}
		return globCond{f, t.pat}, nil
	case lcEOF:
		return nil, lcErr(t.pos, "unexpected end of query")
	}
	return nil, lcErr(t.pos, "expected a term, NOT or '('")
}

func hasWildcard(pat []globElem) bool {
	for _, e := range pat {
		if e.kind != 0 {
			return true
		}
	}
	return false
}

// luceneField maps a Lucene field name to a logDoc field.
func luceneField(name string) fieldRef {
	switch strings.ToLower(name) {
	case "coralogix.metadata.applicationname":
		return fieldRef{scope: 'l', path: []string{"applicationname"}}
	case "coralogix.metadata.subsystemname":
		return fieldRef{scope: 'l', path: []string{"subsystemname"}}
	}
	return fieldRef{scope: 'd', path: strings.Split(name, ".")}
}
