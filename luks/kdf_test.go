package luks_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/e2eimage/e2e/luks"
)

func slot0(t *testing.T, o ...luks.Option) luks.KeySlot {
	t.Helper()
	img := encrypt(t, []byte("calibrate"), nil, o...)
	h, err := luks.ReadHeader(bytes.NewReader(img))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := luks.Open(bytes.NewReader(img), []byte("calibrate")); err != nil {
		t.Fatal(err)
	}
	return h.KeySlots[0]
}

// Calibration is checked by proportion, not by wall time: 40× the
// iteration time must buy more iterations, and never fewer than 1000.
func TestPBKDF2Calibration(t *testing.T) {
	short := slot0(t, luks.WithIterTime(5*time.Millisecond))
	long := slot0(t, luks.WithIterTime(200*time.Millisecond))
	if short.Iterations < 1000 || long.Iterations <= short.Iterations {
		t.Fatalf("iterations: %d for 5ms, %d for 200ms", short.Iterations, long.Iterations)
	}
	if forced := slot0(t, luks.WithIterations(1234)); forced.Iterations != 1234 {
		t.Fatalf("WithIterations(1234) gave %d", forced.Iterations)
	}
}

// A short iteration time shortens the volume key digest too (an eighth, as
// QEMU does): with 125 ms, as cryptsetup fixes it, the digest of a 8 ms
// header would cost 15 times its key slot, which holds two PBKDF2 blocks.
func TestDigestFollowsShortIterTime(t *testing.T) {
	img := encrypt(t, []byte("calibrate"), nil, luks.WithIterTime(8*time.Millisecond))
	h, err := luks.ReadHeader(bytes.NewReader(img))
	if err != nil {
		t.Fatal(err)
	}
	d, s := h.DigestIterations, h.KeySlots[0].Iterations
	// Both are 1000 only on a machine too slow (or loaded) to do more in 8 ms.
	if d < 1000 || (d >= s && d != 1000) {
		t.Fatalf("digest iterations %d, key slot %d: want 1000 <= digest < slot", d, s)
	}
}

func TestArgon2Calibration(t *testing.T) {
	k := slot0(t, luks.WithVersion(2), luks.WithIterTime(20*time.Millisecond))
	if k.KDF != "argon2id" || k.Iterations < 4 || k.MemoryKiB < 32*1024 || k.MemoryKiB > 1<<20 || k.Threads < 1 || k.Threads > 4 {
		t.Fatalf("calibrated argon2: %+v", k)
	}
	k = slot0(t, luks.WithVersion(2), luks.WithArgon2(5, 64, 2))
	if k.Iterations != 5 || k.MemoryKiB != 64 || k.Threads != 2 {
		t.Fatalf("WithArgon2(5, 64, 2) gave %+v", k)
	}
	k = slot0(t, luks.WithVersion(2), luks.WithPBKDF("pbkdf2"), luks.WithHash("sha512"), luks.WithIterations(2000))
	if k.KDF != "pbkdf2" || k.Hash != "sha512" || k.Iterations != 2000 {
		t.Fatalf("pbkdf2 slot: %+v", k)
	}
}

func TestHeaderDescribes(t *testing.T) {
	img := encrypt(t, []byte("p"), nil, append(fastArgon, luks.WithLabel("boot"), luks.WithSectorSize(4096),
		luks.WithUUID("01234567-89ab-4def-8123-456789abcdef"))...)
	h, err := luks.ReadHeader(bytes.NewReader(img))
	if err != nil {
		t.Fatal(err)
	}
	want := luks.Header{Version: 2, Cipher: "aes", Mode: "xts-plain64", Hash: "sha256", KeyBytes: 64,
		PayloadOffset: 16 << 20, SectorSize: 4096, UUID: "01234567-89ab-4def-8123-456789abcdef", Label: "boot",
		MetadataSize: 16384, KeyslotsSize: 16744448, Epoch: 1, DigestIterations: 1000}
	got := *h
	got.KeySlots = nil
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("header\n got %+v\nwant %+v", got, want)
	}
	k := h.KeySlots[0]
	if k.Index != 0 || !k.Active || k.Offset != 32768 || k.Size != 258048 || k.Stripes != 4000 || k.Encryption != "aes-xts-plain64" {
		t.Fatalf("slot %+v", k)
	}
	s := h.String()
	for _, w := range []string{"LUKS2 aes-xts-plain64", "512-bit", `label "boot"`, "4096-byte sectors", "argon2id"} {
		if !strings.Contains(s, w) {
			t.Errorf("String() lacks %q:\n%s", w, s)
		}
	}
	js, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{`"version":2`, `"payload_offset":16777216`, `"key_slots":[{"index":0,"active":true,"kdf":"argon2id"`} {
		if !strings.Contains(string(js), w) {
			t.Errorf("JSON lacks %s: %s", w, js)
		}
	}
	h1, err := luks.ReadHeader(bytes.NewReader(encrypt(t, []byte("p"), nil, opts()...)))
	if err != nil {
		t.Fatal(err)
	}
	if len(h1.KeySlots) != 8 || len(h1.ActiveSlots()) != 1 || h1.KeySlots[7].Offset != (8+7*504)*512 || !strings.Contains(h1.String(), "slot 7: disabled") {
		t.Fatalf("LUKS1 slots: %+v", h1.KeySlots)
	}
}

func TestPassphraseConvention(t *testing.T) {
	for _, n := range []int{22, 24, 32, 64, 384} {
		p, err := luks.PassphraseFromDEK(randBytes(t, n))
		if err != nil {
			t.Fatalf("%d-byte DEK: %v", n, err)
		}
		if err := luks.ValidatePassphrase(p); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range []int{0, 1, 16, 21, 385} {
		if _, err := luks.PassphraseFromDEK(make([]byte, n)); !errors.Is(err, luks.ErrInvalidPassphrase) {
			t.Errorf("%d-byte DEK: %v, want ErrInvalidPassphrase", n, err)
		}
	}
	good := []byte(strings.Repeat("QUJD", 11)) // 44 characters
	secret := "S3cr3t"
	for name, p := range map[string][]byte{
		"newline":   append(bytes.Clone(good), '\n'),
		"crlf":      append(bytes.Clone(good), '\r', '\n'),
		"short":     good[:28],
		"long":      bytes.Repeat([]byte("A"), 516),
		"space":     []byte(strings.Repeat("QUJD", 10) + "QU " + secret),
		"padding":   []byte(strings.Repeat("QUJD", 10) + "QQ=A"),
		"non-ascii": append(bytes.Clone(good[:40]), "é"+secret...),
		"empty":     nil,
	} {
		err := luks.ValidatePassphrase(p)
		if !errors.Is(err, luks.ErrInvalidPassphrase) {
			t.Errorf("%s: %v, want ErrInvalidPassphrase", name, err)
			continue
		}
		if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), "QUJD") {
			t.Errorf("%s: error leaks the passphrase: %v", name, err)
		}
	}
}
