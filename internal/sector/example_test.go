package sector_test

import (
	"bytes"
	"fmt"
	"io"
	"strings"

	"github.com/e2eimage/e2e/internal/sector"
)

// A format plugs its tweak scheme in as a Transform; here a toy one that
// stamps each 16-byte unit with its number, to show the numbering.
func ExampleNewWriter() {
	stamp := func(buf []byte, first uint64) {
		for i := 0; i < len(buf); i += 16 {
			buf[i] = byte('0' + first + uint64(i/16))
		}
	}
	var out bytes.Buffer
	w := sector.NewWriter(&out, 16, stamp, sector.Options{Workers: 4, BatchSize: 32, FirstUnit: 1})
	if _, err := io.Copy(w, strings.NewReader(strings.Repeat(".", 70))); err != nil { // uses w.ReadFrom
		fmt.Println(err)
		return
	}
	if err := w.Close(); err != nil { // pads the last unit with zeros
		fmt.Println(err)
		return
	}
	fmt.Println(strings.ReplaceAll(out.String(), "\x00", "_"), w.Units())
	// Output: 1...............2...............3...............4...............5.....__________ 5
}

func ExampleNewReader() {
	upper := func(buf []byte, first uint64) { copy(buf, bytes.ToUpper(buf)) }
	r := sector.NewReader(strings.NewReader("sixteen bytes!!!and sixteen more"), 16, upper, sector.Options{})
	defer r.Close()
	b, err := io.ReadAll(r)
	fmt.Printf("%s %v\n", b, err)
	// Output: SIXTEEN BYTES!!!AND SIXTEEN MORE <nil>
}
