package luks_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/e2eimage/e2e/luks"
)

func TestWrongPassphrase(t *testing.T) {
	for _, o := range [][]luks.Option{opts(), fastArgon} {
		img := encrypt(t, []byte("right"), []byte("data"), o...)
		_, err := luks.Open(bytes.NewReader(img), []byte("wrong"))
		if !errors.Is(err, luks.ErrWrongPassphrase) {
			t.Fatalf("Open: %v, want ErrWrongPassphrase", err)
		}
		if strings.Contains(err.Error(), "wrong\"") || strings.Contains(err.Error(), "right") {
			t.Fatalf("error leaks a passphrase: %v", err)
		}
		if _, err := luks.Decrypt(io.Discard, bytes.NewReader(img), []byte("")); !errors.Is(err, luks.ErrWrongPassphrase) {
			t.Fatalf("Decrypt: %v, want ErrWrongPassphrase", err)
		}
		if _, _, err := luks.UnlockHeader(bytes.NewReader(img), []byte("wrong")); !errors.Is(err, luks.ErrWrongPassphrase) {
			t.Fatalf("UnlockHeader: %v, want ErrWrongPassphrase", err)
		}
	}
}

func TestNotLUKS(t *testing.T) {
	for _, in := range [][]byte{nil, {1}, []byte("LUKS\xba"), bytes.Repeat([]byte{0}, 8192), randBytes(t, 4096)} {
		if _, err := luks.ReadHeader(bytes.NewReader(in)); !errors.Is(err, luks.ErrNotLUKS) {
			t.Errorf("ReadHeader(%d bytes) = %v, want ErrNotLUKS", len(in), err)
		}
		if _, err := luks.Open(bytes.NewReader(in), []byte("x")); !errors.Is(err, luks.ErrNotLUKS) {
			t.Errorf("Open(%d bytes) = %v, want ErrNotLUKS", len(in), err)
		}
		if _, err := luks.Decrypt(io.Discard, bytes.NewReader(in), []byte("x")); !errors.Is(err, luks.ErrNotLUKS) {
			t.Errorf("Decrypt(%d bytes) = %v, want ErrNotLUKS", len(in), err)
		}
	}
}

// TestTruncated cuts images everywhere interesting: each cut gives an
// error that says LUKS or corruption, never a panic or a wrong success.
func TestTruncated(t *testing.T) {
	pass := []byte("pass")
	for _, o := range [][]luks.Option{opts(luks.WithKeySize(256)), append(fastArgon, luks.WithKeySize(256))} {
		img := encrypt(t, pass, randBytes(t, 1024), o...)
		h, err := luks.ReadHeader(bytes.NewReader(img))
		if err != nil {
			t.Fatal(err)
		}
		slot := h.KeySlots[0]
		cuts := []int64{6, 8, 100, 591, 592, 4095, 4096, 16384, 16384 + 4096, 32767,
			slot.Offset, slot.Offset + 100, slot.Offset + slot.Size - 1, h.PayloadOffset - 1, h.PayloadOffset + 511}
		for _, n := range cuts {
			if n >= int64(len(img)) {
				continue
			}
			t.Run(fmt.Sprintf("v%d/%d", h.Version, n), func(t *testing.T) {
				in := img[:n]
				_, err := luks.Decrypt(io.Discard, bytes.NewReader(in), pass)
				if !errors.Is(err, luks.ErrCorrupt) && !errors.Is(err, luks.ErrNotLUKS) {
					t.Errorf("Decrypt: %v", err)
				}
				v, err := luks.Open(bytes.NewReader(in), pass)
				if err == nil {
					// Only a cut inside the payload may open; then the
					// volume is shorter.
					if n < h.PayloadOffset || v.Size() != (n-h.PayloadOffset)/512*512 {
						t.Errorf("opened a %d-byte cut with size %d", n, v.Size())
					}
				} else if !errors.Is(err, luks.ErrCorrupt) && !errors.Is(err, luks.ErrNotLUKS) {
					t.Errorf("Open: %v", err)
				}
			})
		}
	}
}

