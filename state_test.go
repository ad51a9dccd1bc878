package e2e

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestFileStoreRoundTripAndMode(t *testing.T) {
	ctx := context.Background()
	fs := FileStore{Path: filepath.Join(t.TempDir(), "state.json")}
	empty, err := fs.Load(ctx)
	if err != nil || !reflect.DeepEqual(empty, State{}) {
		t.Fatalf("Load of a missing file = %+v, %v; want empty state", empty, err)
	}
	want := State{RootKeyID: "k", RootKeyCRN: "crn:k", WDEK: []byte{1, 2, 3}, ObjectURI: "cos://us-south/b/o",
		TemplateID: 7, TemplateGUID: "g", OrderRequested: true, ServerID: 9, StartedAt: time.Unix(100, 0).UTC()}
	if err := fs.Save(ctx, want); err != nil {
		t.Fatal(err)
	}
	got, err := fs.Load(ctx)
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("Load = %+v, %v; want %+v", got, err, want)
	}
	st, err := os.Stat(fs.Path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("state file mode = %v, want 0600", st.Mode().Perm())
	}
	left, _ := filepath.Glob(filepath.Join(filepath.Dir(fs.Path), ".e2e-state-*"))
	if len(left) != 0 {
		t.Errorf("temporary files left behind: %v", left)
	}
}

func TestFileStoreCorrupt(t *testing.T) {
	fs := FileStore{Path: filepath.Join(t.TempDir(), "state.json")}
	if err := os.WriteFile(fs.Path, []byte(`{"rootKeyId":`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := fs.Load(context.Background()); err == nil || !strings.Contains(err.Error(), "corrupt") {
		t.Errorf("Load of a truncated file: err = %v, want a corrupt-state error", err)
	}
	bad := FileStore{Path: filepath.Join(t.TempDir(), "no", "such", "dir", "state.json")}
	if err := bad.Save(context.Background(), State{}); err == nil {
		t.Error("Save into a missing directory succeeded")
	}
}

// TestMemoryStoreLoadIsACopy: changing a loaded state (as a step does
// before it saves) must not change what the store holds.
func TestMemoryStoreLoadIsACopy(t *testing.T) {
	ctx := context.Background()
	m := &MemoryStore{}
	if err := m.Save(ctx, State{WDEK: []byte("wdek"), Run: &RunIdentity{ImageName: "a"}}); err != nil {
		t.Fatal(err)
	}
	got, _ := m.Load(ctx)
	got.Run.ImageName = "b"
	got.WDEK[0] = 'X'
	again, _ := m.Load(ctx)
	if again.Run.ImageName != "a" || string(again.WDEK) != "wdek" {
		t.Errorf("the store changed with a loaded copy: %+v %q", again.Run, again.WDEK)
	}
}
