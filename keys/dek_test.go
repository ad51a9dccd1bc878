package keys_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/e2eimage/e2e/keys"
)

func TestDEKNeverPrints(t *testing.T) {
	d, err := keys.DEKFromBytes([]byte("super secret data key material!!"))
	if err != nil {
		t.Fatal(err)
	}
	hexed := fmt.Sprintf("%x", d.Bytes())
	for _, s := range []string{fmt.Sprint(d), fmt.Sprintf("%v %+v %#v %s %q %x %X", d, d, d, d, d, d, d), d.String(), fmt.Sprint(*d)} {
		if strings.Contains(s, "super secret") || strings.Contains(s, hexed) || strings.Contains(s, base64.StdEncoding.EncodeToString(d.Bytes())) {
			t.Fatalf("DEK formatting leaks the key: %s", s)
		}
	}
	if _, err := json.Marshal(d); !errors.Is(err, keys.ErrDEKMarshal) {
		t.Fatalf("json.Marshal(DEK): %v", err)
	}
	if _, err := json.Marshal(struct{ K *keys.DEK }{d}); err == nil {
		t.Fatal("a struct holding a DEK marshalled")
	}
}

func TestDEKSecrets(t *testing.T) {
	raw := bytes.Repeat([]byte{0xA5}, 64)
	d, _ := keys.DEKFromBytes(raw)
	if got := string(d.LUKSPassphrase()); got != base64.StdEncoding.EncodeToString(raw) || strings.ContainsAny(got, "\r\n") {
		t.Fatalf("LUKSPassphrase = %q", got)
	}
	if k, err := d.VHDKey(); err != nil || !bytes.Equal(k, raw) {
		t.Fatalf("VHDKey = %x, %v", k, err)
	}
	if _, err := d.QCOW2Passphrase(); !errors.Is(err, keys.ErrNotPassphrase) {
		t.Fatalf("QCOW2Passphrase of binary bytes: %v", err)
	}
	odd, _ := keys.DEKFromBytes(make([]byte, 48))
	if _, err := odd.VHDKey(); !errors.Is(err, keys.ErrNotVHDKey) {
		t.Fatalf("VHDKey of 48 bytes: %v", err)
	}

	for _, n := range []int{32, 44, 45, 46, 512} {
		p, err := keys.NewPassphraseDEK(n)
		if err != nil {
			t.Fatal(err)
		}
		q, err := p.QCOW2Passphrase()
		if err != nil || len(q) != n || !utf8.Valid(q) || bytes.ContainsAny(q, "\x00\n") {
			t.Fatalf("passphrase of %d: %q, %v", n, q, err)
		}
	}
	for _, n := range []int{0, 31, 513} {
		if _, err := keys.NewPassphraseDEK(n); !errors.Is(err, keys.ErrBadRequest) {
			t.Fatalf("NewPassphraseDEK(%d): %v", n, err)
		}
	}
	for _, n := range []int{0, 16, 33, 128} {
		if _, err := keys.NewDEK(n); !errors.Is(err, keys.ErrBadRequest) {
			t.Fatalf("NewDEK(%d): %v", n, err)
		}
	}
	a, _ := keys.NewDEK(32)
	b, _ := keys.NewDEK(32)
	if bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatal("two random DEKs are equal")
	}
	if _, err := keys.DEKFromBytes(nil); !errors.Is(err, keys.ErrBadRequest) {
		t.Fatalf("DEKFromBytes(nil): %v", err)
	}
	if _, err := keys.DEKFromBytes(make([]byte, 7169)); !errors.Is(err, keys.ErrBadRequest) {
		t.Fatalf("DEKFromBytes(7169): %v", err)
	}
}

func TestDEKDestroy(t *testing.T) {
	src := []byte("0123456789abcdef0123456789abcdef")
	d, _ := keys.DEKFromBytes(src)
	src[0] = 'X' // DEKFromBytes copies
	if d.Bytes()[0] != '0' {
		t.Fatal("the DEK shares the caller's slice")
	}
	inner := d.Bytes()
	d.Destroy()
	if !bytes.Equal(inner, make([]byte, 32)) || d.Len() != 0 {
		t.Fatalf("Destroy left %q", inner)
	}
	d.Destroy() // twice is fine
}

func TestWDEKText(t *testing.T) {
	w := keys.WDEK{1, 2, 3, 250, 251}
	s := w.String()
	back, err := keys.ParseWDEK(s)
	if err != nil || !bytes.Equal(back, w) {
		t.Fatalf("ParseWDEK(%q) = %v, %v", s, back, err)
	}
	js, err := json.Marshal(struct{ W keys.WDEK }{w})
	if err != nil || !strings.Contains(string(js), s) {
		t.Fatalf("json = %s, %v", js, err)
	}
	var got struct{ W keys.WDEK }
	if err := json.Unmarshal(js, &got); err != nil || !bytes.Equal(got.W, w) {
		t.Fatalf("json round trip = %v, %v", got.W, err)
	}
	for _, bad := range []string{"", "not base64!", "AAA"} {
		if _, err := keys.ParseWDEK(bad); !errors.Is(err, keys.ErrBadWDEK) {
			t.Fatalf("ParseWDEK(%q): %v", bad, err)
		}
	}
	if err := json.Unmarshal([]byte(`{"W":"@@"}`), &got); !errors.Is(err, keys.ErrBadWDEK) {
		t.Fatalf("json of a bad WDEK: %v", err)
	}
}

func FuzzParseWDEK(f *testing.F) {
	f.Add("RTJFVwE=")
	f.Add("")
	f.Add("====")
	f.Fuzz(func(t *testing.T, s string) {
		w, err := keys.ParseWDEK(s)
		if err != nil {
			return
		}
		again, err := keys.ParseWDEK(w.String())
		if len(w) == 0 || err != nil || !bytes.Equal(again, w) {
			t.Fatalf("ParseWDEK(%q) = %v does not survive String: %v, %v", s, w, again, err)
		}
	})
}
