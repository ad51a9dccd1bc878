package main

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/e2eimage/e2e/e2etest"
	"github.com/e2eimage/e2e/iam"
	"github.com/e2eimage/e2e/image"
	"github.com/e2eimage/e2e/keys"
)

// prepared starts a cloud holding what the earlier examples make and
// returns settings naming it, as a user would export them; extra overrides.
func prepared(t *testing.T, format string) (*e2etest.Cloud, map[string]string) {
	t.Helper()
	cloud, err := e2etest.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cloud.Close() })
	m, err := prepare(context.Background(), cloud, format)
	if err != nil {
		t.Fatal(err)
	}
	return cloud, m
}

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestRunImports(t *testing.T) {
	for _, format := range []string{"luks", "vhd"} {
		t.Run(format, func(t *testing.T) {
			cloud, m := prepared(t, format)
			var out bytes.Buffer
			if err := run(context.Background(), &out, envOf(m)); err != nil {
				t.Fatalf("run: %v\n%s", err, out.String())
			}
			ts := cloud.Templates()
			if len(ts) != 1 {
				t.Fatalf("%d templates, want 1", len(ts))
			}
			tp := ts[0]
			key := cloud.Keys()[0]
			if tp.Status != "ACTIVE" || !tp.Encrypted || tp.RootKeyCRN != key.CRN || tp.Name != "e2e-example-image" ||
				tp.URI != "cos://"+cloud.Region+"/"+m["E2E_BUCKET"]+"/"+m["E2E_OBJECT"] {
				t.Errorf("template: %+v", tp)
			}
			if !strings.Contains(out.String(), "E2E_TEMPLATE_GUID="+tp.GlobalIdentifier) {
				t.Errorf("output does not name the template:\n%s", out.String())
			}
		})
	}
}

func TestRunDefault(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), &out, func(string) string { return "" }); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "is ACTIVE") {
		t.Errorf("output:\n%s", out.String())
	}
}

// Each mistake IBM would refuse fails with a typed error, and the preflight
// ones fail before any template exists.
func TestRunRefusals(t *testing.T) {
	ctx := context.Background()
	t.Run("WDEK of another key", func(t *testing.T) {
		cloud, m := prepared(t, "luks")
		kc, _ := keys.NewClient(keys.Config{Endpoint: cloud.KMSURL, InstanceID: cloud.KPInstanceID, APIKey: cloud.APIKey, IAMURL: cloud.IAMURL})
		other, err := kc.CreateRootKey(ctx, "other")
		if err != nil {
			t.Fatal(err)
		}
		m["E2E_ROOT_KEY_ID"] = other.ID
		if err := run(ctx, new(bytes.Buffer), envOf(m)); !errors.Is(err, keys.ErrWrongKey) {
			t.Fatalf("got %v, want keys.ErrWrongKey", err)
		}
		if n := len(cloud.Templates()); n != 0 {
			t.Errorf("%d templates after a refused preflight", n)
		}
	})
	t.Run("disabled root key", func(t *testing.T) {
		cloud, m := prepared(t, "luks")
		if err := cloud.SetKeyState(m["E2E_ROOT_KEY_ID"], e2etest.KeySuspended); err != nil {
			t.Fatal(err)
		}
		var kse *keys.KeyStateError
		if err := run(ctx, new(bytes.Buffer), envOf(m)); !errors.As(err, &kse) || kse.State != keys.Suspended {
			t.Fatalf("got %v, want a *keys.KeyStateError (suspended)", err)
		}
	})
	t.Run("no authorization", func(t *testing.T) {
		cloud, m := prepared(t, "luks")
		ic, _ := iam.NewClient(iam.Config{APIKey: cloud.APIKey, IAMURL: cloud.IAMURL})
		for _, p := range cloud.Policies() {
			if err := ic.DeletePolicy(ctx, p.ID); err != nil {
				t.Fatal(err)
			}
		}
		var missing *iam.MissingAuthorizationError
		if err := run(ctx, new(bytes.Buffer), envOf(m)); !errors.As(err, &missing) || len(missing.Missing) != 1 {
			t.Fatalf("got %v, want a *iam.MissingAuthorizationError", err)
		}
		if n := len(cloud.Templates()); n != 0 {
			t.Errorf("%d templates after a refused preflight", n)
		}
	})
	t.Run("object not encrypted with the DEK", func(t *testing.T) {
		cloud, m := prepared(t, "luks")
		if err := cloud.PutObject(m["E2E_BUCKET"], m["E2E_OBJECT"], bytes.Repeat([]byte{1}, 1<<20)); err != nil {
			t.Fatal(err)
		}
		err := run(ctx, new(bytes.Buffer), envOf(m))
		var ie *image.ImportError
		if !errors.Is(err, image.ErrImportFailed) || !errors.As(err, &ie) || ie.TemplateID == 0 {
			t.Fatalf("got %v, want an *image.ImportError", err)
		}
		t.Log(err)
	})
	t.Run("bad settings", func(t *testing.T) {
		_, m := prepared(t, "luks")
		for k, v := range map[string]string{"E2E_WDEK": "not base64!", "E2E_FORMAT": "qcow2", "E2E_BUCKET": "", "E2E_POLL_INTERVAL": "often"} {
			bad := map[string]string{}
			for k, v := range m {
				bad[k] = v
			}
			bad[k] = v
			if err := run(ctx, new(bytes.Buffer), envOf(bad)); err == nil {
				t.Errorf("%s=%q: no error", k, v)
			}
		}
		m["E2E_FORMAT"] = "vhd" // IBM wants VHD objects named "name.vhd-0.vhd"
		var ve *image.ValidationError
		if err := run(ctx, new(bytes.Buffer), envOf(m)); !errors.Is(err, image.ErrInvalidRequest) || !errors.As(err, &ve) {
			t.Errorf("a .luks object imported as VHD: %v", err)
		}
	})
	t.Run("cancelled", func(t *testing.T) {
		_, m := prepared(t, "luks")
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if err := run(cctx, new(bytes.Buffer), envOf(m)); !errors.Is(err, context.Canceled) {
			t.Fatalf("got %v", err)
		}
	})
}