// header1Fields corrupts each LUKS1 field in turn.
func TestCorruptLUKS1(t *testing.T) {
	pass := []byte("pass")
	img := encrypt(t, pass, randBytes(t, 512), opts(luks.WithKeySize(256))...)
	put32 := func(off int, v uint32) func([]byte) {
		return func(b []byte) { binary.BigEndian.PutUint32(b[off:], v) }
	}
	cases := []struct {
		name  string
		edit  func([]byte)
		want  error
		words string
	}{
		{"version 3", func(b []byte) { b[7] = 3 }, luks.ErrUnsupported, "version 3"},
		{"empty cipher", func(b []byte) { clear(b[8:40]) }, luks.ErrCorrupt, "cipher"},
		{"serpent", func(b []byte) { copy(b[8:40], "serpent\x00") }, luks.ErrUnsupported, "serpent-xts-plain64"},
		{"mode", func(b []byte) { copy(b[40:72], "xts-benbi\x00\x00") }, luks.ErrUnsupported, "xts-benbi"},
		{"hash", func(b []byte) { copy(b[72:104], "md5\x00") }, luks.ErrUnsupported, "md5"},
		{"key bytes 0", put32(108, 0), luks.ErrCorrupt, "key size"},
		{"key bytes huge", put32(108, 1<<20), luks.ErrCorrupt, "key size"},
		{"key bytes 48", put32(108, 48), luks.ErrCorrupt, ""},
		{"digest iterations", put32(164, 0), luks.ErrCorrupt, "digest iterations"},
		{"digest", func(b []byte) { b[112] ^= 1 }, luks.ErrWrongPassphrase, ""},
		{"slot state", put32(208, 0x12345678), luks.ErrCorrupt, "state"},
		{"slot iterations", put32(212, 0), luks.ErrCorrupt, "iterations"},
		{"slot salt", func(b []byte) { b[216] ^= 1 }, luks.ErrWrongPassphrase, ""},
		{"slot offset 0", put32(248, 0), luks.ErrCorrupt, "overlaps the header"},
		{"slot overlap", put32(248+48, 9), luks.ErrCorrupt, "overlap"},
		{"stripes", put32(252, 3999), luks.ErrCorrupt, "stripes"},
		{"payload before material", put32(104, 100), luks.ErrCorrupt, "past the payload"},
		{"material", func(b []byte) { b[8*512+7] ^= 1 }, luks.ErrWrongPassphrase, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := bytes.Clone(img)
			c.edit(b)
			_, err := luks.Open(bytes.NewReader(b), pass)
			if !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.words) {
				t.Fatalf("Open = %v, want %v mentioning %q", err, c.want, c.words)
			}
			var ce *luks.CorruptError
			var ue *luks.UnsupportedError
			if c.want == luks.ErrCorrupt && !errors.As(err, &ce) {
				t.Errorf("%v is not a *CorruptError", err)
			}
			if c.want == luks.ErrUnsupported && !errors.As(err, &ue) {
				t.Errorf("%v is not an *UnsupportedError", err)
			}
		})
	}
}

// resum recomputes the checksum of the LUKS2 header copy at off.
func resum(b []byte, off int) {
	size := int(binary.BigEndian.Uint64(b[off+8:]))
	clear(b[off+448 : off+512])
	s := sha256.Sum256(b[off : off+size])
	copy(b[off+448:], s[:])
}

// setJSON replaces the JSON of both copies and fixes their checksums.
func setJSON(b []byte, js string) {
	for _, off := range []int{0, 16384} {
		area := b[off+4096 : off+16384]
		clear(area)
		copy(area, js)
		resum(b, off)
	}
}

func jsonOf(b []byte) string {
	js := b[4096:16384]
	return string(js[:bytes.IndexByte(js, 0)])
}

