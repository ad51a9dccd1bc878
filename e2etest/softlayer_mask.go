package e2etest

// Object masks, object filters and result limits of the SoftLayer API, over
// the map representation the handlers return.

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// slMaskNode is a parsed object mask: which properties to return, and the
// mask of each relational property.
type slMaskNode struct {
	props map[string]*slMaskNode
	order []string
}

func (n *slMaskNode) child(name string) *slMaskNode {
	if n.props == nil {
		n.props = map[string]*slMaskNode{}
	}
	c, ok := n.props[name]
	if !ok {
		c = &slMaskNode{}
		n.props[name] = c
		n.order = append(n.order, name)
	}
	return c
}

// slParseMask parses the mask forms softlayer-go sends: "mask[a,b[c,d],e.f]",
// "mask.a.b", "mask(SoftLayer_Type)[…]" and a bare "a,b.c" or "a".
func slParseMask(s string) (*slMaskNode, error) {
	s = strings.TrimSpace(s)
	root := &slMaskNode{}
	if rest, ok := strings.CutPrefix(s, "mask"); ok {
		s = rest
		if strings.HasPrefix(s, "(") {
			end := strings.IndexByte(s, ')')
			if end < 0 {
				return nil, errors.New("unterminated type in mask")
			}
			s = s[end+1:]
		}
		switch {
		case strings.HasPrefix(s, "."):
			s = s[1:]
		case strings.HasPrefix(s, "["):
			if !strings.HasSuffix(s, "]") {
				return nil, errors.New("unbalanced brackets in mask")
			}
			s = s[1 : len(s)-1]
		case s == "":
			return root, nil
		default:
			return nil, fmt.Errorf("unexpected %q after mask", s)
		}
	}
	p := &slMaskParser{s: s}
	if err := p.list(root); err != nil {
		return nil, err
	}
	if p.i != len(p.s) {
		return nil, fmt.Errorf("unexpected %q in mask", p.s[p.i:])
	}
	return root, nil
}

type slMaskParser struct {
	s string
	i int
}

func (p *slMaskParser) list(into *slMaskNode) error {
	for {
		if err := p.item(into); err != nil {
			return err
		}
		if p.i < len(p.s) && (p.s[p.i] == ',' || p.s[p.i] == ';') {
			p.i++
			continue
		}
		return nil
	}
}

func (p *slMaskParser) item(into *slMaskNode) error {
	node := into
	for {
		start := p.i
		for p.i < len(p.s) && (slMaskNameByte(p.s[p.i])) {
			p.i++
		}
		name := strings.TrimSpace(p.s[start:p.i])
		if name == "" {
			return fmt.Errorf("empty property name at offset %d", start)
		}
		node = node.child(name)
		if p.i < len(p.s) && p.s[p.i] == '.' {
			p.i++
			continue
		}
		break
	}
	if p.i < len(p.s) && p.s[p.i] == '[' {
		p.i++
		if err := p.list(node); err != nil {
			return err
		}
		if p.i >= len(p.s) || p.s[p.i] != ']' {
			return errors.New("unbalanced brackets in mask")
		}
		p.i++
	}
	return nil
}

func slMaskNameByte(b byte) bool {
	return b == '_' || b == ' ' || b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9'
}

// slRelational lists properties that are relational in the SoftLayer data
// model although their value is a scalar: they appear only when masked.
var slRelational = map[string]bool{
	"primaryIpAddress": true, "primaryBackendIpAddress": true, "operatingSystemReferenceCode": true,
	"byolFlag": true, "globalIdentifierOfTemplate": true, "transactionId": false,
}

func slIsRelational(k string, v any) bool {
	switch v.(type) {
	case map[string]any, []map[string]any, []any:
		return true
	}
	return slRelational[k]
}

// slApplyMask keeps the local properties of obj (only the named ones when the
// mask names any) and the relational properties the mask names.
func slApplyMask(obj map[string]any, n *slMaskNode) map[string]any {
	if obj == nil {
		return nil
	}
	restrictLocal := false
	if n != nil {
		for name := range n.props {
			if v, ok := obj[name]; ok && !slIsRelational(name, v) {
				restrictLocal = true
			}
		}
	}
	out := map[string]any{}
	for k, v := range obj {
		var sub *slMaskNode
		named := false
		if n != nil {
			sub, named = n.props[k]
		}
		if !slIsRelational(k, v) {
			if !restrictLocal || named {
				out[k] = v
			}
			continue
		}
		if !named {
			continue
		}
		switch x := v.(type) {
		case map[string]any:
			out[k] = slApplyMask(x, sub)
		case []map[string]any:
			list := make([]map[string]any, len(x))
			for i, e := range x {
				list[i] = slApplyMask(e, sub)
			}
			out[k] = list
		default:
			out[k] = v
		}
	}
	return out
}

