package luks_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sync"
	"testing"
	"testing/iotest"

	"github.com/e2eimage/e2e/luks"
)

const smallBatch = 4096

var formats = []struct {
	name   string
	sector int
	o      []luks.Option
}{
	{"luks1", 512, opts(luks.WithBatchSize(smallBatch))},
	{"luks2-512", 512, append(fastArgon, luks.WithBatchSize(smallBatch))},
	{"luks2-4096", 4096, append(fastArgon, luks.WithSectorSize(4096), luks.WithBatchSize(3*4096), luks.WithWorkers(3))},
}

// feed writes plain into w in pieces of size step (0: one Write; -1:
// ReadFrom through a one-byte reader; -2: ReadFrom through a half reader).
func feed(t *testing.T, w *luks.Writer, plain []byte, step int) {
	t.Helper()
	switch step {
	case 0:
		if n, err := w.Write(plain); err != nil || n != len(plain) {
			t.Fatalf("Write = %d, %v", n, err)
		}
	case -1, -2:
		var r io.Reader = bytes.NewReader(plain)
		if step == -1 {
			r = iotest.OneByteReader(r)
		} else {
			r = iotest.HalfReader(r)
		}
		if n, err := w.ReadFrom(r); err != nil || n != int64(len(plain)) {
			t.Fatalf("ReadFrom = %d, %v", n, err)
		}
	default:
		for p := plain; len(p) > 0; {
			n := min(step, len(p))
			if m, err := w.Write(p[:n]); err != nil || m != n {
				t.Fatalf("Write = %d, %v", m, err)
			}
			p = p[n:]
		}
	}
}

// keep trims the matrix to stay fast under -race: LUKS1 gets every size
// with every step up to 64 KiB; LUKS2, whose 16 MiB header makes each case
// dearer, gets the sizes around its sector and batch boundaries.
func keep(format string, size, step int) bool {
	big := size > 64<<10
	if big && step != 0 && step != 4097 && step != -2 {
		return false
	}
	if format == "luks1" {
		return true
	}
	switch size {
	case 0, 1, 4095, 4097, 3*4096 + 1, 1<<20 + 1:
		return step == 0 || step == -2
	case 4096:
		return step == 4097 || step == -1
	}
	return false
}

func TestRoundTrip(t *testing.T) {
	pass := []byte("round trip passphrase")
	sizes := []int{0, 1, 511, 512, 513, smallBatch - 1, smallBatch, smallBatch + 1, 3*4096 + 1, 1<<20 - 1, 1 << 20, 1<<20 + 1, 3<<20 + 17}
	steps := []int{0, 1, 512, 4097, -1, -2}
	for _, f := range formats {
		for _, size := range sizes {
			plain := randBytes(t, size)
			for _, step := range steps {
				if !keep(f.name, size, step) {
					continue
				}
				t.Run(fmt.Sprintf("%s/size=%d/step=%d", f.name, size, step), func(t *testing.T) {
					var img bytes.Buffer
					if f.name != "luks1" {
						img.Grow(17 << 20) // a LUKS2 header area is 16 MiB
					}
					w, err := luks.NewWriter(&img, pass, f.o...)
					if err != nil {
						t.Fatal(err)
					}
					feed(t, w, plain, step)
					if err := w.Close(); err != nil {
						t.Fatal(err)
					}
					want := padded(plain, f.sector)
					if got := w.Written(); got != int64(len(want)) {
						t.Errorf("Written = %d, want %d", got, len(want))
					}
					checkImage(t, img.Bytes(), pass, want)
				})
			}
		}
	}
}