func TestCorruptLUKS2(t *testing.T) {
	pass := []byte("pass")
	plain := randBytes(t, 4096)
	img := encrypt(t, pass, plain, fastArgon...)
	open := func(b []byte) error {
		v, err := luks.Open(bytes.NewReader(b), pass)
		if err == nil {
			got := make([]byte, len(plain))
			if _, err := v.ReadAt(got, 0); err != nil || !bytes.Equal(got, plain) {
				return fmt.Errorf("wrong plaintext (%v)", err)
			}
		}
		return err
	}
	t.Run("primary damaged", func(t *testing.T) {
		b := bytes.Clone(img)
		b[4096+10] ^= 1
		if err := open(b); err != nil {
			t.Fatalf("the secondary copy should serve: %v", err)
		}
	})
	t.Run("secondary damaged", func(t *testing.T) {
		b := bytes.Clone(img)
		b[16384+4096+10] ^= 1
		if err := open(b); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("both damaged", func(t *testing.T) {
		b := bytes.Clone(img)
		b[4096+10] ^= 1
		b[16384+100] ^= 1
		if err := open(b); !errors.Is(err, luks.ErrCorrupt) || !strings.Contains(err.Error(), "checksum") {
			t.Fatalf("Open = %v, want a checksum error", err)
		}
	})
	t.Run("newer secondary wins", func(t *testing.T) {
		b := bytes.Clone(img)
		js := jsonOf(b)
		binary.BigEndian.PutUint64(b[16384+16:], 9)
		area := b[16384+4096 : 2*16384]
		clear(area)
		copy(area, strings.Replace(js, `"sector_size":512`, `"sector_size":4096`, 1))
		resum(b, 16384)
		h, err := luks.ReadHeader(bytes.NewReader(b))
		if err != nil || h.SectorSize != 4096 || h.Epoch != 9 {
			t.Fatalf("ReadHeader = %+v, %v; want the secondary copy", h, err)
		}
	})
	js := jsonOf(img)
	cases := []struct {
		name, old, new string
		want           error
		words          string
	}{
		{"not json", `{"keyslots"`, `{"keyslots"}`, luks.ErrCorrupt, "JSON"},
		{"json size", `"json_size":"12288"`, `"json_size":"4096"`, luks.ErrCorrupt, "json_size"},
		{"requirements", `"keyslots_size":"16744448"`, `"keyslots_size":"16744448","requirements":{"mandatory":["online-reencrypt"]}`, luks.ErrUnsupported, "online-reencrypt"},
		{"two segments", `"segments":{"0":`, `"segments":{"1":{"type":"crypt","offset":"16777216","size":"dynamic","iv_tweak":"0","encryption":"aes-xts-plain64","sector_size":512},"0":`, luks.ErrUnsupported, "segments"},
		{"sector size", `"sector_size":512`, `"sector_size":513`, luks.ErrCorrupt, "sector_size"},
		{"segment offset", `"offset":"16777216"`, `"offset":"16384"`, luks.ErrCorrupt, "segment offset"},
		{"segment size", `"size":"dynamic"`, `"size":"big"`, luks.ErrCorrupt, "segment size"},
		{"cipher", `"encryption":"aes-xts-plain64","sector_size"`, `"encryption":"serpent-xts-plain64","sector_size"`, luks.ErrUnsupported, "serpent"},
		{"keyslot area", `"offset":"32768"`, `"offset":"16700000"`, luks.ErrCorrupt, "outside"},
		{"keyslot id", `"keyslots":{"0"`, `"keyslots":{"x"`, luks.ErrCorrupt, "id"},
		{"kdf", `"type":"argon2id"`, `"type":"scrypt"`, luks.ErrUnsupported, "scrypt"},
		{"argon memory", `"memory":32`, `"memory":1`, luks.ErrCorrupt, "memory"},
		{"stripes", `"stripes":4000`, `"stripes":0`, luks.ErrCorrupt, "splitter"},
		{"digest type", `"type":"pbkdf2","keyslots"`, `"type":"hmac","keyslots"`, luks.ErrUnsupported, "hmac"},
		{"digest keyslot", `"keyslots":["0"]`, `"keyslots":["7"]`, luks.ErrCorrupt, "missing keyslot"},
		{"digest unlinked", `"keyslots":["0"]`, `"keyslots":[]`, luks.ErrWrongPassphrase, ""},
		{"integrity", `"sector_size":512}`, `"sector_size":512,"integrity":{"type":"hmac(sha256)"}}`, luks.ErrUnsupported, "integrity"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if !strings.Contains(js, c.old) {
				t.Fatalf("test JSON lacks %q", c.old)
			}
			b := bytes.Clone(img)
			setJSON(b, strings.Replace(js, c.old, c.new, 1))
			err := open(b)
			if !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.words) {
				t.Fatalf("Open = %v, want %v mentioning %q", err, c.want, c.words)
			}
		})
	}
}

