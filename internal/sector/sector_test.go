package sector_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"
	"testing/iotest"
	"time"

	"github.com/e2eimage/e2e/internal/sector"
)

const unit = 512

// xorUnits is an involutive test transform whose output depends on the unit
// number, so a batch placed out of order or numbered wrongly is detected.
// It fails the test if a batch is not made of whole units.
func xorUnits(t testing.TB, unitSize int) sector.Transform {
	return func(buf []byte, first uint64) {
		if len(buf) == 0 || len(buf)%unitSize != 0 {
			t.Errorf("transform got %d bytes, not whole %d-byte units", len(buf), unitSize)
			return
		}
		for u := 0; u < len(buf)/unitSize; u++ {
			xorUnit(buf[u*unitSize:(u+1)*unitSize], first+uint64(u))
		}
	}
}

func xorUnit(b []byte, n uint64) {
	k := byte(n*131 + 17)
	for i := range b {
		b[i] ^= k + byte(i*7) + byte(n>>8)
	}
}

// reference applies the transform sequentially to data padded to whole units.
func reference(data []byte, unitSize int, first uint64) []byte {
	out := append([]byte(nil), data...)
	if r := len(out) % unitSize; r != 0 {
		out = append(out, make([]byte, unitSize-r)...)
	}
	for u := 0; u < len(out)/unitSize; u++ {
		xorUnit(out[u*unitSize:(u+1)*unitSize], first+uint64(u))
	}
	return out
}

func randomData(n int, seed uint64) []byte {
	b := make([]byte, n)
	r := rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8)})
	r.Read(b)
	return b
}

// checkNoLeak fails if goroutines started during the test are still alive.
func checkNoLeak(t *testing.T) {
	t.Helper()
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		deadline := time.Now().Add(5 * time.Second)
		for runtime.NumGoroutine() > before {
			if time.Now().After(deadline) {
				buf := make([]byte, 1<<16)
				t.Errorf("goroutine leak: %d before, %d after\n%s", before, runtime.NumGoroutine(), buf[:runtime.Stack(buf, true)])
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	})
}

var sizes = func() []int {
	const batch = 4096
	return []int{0, 1, unit - 1, unit, unit + 1, batch - 1, batch, batch + 1, 3*batch + unit/2, 3<<20 + 5}
}()

// writeMethods feed data into a sector.Writer in different shapes.
var writeMethods = map[string]func(w *sector.Writer, data []byte) error{
	"Write": func(w *sector.Writer, data []byte) error {
		_, err := w.Write(data)
		return err
	},
	"Write1": func(w *sector.Writer, data []byte) error {
		for i := range data {
			if _, err := w.Write(data[i : i+1]); err != nil {
				return err
			}
		}
		return nil
	},
	"Write511":  func(w *sector.Writer, data []byte) error { return writeChunks(w, data, unit-1) },
	"Write7777": func(w *sector.Writer, data []byte) error { return writeChunks(w, data, 7777) },
	"ReadFrom": func(w *sector.Writer, data []byte) error {
		n, err := w.ReadFrom(bytes.NewReader(data))
		return checkN(n, len(data), err)
	},
	"ReadFromOneByte": func(w *sector.Writer, data []byte) error {
		n, err := w.ReadFrom(iotest.OneByteReader(bytes.NewReader(data)))
		return checkN(n, len(data), err)
	},
	"ReadFromHalf": func(w *sector.Writer, data []byte) error {
		n, err := w.ReadFrom(iotest.HalfReader(bytes.NewReader(data)))
		return checkN(n, len(data), err)
	},
	"ReadFromDataErr": func(w *sector.Writer, data []byte) error {
		n, err := w.ReadFrom(iotest.DataErrReader(bytes.NewReader(data)))
		return checkN(n, len(data), err)
	},
	"WriteThenReadFrom": func(w *sector.Writer, data []byte) error {
		h := len(data) / 3
		if _, err := w.Write(data[:h]); err != nil {
			return err
		}
		n, err := w.ReadFrom(bytes.NewReader(data[h:]))
		return checkN(n, len(data)-h, err)
	},
}

