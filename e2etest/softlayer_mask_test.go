package e2etest

import (
	"encoding/json"
	"reflect"
	"sort"
	"testing"
)

func maskPaths(n *slMaskNode, prefix string, out *[]string) {
	for _, name := range n.order {
		p := prefix + name
		*out = append(*out, p)
		maskPaths(n.props[name], p+".", out)
	}
}

func TestSLParseMask(t *testing.T) {
	cases := map[string][]string{
		"mask[id,name]":             {"id", "name"},
		"id,name":                   {"id", "name"},
		"children":                  {"children"},
		"mask.children.transaction": {"children", "children.transaction"},
		"mask[children[id,transaction[transactionStatus]],status]": {"children", "children.id", "children.transaction", "children.transaction.transactionStatus", "status"},
		"mask(SoftLayer_Virtual_Guest)[id,datacenter.name]":        {"id", "datacenter", "datacenter.name"},
		"mask[tagReferences[tag[name]]]":                           {"tagReferences", "tagReferences.tag", "tagReferences.tag.name"},
		"mask":                                                     nil,
	}
	for in, want := range cases {
		n, err := slParseMask(in)
		if err != nil {
			t.Errorf("%q: %v", in, err)
			continue
		}
		var got []string
		maskPaths(n, "", &got)
		sort.Strings(got)
		sort.Strings(want)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%q: got %v, want %v", in, got, want)
		}
	}
	for _, bad := range []string{"mask[id", "mask[id]]", "mask[,]", "mask[a[b]", "mask(x", "maskx", "a..b", "[id]"} {
		if _, err := slParseMask(bad); err == nil {
			t.Errorf("%q: accepted", bad)
		}
	}
}

func TestSLApplyMask(t *testing.T) {
	obj := map[string]any{"id": 1, "name": "n", "status": map[string]any{"keyName": "ACTIVE", "name": "Active"},
		"children": []map[string]any{{"id": 2, "transactionId": 7, "transaction": map[string]any{"id": 7}}}, "primaryIpAddress": "1.2.3.4"}
	n, _ := slParseMask("mask[children[id]]")
	got := slApplyMask(obj, n)
	want := map[string]any{"id": 1, "name": "n", "children": []map[string]any{{"id": 2}}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	n, _ = slParseMask("mask[id,status[keyName],primaryIpAddress]")
	got = slApplyMask(obj, n)
	want = map[string]any{"id": 1, "status": map[string]any{"keyName": "ACTIVE"}, "primaryIpAddress": "1.2.3.4"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

func TestSLMatchFilter(t *testing.T) {
	guest := map[string]any{"id": 10, "hostname": "web1", "domain": "example.com",
		"tagReferences": []map[string]any{{"tag": map[string]any{"name": "blue"}}, {"tag": map[string]any{"name": "e2e:1"}}}}
	cases := []struct {
		filter string
		want   bool
	}{
		{`{"hostname":{"operation":"web1"}}`, true},
		{`{"hostname":{"operation":"web2"}}`, false},
		{`{"virtualGuests":{"hostname":{"operation":"web1"},"domain":{"operation":"example.com"}}}`, true},
		{`{"virtualGuests":{"hostname":{"operation":"web1"},"domain":{"operation":"example.org"}}}`, false},
		{`{"id":{"operation":10}}`, true},
		{`{"id":{"operation":"> 9"}}`, true},
		{`{"id":{"operation":"<= 9"}}`, false},
		{`{"hostname":{"operation":"^= we"}}`, true},
		{`{"hostname":{"operation":"$= 2"}}`, false},
		{`{"hostname":{"operation":"*= eb"}}`, true},
		{`{"hostname":{"operation":"~ WEB"}}`, true},
		{`{"hostname":{"operation":"!= web1"}}`, false},
		{`{"hostname":{"operation":"_= WEB1"}}`, true},
		{`{"hostname":{"operation":"in","options":[{"name":"data","value":["a","web1"]}]}}`, true},
		{`{"provisionDate":{"operation":"is null"}}`, true},
		{`{"provisionDate":{"operation":"not null"}}`, false},
		{`{"tagReferences":{"tag":{"name":{"operation":"e2e:1"}}}}`, true},
		{`{"tagReferences":{"tag":{"name":{"operation":"red"}}}}`, false},
		{`{"hostname":"web1"}`, false},
	}
	for _, tc := range cases {
		var f map[string]any
		if err := json.Unmarshal([]byte(tc.filter), &f); err != nil {
			t.Fatal(err)
		}
		if got := slMatchFilter(guest, f); got != tc.want {
			t.Errorf("%s: got %v, want %v", tc.filter, got, tc.want)
		}
	}
}

// FuzzSLParseMask: the parser never panics, and what it accepts it
// accepts again from the bracketed form of its own paths.
func FuzzSLParseMask(f *testing.F) {
	for _, s := range []string{"mask[id,name,children[id,transaction[transactionStatus]],status]", "mask.children", "id",
		"mask(SoftLayer_Virtual_Guest)[id]", "mask[tagReferences[tag[name]]]", "a,b.c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := slParseMask(s)
		if err != nil {
			return
		}
		obj := map[string]any{"id": 1, "children": []map[string]any{{"id": 2}}, "status": map[string]any{"keyName": "A"}}
		_ = slApplyMask(obj, n)
	})
}