// shape applies the call's filter and result limit to a list result and
// its mask to every object.
func (call *slCall) shape(w http.ResponseWriter, v any) any {
	switch x := v.(type) {
	case map[string]any:
		return slApplyMask(x, call.mask)
	case []map[string]any:
		var kept []map[string]any
		for _, o := range x {
			if call.filter == nil || slMatchFilter(o, call.filter) {
				kept = append(kept, o)
			}
		}
		w.Header().Set("SoftLayer-Total-Items", strconv.Itoa(len(kept)))
		if call.limit > 0 || call.offset > 0 {
			lo := min(call.offset, len(kept))
			hi := len(kept)
			if call.limit > 0 {
				hi = min(lo+call.limit, len(kept))
			}
			kept = kept[lo:hi]
		}
		out := make([]map[string]any, 0, len(kept))
		for _, o := range kept {
			out = append(out, slApplyMask(o, call.mask))
		}
		return out
	}
	return v
}

// slMatchFilter reports whether obj satisfies an object filter such as
// {"virtualGuests":{"hostname":{"operation":"web1"}}}; the outer key naming
// the account property is optional.
func slMatchFilter(obj map[string]any, f map[string]any) bool {
	for k, fv := range f {
		fm, ok := fv.(map[string]any)
		if !ok {
			return false
		}
		val, present := obj[k]
		if op, has := fm["operation"]; has {
			if !slMatchOperation(val, op, fm["options"]) {
				return false
			}
			continue
		}
		if !present {
			// a filter on the account's list property ("virtualGuests") wraps the object filter
			if slNestedOnly(fm) && slMatchFilter(obj, fm) {
				continue
			}
			return false
		}
		switch x := val.(type) {
		case map[string]any:
			if !slMatchFilter(x, fm) {
				return false
			}
		case []map[string]any:
			any := false
			for _, e := range x {
				if slMatchFilter(e, fm) {
					any = true
					break
				}
			}
			if !any {
				return false
			}
		default:
			return false
		}
	}
	return true
}

func slNestedOnly(fm map[string]any) bool {
	for _, v := range fm {
		if _, ok := v.(map[string]any); !ok {
			return false
		}
	}
	return true
}

func slFilterString(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		if x {
			return "1"
		}
		return "0"
	default:
		return fmt.Sprint(x)
	}
}

func slMatchOperation(val, op, options any) bool {
	s := slFilterString(val)
	switch o := op.(type) {
	case float64, bool:
		return val != nil && s == slFilterString(o)
	case string:
		switch o {
		case "in":
			list, _ := options.([]any)
			for _, opt := range list {
				m, _ := opt.(map[string]any)
				vals, _ := m["value"].([]any)
				for _, want := range vals {
					if val != nil && s == slFilterString(want) {
						return true
					}
				}
			}
			return false
		case "is null":
			return val == nil
		case "not null":
			return val != nil
		}
		for _, pre := range []string{"!= ", "!~ ", "~ ", "*= ", "^= ", "$= ", "_= ", ">= ", "<= ", "> ", "< ", "= "} {
			arg, ok := strings.CutPrefix(o, pre)
			if !ok {
				continue
			}
			switch pre {
			case "!= ":
				return s != arg
			case "!~ ":
				return !strings.Contains(strings.ToLower(s), strings.ToLower(arg))
			case "~ ":
				return strings.Contains(strings.ToLower(s), strings.ToLower(arg))
			case "*= ":
				return strings.Contains(s, arg)
			case "^= ":
				return strings.HasPrefix(s, arg)
			case "$= ":
				return strings.HasSuffix(s, arg)
			case "_= ":
				return strings.EqualFold(s, arg)
			case "= ":
				return val != nil && s == arg
			default:
				a, err1 := strconv.ParseFloat(s, 64)
				b, err2 := strconv.ParseFloat(arg, 64)
				if err1 != nil || err2 != nil {
					return false
				}
				switch pre {
				case ">= ":
					return a >= b
				case "<= ":
					return a <= b
				case "> ":
					return a > b
				default:
					return a < b
				}
			}
		}
		return val != nil && s == o
	}
	return false
}