func TestDecryptErrors(t *testing.T) {
	pass := []byte("pass")
	plain := randBytes(t, 4096)
	img := encrypt(t, pass, plain, opts()...)
	t.Run("partial sector", func(t *testing.T) {
		var out bytes.Buffer
		n, err := luks.Decrypt(&out, iotest.HalfReader(bytes.NewReader(img[:len(img)-100])), pass, luks.WithBatchSize(1024))
		if !errors.Is(err, luks.ErrCorrupt) {
			t.Fatalf("Decrypt = %v, want ErrCorrupt", err)
		}
		// The whole sectors before the tear come out right, nothing else.
		if n != 3584 || !bytes.Equal(out.Bytes(), plain[:3584]) {
			t.Fatalf("Decrypt wrote %d bytes before the torn sector, want the 3584 intact ones", n)
		}
	})
	t.Run("cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := luks.DecryptContext(ctx, io.Discard, bytes.NewReader(img), pass)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("DecryptContext = %v, want context.Canceled", err)
		}
		if _, err := luks.OpenContext(ctx, bytes.NewReader(img), pass); !errors.Is(err, context.Canceled) {
			t.Fatalf("OpenContext = %v, want context.Canceled", err)
		}
	})
	t.Run("reader error", func(t *testing.T) {
		boom := errors.New("boom")
		r := io.MultiReader(bytes.NewReader(img[:len(img)-2048]), errReader{boom})
		if _, err := luks.Decrypt(io.Discard, r, pass); !errors.Is(err, boom) {
			t.Fatalf("Decrypt = %v, want the reader's error", err)
		}
	})
	t.Run("writer error", func(t *testing.T) {
		if _, err := luks.Decrypt(failWriter{}, bytes.NewReader(img), pass); !errors.Is(err, errFail) {
			t.Fatalf("Decrypt = %v, want the writer's error", err)
		}
	})
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

var errFail = errors.New("disk full")

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errFail }

// limitWriter fails after n bytes.
type limitWriter struct{ n int }

func (l *limitWriter) Write(p []byte) (int, error) {
	if len(p) > l.n {
		k := l.n
		l.n = 0
		return k, errFail
	}
	l.n -= len(p)
	return len(p), nil
}

func TestWriterErrors(t *testing.T) {
	pass := []byte("pass")
	if _, err := luks.NewWriter(failWriter{}, pass, opts()...); !errors.Is(err, errFail) {
		t.Fatalf("NewWriter on a failing dst = %v", err)
	}
	w, err := luks.NewWriter(&limitWriter{n: 2 << 20}, pass, opts(luks.WithBatchSize(4096))...)
	if err != nil {
		t.Fatal(err)
	}
	chunk := make([]byte, 64<<10)
	var werr error
	for range 100 {
		if _, werr = w.Write(chunk); werr != nil {
			break
		}
	}
	cerr := w.Close()
	if !errors.Is(werr, errFail) && !errors.Is(cerr, errFail) {
		t.Fatalf("Write = %v, Close = %v; want the dst error", werr, cerr)
	}
	if _, err := w.Write(chunk); err == nil {
		t.Fatal("Write after a failed Close succeeded")
	}
	for _, bad := range []luks.Option{
		luks.WithVersion(3), luks.WithKeySize(128), luks.WithHash("md5"), luks.WithIterTime(0),
		luks.WithIterations(0), luks.WithPBKDF("scrypt"), luks.WithArgon2(0, 1024, 1), luks.WithSectorSize(1024),
		luks.WithLabel(strings.Repeat("x", 48)), luks.WithWorkers(0), luks.WithVolumeKey(make([]byte, 16)),
		luks.WithLayout(7), luks.WithUUID("nope"), luks.WithBatchSize(0),
	} {
		if _, err := luks.NewWriter(io.Discard, pass, bad); err == nil {
			t.Error("NewWriter accepted a bad option")
		}
	}
	if _, err := luks.NewWriter(io.Discard, pass, luks.WithIterations(999)); err == nil {
		t.Error("NewWriter accepted 999 PBKDF2 iterations")
	}
}

func TestWriterClosed(t *testing.T) {
	w, err := luks.NewWriter(io.Discard, []byte("p"), opts()...)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("second Close = %v", err)
	}
	if _, err := w.Write([]byte("x")); !errors.Is(err, luks.ErrClosed) {
		t.Fatalf("Write after Close = %v, want ErrClosed", err)
	}
}