func writeChunks(w *sector.Writer, data []byte, size int) error {
	for len(data) > 0 {
		n := min(size, len(data))
		m, err := w.Write(data[:n])
		if err != nil {
			return err
		}
		if m != n {
			return fmt.Errorf("Write returned %d, want %d", m, n)
		}
		data = data[n:]
	}
	return nil
}

func checkN(n int64, want int, err error) error {
	if err != nil {
		return err
	}
	if n != int64(want) {
		return fmt.Errorf("ReadFrom returned %d, want %d", n, want)
	}
	return nil
}

func TestWriterRoundTrip(t *testing.T) {
	for _, size := range sizes {
		data := randomData(size, uint64(size))
		for name, write := range writeMethods {
			if name == "Write1" && size > 1<<16 {
				continue
			}
			for _, workers := range []int{1, 3} {
				t.Run(fmt.Sprintf("size=%d/%s/workers=%d", size, name, workers), func(t *testing.T) {
					checkNoLeak(t)
					const first = 1000
					var out bytes.Buffer
					o := sector.Options{Workers: workers, BatchSize: 4096, FirstUnit: first}
					if size > 1<<20 {
						o.BatchSize = 0 // the default batch size
					}
					w := sector.NewWriter(&out, unit, xorUnits(t, unit), o)
					if err := write(w, data); err != nil {
						t.Fatal(err)
					}
					if err := w.Close(); err != nil {
						t.Fatal(err)
					}
					want := reference(data, unit, first)
					if !bytes.Equal(out.Bytes(), want) {
						t.Fatalf("output differs from the sequential reference (got %d bytes, want %d)", out.Len(), len(want))
					}
					if got := w.Units(); got != uint64(len(want)/unit) {
						t.Errorf("Units() = %d, want %d", got, len(want)/unit)
					}
					// And back: the Reader undoes it.
					r := sector.NewReader(bytes.NewReader(out.Bytes()), unit, xorUnits(t, unit), o)
					back, err := io.ReadAll(r)
					if err != nil {
						t.Fatal(err)
					}
					padded := append(append([]byte(nil), data...), make([]byte, len(want)-len(data))...)
					if !bytes.Equal(back, padded) {
						t.Fatal("Reader did not restore the padded input")
					}
				})
			}
		}
	}
}

// readMethods drain a sector.Reader in different shapes.
var readMethods = map[string]func(r *sector.Reader) ([]byte, error){
	"ReadAll": func(r *sector.Reader) ([]byte, error) { return io.ReadAll(r) },
	"OneByte": func(r *sector.Reader) ([]byte, error) { return io.ReadAll(iotest.OneByteReader(r)) },
	"Half":    func(r *sector.Reader) ([]byte, error) { return io.ReadAll(iotest.HalfReader(r)) },
	"WriteTo": func(r *sector.Reader) ([]byte, error) {
		var b bytes.Buffer
		_, err := r.WriteTo(&b)
		return b.Bytes(), err
	},
	"Read1000": func(r *sector.Reader) ([]byte, error) {
		var out []byte
		p := make([]byte, 1000)
		for {
			n, err := r.Read(p)
			out = append(out, p[:n]...)
			if err == io.EOF {
				return out, nil
			}
			if err != nil {
				return out, err
			}
		}
	},
}

// srcWrappers present the Reader's source in different shapes.
var srcWrappers = map[string]func(io.Reader) io.Reader{
	"plain":   func(r io.Reader) io.Reader { return r },
	"OneByte": iotest.OneByteReader,
	"Half":    iotest.HalfReader,
	"DataErr": iotest.DataErrReader,
}

func TestReaderRoundTrip(t *testing.T) {
	for _, size := range sizes {
		size -= size % unit // a Reader takes whole units only
		data := randomData(size, uint64(size)+1)
		enc := reference(data, unit, 7)
		for rname, read := range readMethods {
			for sname, wrap := range srcWrappers {
				if (rname == "OneByte" || sname == "OneByte") && size > 1<<16 {
					continue // too slow under -race, and nothing new to learn
				}
				for _, workers := range []int{1, 4} {
					t.Run(fmt.Sprintf("size=%d/%s/src=%s/workers=%d", size, rname, sname, workers), func(t *testing.T) {
						checkNoLeak(t)
						o := sector.Options{Workers: workers, BatchSize: 4096, FirstUnit: 7}
						r := sector.NewReader(wrap(bytes.NewReader(enc)), unit, xorUnits(t, unit), o)
						got, err := read(r)
						if err != nil {
							t.Fatal(err)
						}
						if !bytes.Equal(got, data) {
							t.Fatalf("got %d bytes that differ from the %d-byte input", len(got), len(data))
						}
						if n, err := r.Read(make([]byte, 10)); n != 0 || err != io.EOF {
							t.Errorf("Read after the end = %d, %v; want 0, EOF", n, err)
						}
					})
				}
			}
		}
	}
}

