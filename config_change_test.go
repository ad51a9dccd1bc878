package e2e_test

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/e2eimage/e2e"
	"github.com/e2eimage/e2e/internal/demo"
)

// TestRerunRefusesAChangedConfig: a state made for one bucket, object,
// format, image name or root key must not be silently reused by a run
// configured for another (it would import the old object under the new
// name, or skip uploading to the new bucket).
func TestRerunRefusesAChangedConfig(t *testing.T) {
	cloud := startCloud(t)
	cfg := testConfig(cloud)
	cfg.Audit = false
	cfg.Server = nil
	img := demo.Image(1<<20, 1)
	store := &e2e.MemoryStore{}
	// Stop after the upload: what was saved is tied to the bucket and object.
	if err := runCrashingAfter(t, cfg, store, e2e.StageEncrypt, img); !errors.Is(err, context.Canceled) {
		t.Fatalf("first run: %v, want context.Canceled", err)
	}
	saved, _ := store.Load(context.Background())
	cases := []struct {
		field  string
		change func(*e2e.Config)
	}{
		{"COS.Bucket", func(c *e2e.Config) { c.COS.Bucket += "-other" }},
		{"COS.Object", func(c *e2e.Config) { c.COS.Object = "other.img" }},
		{"Image.Format", func(c *e2e.Config) { c.Image.Format = e2e.EncryptedVHD }},
		{"Image.Name", func(c *e2e.Config) { c.Image.Name += "-2" }},
		{"KMS.RootKeyName", func(c *e2e.Config) { c.KMS.RootKeyName += "-2" }},
	}
	for _, tc := range cases {
		t.Run(tc.field, func(t *testing.T) {
			c := cfg
			tc.change(&c)
			st := &e2e.MemoryStore{}
			if err := st.Save(context.Background(), saved); err != nil {
				t.Fatal(err)
			}
			p, err := e2e.New(c, e2e.WithStateStore(st))
			if err != nil {
				t.Fatal(err)
			}
			_, err = p.Run(context.Background(), e2e.FromReader(bytes.NewReader(img), int64(len(img))))
			var ce *e2e.ConfigChangedError
			if !errors.Is(err, e2e.ErrConfigChanged) || !errors.As(err, &ce) || ce.Field != tc.field {
				t.Fatalf("rerun with another %s: err = %v, want a ConfigChangedError naming it", tc.field, err)
			}
			var se *e2e.StepError
			if !errors.As(err, &se) || se.Stage != e2e.StageRootKey {
				t.Errorf("err = %#v, want a StepError at %s", err, e2e.StageRootKey)
			}
			plan, err := p.Plan(context.Background(), e2e.FromReader(bytes.NewReader(img), int64(len(img))))
			if err != nil || !errors.As(plan.Err(), &ce) || ce.Field != tc.field {
				t.Errorf("Plan with another %s: %v, problems %v, want a ConfigChangedError naming it", tc.field, err, plan.Err())
			}
			// A step called alone refuses too.
			if err := p.Import(context.Background()); !errors.Is(err, e2e.ErrConfigChanged) {
				t.Errorf("Import alone: err = %v, want ErrConfigChanged", err)
			}
			if got, _ := st.Load(context.Background()); got.TemplateID != 0 || got.VPCImageID != "" {
				t.Error("a refused run imported anyway")
			}
		})
	}
	// The unchanged configuration resumes and finishes.
	p2, err := e2e.New(cfg, e2e.WithStateStore(store))
	if err != nil {
		t.Fatal(err)
	}
	res, err := p2.Run(context.Background(), e2e.FromReader(bytes.NewReader(img), int64(len(img))))
	if err != nil {
		t.Fatalf("rerun with the same config: %v", err)
	}
	if got := objectPlaintext(t, cloud, cfg, res.State); !bytes.Equal(got, img) {
		t.Error("object does not decrypt to the input")
	}
}
