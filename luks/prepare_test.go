package luks_test

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/e2eimage/e2e/luks"
)

// A prepared header opens with its passphrase and yields exactly the key
// Prepare drew, is as long as announced, and (for both layouts and key
// sizes) matches what FormatHeader makes.
func TestPrepareFormat(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts []luks.Option
	}{
		{"luks1-qemu-512", opts(luks.WithLayout(luks.LayoutQEMU))},
		{"luks1-cryptsetup-256", opts(luks.WithKeySize(256))},
		{"luks2", fastArgon},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := luks.Prepare(tc.opts...)
			if err != nil {
				t.Fatal(err)
			}
			defer p.Zero()
			want := append([]byte(nil), p.VolumeKey...)
			hdr, err := p.Header([]byte("prepared"))
			if err != nil {
				t.Fatal(err)
			}
			if int64(len(hdr)) != p.HeaderSize {
				t.Fatalf("header of %d bytes, HeaderSize %d", len(hdr), p.HeaderSize)
			}
			ref, refKey, err := luks.FormatHeader([]byte("x"), tc.opts...)
			if err != nil {
				t.Fatal(err)
			}
			clear(refKey)
			if len(ref) != len(hdr) {
				t.Fatalf("FormatHeader makes %d bytes, Format %d", len(ref), len(hdr))
			}
			vk, _, err := luks.UnlockHeader(bytes.NewReader(hdr), []byte("prepared"))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(vk, want) {
				t.Fatal("the header protects another key than VolumeKey")
			}
			if _, _, err := luks.UnlockHeader(bytes.NewReader(hdr), []byte("wrong")); !errors.Is(err, luks.ErrWrongPassphrase) {
				t.Fatalf("wrong passphrase: %v", err)
			}
		})
	}
}

// The slot is calibrated from Prepare's measurement: a longer iteration
// time buys more iterations, forced costs are kept, and the digest follows
// a short iteration time as FormatHeader's does.
func TestPrepareCalibrates(t *testing.T) {
	slot := func(o ...luks.Option) (slot, digest uint32) {
		t.Helper()
		p, err := luks.Prepare(o...)
		if err != nil {
			t.Fatal(err)
		}
		defer p.Zero()
		hdr, err := p.Header([]byte("calibrate"))
		if err != nil {
			t.Fatal(err)
		}
		h, err := luks.ReadHeader(bytes.NewReader(hdr))
		if err != nil {
			t.Fatal(err)
		}
		return h.KeySlots[0].Iterations, h.DigestIterations
	}
	short, _ := slot(luks.WithIterTime(5 * time.Millisecond))
	long, d := slot(luks.WithIterTime(200 * time.Millisecond))
	if short < 1000 || long <= short || d < 1000 || (d >= long && d != 1000) {
		t.Fatalf("iterations: %d for 5ms, %d for 200ms (digest %d)", short, long, d)
	}
	if forced, _ := slot(luks.WithIterations(1234)); forced != 1234 {
		t.Fatalf("WithIterations(1234) gave %d", forced)
	}
}

func TestPrepareErrors(t *testing.T) {
	if _, err := luks.Prepare(luks.WithKeySize(100)); err == nil {
		t.Fatal("a 100-bit key was accepted")
	}
	if _, err := luks.Prepare(luks.WithHash("md4")); err == nil {
		t.Fatalf("hash md4: %v", err)
	}
	key := bytes.Repeat([]byte{7}, 32)
	p, err := luks.Prepare(opts(luks.WithVolumeKey(key))...)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(p.VolumeKey, key) {
		t.Fatal("WithVolumeKey's key was not used")
	}
	vk := p.VolumeKey
	p.Zero()
	if !bytes.Equal(vk, make([]byte, 32)) {
		t.Fatal("Zero left the volume key in memory")
	}
	if _, err := p.Header([]byte("late")); !errors.Is(err, luks.ErrClosed) {
		t.Fatalf("Format after Zero: %v", err)
	}
}
