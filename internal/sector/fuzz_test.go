package sector_test

import (
	"bytes"
	"io"
	"testing"

	"github.com/e2eimage/e2e/internal/sector"
)

// FuzzRoundTrip cuts arbitrary data into arbitrary writes over arbitrary
// batch sizes and worker counts, and checks the Writer matches the
// sequential reference and the Reader undoes it.
func FuzzRoundTrip(f *testing.F) {
	f.Add([]byte{}, uint16(1), uint8(1), uint8(1), uint8(16))
	f.Add(bytes.Repeat([]byte{0xAB}, 1000), uint16(7), uint8(3), uint8(2), uint8(16))
	f.Add(randomData(5000, 1), uint16(511), uint8(8), uint8(1), uint8(64))
	f.Add(randomData(4096, 2), uint16(4096), uint8(2), uint8(4), uint8(32))
	f.Fuzz(func(t *testing.T, data []byte, chunk uint16, workers, batchUnits, unitBlocks uint8) {
		unitSize := 16 * (1 + int(unitBlocks)%32) // 16 … 512 bytes
		o := sector.Options{Workers: 1 + int(workers)%8, BatchSize: unitSize * (1 + int(batchUnits)%16), FirstUnit: uint64(chunk) << 20}
		step := 1 + int(chunk)%(len(data)+1)
		var enc bytes.Buffer
		w := sector.NewWriter(&enc, unitSize, xorUnits(t, unitSize), o)
		for rest := data; len(rest) > 0; {
			n := min(step, len(rest))
			if _, err := w.Write(rest[:n]); err != nil {
				t.Fatal(err)
			}
			rest = rest[n:]
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		want := reference(data, unitSize, o.FirstUnit)
		if !bytes.Equal(enc.Bytes(), want) {
			t.Fatalf("Writer output differs from the reference (%d bytes, unit %d, %+v)", len(data), unitSize, o)
		}
		back, err := io.ReadAll(sector.NewReader(&enc, unitSize, xorUnits(t, unitSize), o))
		if err != nil {
			t.Fatal(err)
		}
		if len(back) != len(want) || !bytes.Equal(back[:len(data)], data) {
			t.Fatal("Reader did not restore the input")
		}
	})
}