func TestReaderTrailingPartialUnit(t *testing.T) {
	for _, size := range []int{1, unit - 1, unit + 1, 4096 + 100, 3*4096 + unit + 3} {
		t.Run(fmt.Sprintf("size=%d", size), func(t *testing.T) {
			checkNoLeak(t)
			data := randomData(size, 3)
			r := sector.NewReader(bytes.NewReader(data), unit, xorUnits(t, unit), sector.Options{Workers: 2, BatchSize: 4096})
			got, err := io.ReadAll(r)
			if !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Fatalf("err = %v, want io.ErrUnexpectedEOF", err)
			}
			whole := size - size%unit
			if want := reference(data[:whole], unit, 0); !bytes.Equal(got, want) {
				t.Fatalf("got %d bytes before the error, want the %d whole units' worth", len(got), whole)
			}
			if _, err2 := r.Read(make([]byte, 1)); !errors.Is(err2, io.ErrUnexpectedEOF) {
				t.Errorf("error is not sticky: second Read returned %v", err2)
			}
		})
	}
}

func TestReaderSourceError(t *testing.T) {
	checkNoLeak(t)
	boom := errors.New("disk on fire")
	data := randomData(3*4096, 4)
	src := io.MultiReader(bytes.NewReader(data), iotest.ErrReader(boom))
	r := sector.NewReader(src, unit, xorUnits(t, unit), sector.Options{Workers: 2, BatchSize: 4096})
	got, err := io.ReadAll(r)
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want %v", err, boom)
	}
	if !bytes.Equal(got, reference(data, unit, 0)) {
		t.Fatalf("got %d bytes before the error, want all %d read before it", len(got), len(data))
	}
	var b bytes.Buffer
	if _, err := r.WriteTo(&b); !errors.Is(err, boom) {
		t.Errorf("WriteTo after the error = %v, want %v", err, boom)
	}
}

func TestReaderWriteToDstError(t *testing.T) {
	checkNoLeak(t)
	data := randomData(10*4096, 5)
	r := sector.NewReader(bytes.NewReader(data), unit, xorUnits(t, unit), sector.Options{Workers: 2, BatchSize: 4096})
	defer r.Close()
	dst := &failingWriter{limit: 5000}
	n, err := r.WriteTo(dst)
	if !errors.Is(err, errDstFull) {
		t.Fatalf("err = %v, want %v", err, errDstFull)
	}
	if n != 4096 {
		t.Errorf("WriteTo reported %d bytes written, want 4096 (one whole batch)", n)
	}
}

func TestReaderCloseEarly(t *testing.T) {
	checkNoLeak(t)
	data := randomData(64*4096, 6)
	r := sector.NewReader(bytes.NewReader(data), unit, xorUnits(t, unit), sector.Options{Workers: 3, BatchSize: 4096})
	p := make([]byte, 100)
	if _, err := io.ReadFull(r, p); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(p, reference(data[:unit], unit, 0)[:100]) {
		t.Fatal("wrong first bytes")
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Read(p); !errors.Is(err, sector.ErrClosed) {
		t.Errorf("Read after Close = %v, want ErrClosed", err)
	}
	if err := r.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}
	// Closing a Reader that never started is fine too.
	if err := sector.NewReader(bytes.NewReader(data), unit, xorUnits(t, unit), sector.Options{}).Close(); err != nil {
		t.Error(err)
	}
}

var errDstFull = errors.New("dst full")

// failingWriter accepts limit bytes, then fails every Write.
type failingWriter struct {
	mu    sync.Mutex
	limit int
	got   bytes.Buffer
	calls int
}

func (f *failingWriter) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.got.Len()+len(p) > f.limit {
		return 0, errDstFull
	}
	return f.got.Write(p)
}

