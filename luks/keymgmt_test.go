package luks_test

import (
	"bytes"
	"errors"
	"os"
	"testing"

	"github.com/e2eimage/e2e/internal/testtool"
	"github.com/e2eimage/e2e/luks"
)

// canOpen reports whether our reader and (when installed) cryptsetup
// accept pass for the image file, and fails if they disagree.
func canOpen(t *testing.T, path string, pass []byte, useTool bool) bool {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	v, err := luks.Open(f, pass)
	ours := err == nil
	if err != nil && !errors.Is(err, luks.ErrWrongPassphrase) {
		t.Fatalf("Open: %v", err)
	}
	if ours {
		v.Close()
	}
	if useTool {
		key := writeFile(t, "key", pass)
		theirs := execErr(t, "cryptsetup", "open", "--test-passphrase", "--key-file", key, path) == nil
		if theirs != ours {
			t.Fatalf("cryptsetup opens: %v, we open: %v", theirs, ours)
		}
	}
	return ours
}

func TestKeyManagement(t *testing.T) {
	_, lookErr := testtoolLook("cryptsetup")
	useTool := lookErr == nil
	a, b, c := []byte("first passphrase"), []byte("second passphrase"), []byte("third passphrase")
	plain := randBytes(t, 8192)
	for _, f := range []struct {
		name string
		o    []luks.Option
	}{
		{"luks1", opts()},
		{"luks2-argon2id", fastArgon},
		{"luks2-pbkdf2", opts(luks.WithVersion(2), luks.WithPBKDF("pbkdf2"))},
	} {
		t.Run(f.name, func(t *testing.T) {
			path := writeFile(t, "img", encrypt(t, a, plain, f.o...))
			file, err := os.OpenFile(path, os.O_RDWR, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer file.Close()
			// Key options for new slots; LUKS2 ones stay argon2id/pbkdf2 as asked.
			ko := append(opts(), luks.WithArgon2(4, 64, 1))
			slot, err := luks.AddKey(file, a, b, ko...)
			if err != nil || slot != 1 {
				t.Fatalf("AddKey = %d, %v; want slot 1", slot, err)
			}
			if _, err := luks.AddKey(file, []byte("nope"), c, ko...); !errors.Is(err, luks.ErrWrongPassphrase) {
				t.Fatalf("AddKey with a wrong passphrase: %v", err)
			}
			if !canOpen(t, path, a, useTool) || !canOpen(t, path, b, useTool) {
				t.Fatal("a passphrase stopped working after AddKey")
			}
			if err := luks.ChangeKey(file, b, c, ko...); err != nil {
				t.Fatal(err)
			}
			if canOpen(t, path, b, useTool) || !canOpen(t, path, c, useTool) || !canOpen(t, path, a, useTool) {
				t.Fatal("ChangeKey did not replace exactly the old passphrase")
			}
			if err := luks.RemoveKey(file, a); err != nil {
				t.Fatal(err)
			}
			if canOpen(t, path, a, useTool) || !canOpen(t, path, c, useTool) {
				t.Fatal("RemoveKey removed the wrong slot")
			}
			if err := luks.RemoveKey(file, c); !errors.Is(err, luks.ErrLastKeySlot) {
				t.Fatalf("removing the last key: %v, want ErrLastKeySlot", err)
			}
			// The payload is untouched by all of it.
			v, err := luks.Open(file, c)
			if err != nil {
				t.Fatal(err)
			}
			got := make([]byte, len(plain))
			if _, err := v.ReadAt(got, 0); err != nil || !bytes.Equal(got, plain) {
				t.Fatalf("payload changed after key management: %v", err)
			}
			h := v.Header()
			if len(h.ActiveSlots()) != 1 {
				t.Errorf("active slots %v, want one", h.ActiveSlots())
			}
		})
	}
}

func TestKeySlotsFull(t *testing.T) {
	pass := []byte("p0")
	path := writeFile(t, "img", encrypt(t, pass, nil, opts()...))
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for i := 1; i < 8; i++ {
		if s, err := luks.AddKey(f, pass, []byte{'p', byte('0' + i)}, opts()...); err != nil || s != i {
			t.Fatalf("AddKey #%d = %d, %v", i, s, err)
		}
	}
	if _, err := luks.AddKey(f, pass, []byte("p8"), opts()...); !errors.Is(err, luks.ErrNoFreeSlot) {
		t.Fatalf("ninth AddKey: %v, want ErrNoFreeSlot", err)
	}
	// With every slot full, ChangeKey rewrites the slot in place.
	if err := luks.ChangeKey(f, []byte("p3"), []byte("new3"), opts()...); err != nil {
		t.Fatal(err)
	}
	v, err := luks.Open(f, []byte("new3"))
	if err != nil {
		t.Fatal(err)
	}
	if v.KeySlot() != 3 {
		t.Errorf("new passphrase is in slot %d, want 3", v.KeySlot())
	}
	if _, err := luks.Open(f, []byte("p3")); !errors.Is(err, luks.ErrWrongPassphrase) {
		t.Errorf("old passphrase: %v", err)
	}
}

// TestAddKeyToCryptsetupLUKS2 rewrites a header cryptsetup made: our JSON,
// checksums and area allocation must satisfy it.
func TestAddKeyToCryptsetupLUKS2(t *testing.T) {
	a, b := []byte("theirs"), []byte("ours")
	key := writeFile(t, "key", a)
	img := writeFile(t, "img", nil)
	if err := os.Truncate(img, 17<<20); err != nil {
		t.Fatal(err)
	}
	run(t, "cryptsetup", "luksFormat", "-q", "--type", "luks2", "--key-file", key, "--pbkdf", "pbkdf2",
		"--pbkdf-force-iterations", "1000", "--label", "theirs", img)
	f, err := os.OpenFile(img, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := luks.AddKey(f, a, b, luks.WithVersion(2), luks.WithArgon2(4, 64, 1)); err != nil {
		t.Fatal(err)
	}
	kb := writeFile(t, "kb", b)
	run(t, "cryptsetup", "open", "--test-passphrase", "--key-file", kb, img)
	kc := writeFile(t, "kc", []byte("added by cryptsetup"))
	run(t, "cryptsetup", "luksAddKey", "-q", "--key-file", kb, "--pbkdf", "pbkdf2", "--pbkdf-force-iterations", "1000", img, kc)
	if v, err := luks.Open(f, []byte("added by cryptsetup")); err != nil {
		t.Fatalf("cryptsetup's added key: %v", err)
	} else if v.KeySlot() != 2 {
		t.Errorf("cryptsetup's key opened slot %d, want 2", v.KeySlot())
	}
	if err := luks.RemoveKey(f, a); err != nil {
		t.Fatal(err)
	}
	if execErr(t, "cryptsetup", "open", "--test-passphrase", "--key-file", key, img) == nil {
		t.Fatal("cryptsetup still opens a removed key")
	}
	h, err := luks.ReadHeader(f)
	if err != nil {
		t.Fatal(err)
	}
	if h.Label != "theirs" || len(h.ActiveSlots()) != 2 {
		t.Fatalf("after key management: label %q, slots %v", h.Label, h.ActiveSlots())
	}
}

func testtoolLook(name string) (string, error) {
	if os.Getenv(testtool.RequireEnv) != "" {
		return name, nil // let canOpen fail loudly through testtool.Path
	}
	return lookPath(name)
}