// checkImage opens img three ways (Volume.ReadAt whole and in odd pieces,
// Decrypt) and compares with want.
func checkImage(t *testing.T, img, pass, want []byte) {
	t.Helper()
	v, err := luks.Open(bytes.NewReader(img), pass)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	if v.Size() != int64(len(want)) {
		t.Fatalf("Size = %d, want %d", v.Size(), len(want))
	}
	got := make([]byte, len(want))
	if n, err := v.ReadAt(got, 0); n != len(got) || (err != nil && err != io.EOF) {
		t.Fatalf("ReadAt = %d, %v", n, err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("ReadAt: plaintext differs")
	}
	if len(want) <= 64<<10 { // TestReader's small reads are quadratic-ish
		if err := iotest.TestReader(io.NewSectionReader(v, 0, v.Size()), want); err != nil {
			t.Fatal(err)
		}
	}
	var out bytes.Buffer
	n, err := luks.Decrypt(&out, iotest.HalfReader(bytes.NewReader(img)), pass, luks.WithBatchSize(8192))
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(len(want)) || !bytes.Equal(out.Bytes(), want) {
		t.Fatalf("Decrypt wrote %d bytes, differing from the plaintext", n)
	}
}

func TestVolumeConcurrentReadAt(t *testing.T) {
	pass := []byte("concurrent")
	plain := randBytes(t, 2<<20)
	img := encrypt(t, pass, plain, opts()...)
	v, err := luks.Open(bytes.NewReader(img), pass)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 20 {
				off := int64((g*7919 + i*104729) % len(plain))
				n := min(1+(g*i*613)%(700<<10), len(plain)-int(off))
				buf := make([]byte, n)
				if _, err := v.ReadAt(buf, off); err != nil && err != io.EOF {
					t.Error(err)
					return
				}
				if !bytes.Equal(buf, plain[off:off+int64(n)]) {
					t.Errorf("ReadAt(%d, %d) differs", off, n)
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestVolumeReadAtEdges(t *testing.T) {
	pass := []byte("edges")
	plain := randBytes(t, 4096)
	v, err := luks.Open(bytes.NewReader(encrypt(t, pass, plain, opts()...)), pass)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 100)
	if n, err := v.ReadAt(buf, 4050); n != 46 || err != io.EOF || !bytes.Equal(buf[:46], plain[4050:]) {
		t.Errorf("ReadAt past the end = %d, %v", n, err)
	}
	if n, err := v.ReadAt(buf, 4096); n != 0 || err != io.EOF {
		t.Errorf("ReadAt at the end = %d, %v", n, err)
	}
	if _, err := v.ReadAt(buf, -1); err == nil {
		t.Error("ReadAt(-1) succeeded")
	}
	v.Close()
	if _, err := v.ReadAt(buf, 0); !errors.Is(err, luks.ErrClosed) {
		t.Errorf("ReadAt after Close = %v, want ErrClosed", err)
	}
}

// onlyReaderAt hides Size, so Open must probe the length with ReadAt.
type onlyReaderAt struct{ r io.ReaderAt }

func (o onlyReaderAt) ReadAt(p []byte, off int64) (int, error) { return o.r.ReadAt(p, off) }

func TestOpenProbesSize(t *testing.T) {
	pass := []byte("probe")
	for _, n := range []int{0, 512, 12345, 1 << 20} {
		img := encrypt(t, pass, randBytes(t, n), opts()...)
		v, err := luks.Open(onlyReaderAt{bytes.NewReader(img)}, pass)
		if err != nil {
			t.Fatal(err)
		}
		if want := int64(len(padded(make([]byte, n), 512))); v.Size() != want {
			t.Errorf("probed size %d, want %d", v.Size(), want)
		}
	}
}

func TestProgress(t *testing.T) {
	var calls []int64
	progress := luks.WithProgress(func(n int64) { calls = append(calls, n) })
	plain := randBytes(t, 10*4096+100)
	img := encrypt(t, []byte("p"), plain, opts(progress, luks.WithBatchSize(4096))...)
	if len(calls) < 10 || calls[len(calls)-1] != int64(len(padded(plain, 512))) {
		t.Fatalf("writer progress %v", calls)
	}
	for i := 1; i < len(calls); i++ {
		if calls[i] <= calls[i-1] {
			t.Fatalf("progress went backwards: %v", calls)
		}
	}
	calls = nil
	n, err := luks.Decrypt(io.Discard, bytes.NewReader(img), []byte("p"), progress, luks.WithBatchSize(4096))
	if err != nil || len(calls) == 0 || calls[len(calls)-1] != n {
		t.Fatalf("decrypt progress %v for %d bytes (%v)", calls, n, err)
	}
}