func TestWriterDstFailsMidway(t *testing.T) {
	for name, write := range writeMethods {
		if name == "Write1" {
			continue
		}
		t.Run(name, func(t *testing.T) {
			checkNoLeak(t)
			dst := &failingWriter{limit: 3 * 4096}
			w := sector.NewWriter(dst, unit, xorUnits(t, unit), sector.Options{Workers: 2, BatchSize: 4096})
			data := randomData(1<<20, 7)
			werr := write(w, data) // may or may not see the error, depending on timing
			if werr != nil && !errors.Is(werr, errDstFull) {
				t.Fatalf("write error = %v, want %v", werr, errDstFull)
			}
			if err := w.Close(); !errors.Is(err, errDstFull) {
				t.Fatalf("Close = %v, want %v", err, errDstFull)
			}
			if _, err := w.Write([]byte{1}); !errors.Is(err, errDstFull) {
				t.Errorf("Write after failure = %v, want the sticky %v", err, errDstFull)
			}
			if _, err := w.ReadFrom(bytes.NewReader([]byte{1})); !errors.Is(err, errDstFull) {
				t.Errorf("ReadFrom after failure = %v, want the sticky %v", err, errDstFull)
			}
			if err := w.Close(); !errors.Is(err, errDstFull) {
				t.Errorf("second Close = %v, want %v", err, errDstFull)
			}
			if want := reference(data[:3*4096], unit, 0); !bytes.Equal(dst.got.Bytes(), want) {
				t.Errorf("dst holds %d bytes; want the first 3 batches intact", dst.got.Len())
			}
			if dst.calls != 4 {
				t.Errorf("dst.Write called %d times; want 4 (no writes after the first failure)", dst.calls)
			}
		})
	}
}

type shortWriter struct{}

func (shortWriter) Write(p []byte) (int, error) { return len(p) / 2, nil }

func TestWriterShortWrite(t *testing.T) {
	checkNoLeak(t)
	w := sector.NewWriter(shortWriter{}, unit, xorUnits(t, unit), sector.Options{})
	if _, err := w.Write(make([]byte, 3*unit)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); !errors.Is(err, io.ErrShortWrite) {
		t.Fatalf("Close = %v, want io.ErrShortWrite", err)
	}
}

func TestWriterReadFromSourceError(t *testing.T) {
	checkNoLeak(t)
	boom := errors.New("source broke")
	var out bytes.Buffer
	w := sector.NewWriter(&out, unit, xorUnits(t, unit), sector.Options{Workers: 2, BatchSize: 4096})
	data := randomData(5000, 8)
	n, err := w.ReadFrom(io.MultiReader(bytes.NewReader(data[:3000]), iotest.ErrReader(boom)))
	if !errors.Is(err, boom) || n != 3000 {
		t.Fatalf("ReadFrom = %d, %v; want 3000, %v", n, err, boom)
	}
	// A source error is the caller's to handle: the Writer stays usable.
	if _, err := w.Write(data[3000:]); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out.Bytes(), reference(data, unit, 0)) {
		t.Fatal("output differs from the reference")
	}
}

func TestWriterClosed(t *testing.T) {
	checkNoLeak(t)
	var out bytes.Buffer
	w := sector.NewWriter(&out, unit, xorUnits(t, unit), sector.Options{})
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if out.Len() != 0 || w.Units() != 0 {
		t.Fatalf("empty stream wrote %d bytes, %d units", out.Len(), w.Units())
	}
	if _, err := w.Write([]byte{1}); !errors.Is(err, sector.ErrClosed) {
		t.Errorf("Write after Close = %v, want ErrClosed", err)
	}
	if _, err := w.ReadFrom(bytes.NewReader([]byte{1})); !errors.Is(err, sector.ErrClosed) {
		t.Errorf("ReadFrom after Close = %v, want ErrClosed", err)
	}
	if err := w.Close(); err != nil {
		t.Errorf("second Close = %v, want nil", err)
	}
}

