package e2e_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/e2eimage/e2e"
	"github.com/e2eimage/e2e/internal/demo"
)

// TestCleanupFindsWhatALostAnswerCreated: a run crashed after placing the
// order and the import but before saving their answers (the state has the
// intent, OrderRequested and ImportToken, not the IDs). Cleanup must find
// and delete that server and template, not report success and leave them.
func TestCleanupFindsWhatALostAnswerCreated(t *testing.T) {
	cloud := startCloud(t)
	cfg := testConfig(cloud)
	cfg.Audit = false
	img := demo.Image(1<<20, 9)
	p, err := e2e.New(cfg, e2e.WithStateStore(&e2e.MemoryStore{}))
	if err != nil {
		t.Fatal(err)
	}
	res, err := p.Run(context.Background(), e2e.FromReader(bytes.NewReader(img), int64(len(img))))
	if err != nil {
		t.Fatal(err)
	}
	// The state as saved just before the two answers came back.
	st := res.State
	if !st.OrderRequested || st.ImportToken == "" {
		t.Fatalf("state has no order intent or import token: %+v", st)
	}
	st.ServerID, st.ServerHostname, st.ServerReady = 0, "", false
	st.TemplateID, st.TemplateGUID, st.TemplateReady = 0, "", false
	p2 := cleanupFrom(t, cfg, st)
	if n, m := len(cloud.Guests()), len(cloud.Templates()); n != 0 || m != 0 {
		t.Errorf("after Cleanup of an interrupted run: %d servers, %d templates left", n, m)
	}
	if got := p2.State(); got.OrderRequested || got.ImportToken != "" || got.ServerID != 0 || got.TemplateID != 0 {
		t.Errorf("state after Cleanup still names an order or import: %+v", got)
	}
}

// TestCleanupFindsAVPCImageWhoseAnswerWasLost: the VPC import took effect
// but its answer (the image ID) was never saved; Cleanup finds the image
// by its name and key and deletes it.
func TestCleanupFindsAVPCImageWhoseAnswerWasLost(t *testing.T) {
	cloud := startCloud(t)
	cfg := testConfig(cloud)
	cfg.Audit = false
	cfg.Server = nil
	cfg.Image = e2e.ImageConfig{Name: "lost-vpc-image", OS: "ubuntu-24-04-amd64", Format: e2e.QCOW2LUKS}
	path := writeTemp(t, demo.Image(2<<20, 3))
	p, err := e2e.New(cfg, e2e.WithStateStore(&e2e.MemoryStore{}))
	if err != nil {
		t.Fatal(err)
	}
	res, err := p.Run(context.Background(), e2e.FromFile(path))
	if err != nil {
		t.Fatal(err)
	}
	st := res.State
	st.VPCImageID, st.TemplateReady = "", false
	cleanupFrom(t, cfg, st)
	for _, im := range cloud.VPCImages() {
		if im.Status != "deleting" && im.Status != "deleted" {
			t.Errorf("after Cleanup: VPC image %+v left", im)
		}
	}
}

// cleanupFrom runs Cleanup(CleanupAll) on a new pipeline whose store holds
// st, as a rerun after a crash would find it, and returns the pipeline.
func cleanupFrom(t *testing.T, cfg e2e.Config, st e2e.State) *e2e.Pipeline {
	t.Helper()
	store := &e2e.MemoryStore{}
	if err := store.Save(context.Background(), st); err != nil {
		t.Fatal(err)
	}
	p, err := e2e.New(cfg, e2e.WithStateStore(store))
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Cleanup(context.Background(), e2e.CleanupAll); err != nil {
		t.Fatal(err)
	}
	return p
}
