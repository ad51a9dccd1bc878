package luks_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/e2eimage/e2e/luks"
)

// sparse is an image rebuilt from its .head and .payload parts, zero
// between them, without allocating the gap.
type sparse struct {
	head, payload []byte
	off           int64 // payload offset
}

func (s *sparse) Size() int64 { return s.off + int64(len(s.payload)) }

func (s *sparse) ReadAt(p []byte, off int64) (int, error) {
	n := 0
	for n < len(p) {
		pos := off + int64(n)
		switch {
		case pos >= s.Size():
			return n, io.EOF
		case pos < int64(len(s.head)):
			n += copy(p[n:], s.head[pos:])
		case pos < s.off:
			k := min(int64(len(p)-n), s.off-pos)
			clear(p[n : n+int(k)])
			n += int(k)
		default:
			n += copy(p[n:], s.payload[pos-s.off:])
		}
	}
	return n, nil
}

func (s *sparse) stream() io.Reader {
	return io.MultiReader(bytes.NewReader(s.head), &zeroReader{s.off - int64(len(s.head))}, bytes.NewReader(s.payload))
}

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var vectorPass = []byte("testdata passphrase")

func vectorPlain(n int) []byte {
	return []byte(strings.Repeat("testdata plaintext, sector by sector. ", 300)[:n])
}

// TestReferenceVectors opens images cryptsetup and qemu-img made (see
// testdata/README.md), so compatibility is checked even where the tools
// are not installed.
func TestReferenceVectors(t *testing.T) {
	cases := []struct {
		name  string
		off   int64
		check func(*testing.T, *luks.Header)
	}{
		{"cryptsetup-luks2-argon2id", 16 << 20, func(t *testing.T, h *luks.Header) {
			k := h.KeySlots[0]
			if h.Version != 2 || h.Label != "testdata" || h.UUID != "66666666-7777-4888-8999-aaaaaaaaaaaa" || h.SectorSize != 4096 ||
				h.KeyBytes != 32 || k.KDF != "argon2id" || k.Iterations != 4 || k.MemoryKiB != 64 || k.Threads != 1 || k.Size != 131072 {
				t.Errorf("header %+v, slot %+v", h, k)
			}
		}},
		{"qemu-luks1-aes128", 2056 * 512, func(t *testing.T, h *luks.Header) {
			if h.Version != 1 || h.CipherSpec() != "aes-xts-plain64" || h.KeyBytes != 32 || h.Hash != "sha256" ||
				len(h.ActiveSlots()) != 1 || h.KeySlots[0].Offset != 4096 || h.KeySlots[1].Offset != (8+256)*512 {
				t.Errorf("header %+v", h)
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			img := &sparse{head: readTestdata(t, c.name+".head"), payload: readTestdata(t, c.name+".payload"), off: c.off}
			want := vectorPlain(len(img.payload))
			h, err := luks.ReadHeader(img)
			if err != nil {
				t.Fatal(err)
			}
			if h.PayloadOffset != c.off {
				t.Fatalf("payload offset %d, want %d", h.PayloadOffset, c.off)
			}
			c.check(t, h)
			v, err := luks.Open(img, vectorPass)
			if err != nil {
				t.Fatal(err)
			}
			got := make([]byte, v.Size())
			if _, err := v.ReadAt(got, 0); err != nil || !bytes.Equal(got, want) {
				t.Fatalf("Volume plaintext differs (%v)", err)
			}
			var out bytes.Buffer
			if _, err := luks.Decrypt(&out, img.stream(), vectorPass); err != nil || !bytes.Equal(out.Bytes(), want) {
				t.Fatalf("Decrypt plaintext differs (%v)", err)
			}
			if _, err := luks.Open(img, []byte("testdata passphrase\n")); !errors.Is(err, luks.ErrWrongPassphrase) {
				t.Fatalf("passphrase with a newline: %v", err)
			}
		})
	}
	t.Run("cryptsetup-luks1 header only", func(t *testing.T) {
		b := readTestdata(t, "cryptsetup-luks1.hdr")
		h, err := luks.ReadHeader(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		if h.UUID != "11111111-2222-4333-8444-555555555555" || h.KeyBytes != 32 || h.PayloadOffset != 4096*512 ||
			h.KeySlots[0].Iterations != 1000 || h.DigestIterations != 1000 || h.KeySlots[7].Offset != (8+7*256)*512 {
			t.Fatalf("header %+v", h)
		}
		if _, err := luks.Open(bytes.NewReader(b), vectorPass); !errors.Is(err, luks.ErrCorrupt) {
			t.Fatalf("Open without key material: %v, want ErrCorrupt", err)
		}
	})
}