// TestOrdering makes every transform sleep a random time, so batches finish
// out of order, and checks the output is still in stream order.
func TestOrdering(t *testing.T) {
	data := randomData(40*unit, 9)
	for workers := 1; workers <= 8; workers++ {
		t.Run(fmt.Sprintf("workers=%d", workers), func(t *testing.T) {
			t.Parallel()
			var mu sync.Mutex
			rng := rand.New(rand.NewPCG(uint64(workers), 1))
			base := xorUnits(t, unit)
			slow := func(buf []byte, first uint64) {
				mu.Lock()
				d := time.Duration(rng.IntN(2000)) * time.Microsecond
				mu.Unlock()
				time.Sleep(d)
				base(buf, first)
			}
			o := sector.Options{Workers: workers, BatchSize: 2 * unit}
			var enc bytes.Buffer
			w := sector.NewWriter(&enc, unit, slow, o)
			if _, err := w.Write(data); err != nil {
				t.Fatal(err)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(enc.Bytes(), reference(data, unit, 0)) {
				t.Fatal("Writer output out of order")
			}
			back, err := io.ReadAll(sector.NewReader(&enc, unit, slow, o))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(back, data) {
				t.Fatal("Reader output out of order")
			}
		})
	}
}

func TestBatchSizeRounding(t *testing.T) {
	for _, tc := range []struct{ unit, batch, want int }{
		{512, 1000, 512},
		{512, 100, 512}, // at least one unit
		{512, 4096, 4096},
		{4096, 10000, 8192},
		{512, 0, sector.DefaultBatchSize},
	} {
		t.Run(fmt.Sprintf("unit=%d/batch=%d", tc.unit, tc.batch), func(t *testing.T) {
			var mu sync.Mutex
			largest := 0
			tr := func(buf []byte, first uint64) {
				if len(buf)%tc.unit != 0 {
					t.Errorf("batch of %d bytes is not whole units", len(buf))
				}
				mu.Lock()
				largest = max(largest, len(buf))
				mu.Unlock()
			}
			w := sector.NewWriter(io.Discard, tc.unit, tr, sector.Options{BatchSize: tc.batch})
			if _, err := w.Write(make([]byte, 3*sector.DefaultBatchSize)); err != nil {
				t.Fatal(err)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			if largest != tc.want {
				t.Errorf("largest batch = %d bytes, want %d", largest, tc.want)
			}
		})
	}
}

func TestProgress(t *testing.T) {
	checkNoLeak(t)
	data := randomData(10*4096+100, 10)
	var seen []int64
	o := sector.Options{Workers: 3, BatchSize: 4096, Progress: func(n int64) { seen = append(seen, n) }}
	var enc bytes.Buffer
	w := sector.NewWriter(&enc, unit, xorUnits(t, unit), o)
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	checkProgress(t, "Writer", seen, int64(enc.Len()))

	seen = nil
	if _, err := io.Copy(io.Discard, sector.NewReader(&enc, unit, xorUnits(t, unit), o)); err != nil {
		t.Fatal(err)
	}
	checkProgress(t, "Reader", seen, int64(len(reference(data, unit, 0))))
}

func checkProgress(t *testing.T, who string, seen []int64, total int64) {
	t.Helper()
	if len(seen) == 0 || seen[len(seen)-1] != total {
		t.Fatalf("%s progress %v does not end at %d", who, seen, total)
	}
	for i := 1; i < len(seen); i++ {
		if seen[i] <= seen[i-1] {
			t.Fatalf("%s progress not increasing: %v", who, seen)
		}
	}
}

// TestSteadyStateAllocs checks batch buffers are recycled: once the pool is
// warm, pushing more batches through allocates nothing.
func TestSteadyStateAllocs(t *testing.T) {
	if testing.Short() {
		t.Skip("allocation counting is noisy in -short runs")
	}
	w := sector.NewWriter(io.Discard, unit, func([]byte, uint64) {}, sector.Options{Workers: 2, BatchSize: 4096})
	chunk := make([]byte, 4096)
	for range 20 { // warm up every slot
		if _, err := w.Write(chunk); err != nil {
			t.Fatal(err)
		}
	}
	allocs := testing.AllocsPerRun(200, func() {
		if _, err := w.Write(chunk); err != nil {
			t.Fatal(err)
		}
	})
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if allocs > 0.1 {
		t.Errorf("%.2f allocations per batch in steady state, want 0", allocs)
	}
}

func TestBadUnitSize(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("NewWriter with unit size 0 did not panic")
		}
	}()
	sector.NewWriter(io.Discard, 0, func([]byte, uint64) {}, sector.Options{})
}
