package luks_test

import (
	"bytes"
	"crypto/rand"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/e2eimage/e2e/internal/testtool"
	"github.com/e2eimage/e2e/luks"
)

// fast keeps KDFs cheap so the suite stays quick under -race.
var fast = []luks.Option{luks.WithIterations(1000)}

var fastArgon = []luks.Option{luks.WithVersion(2), luks.WithArgon2(4, 32, 1)}

func opts(extra ...luks.Option) []luks.Option {
	return append(append([]luks.Option{}, fast...), extra...)
}

func randBytes(t testing.TB, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// encrypt makes an image of plain with the options.
func encrypt(t testing.TB, pass, plain []byte, o ...luks.Option) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := luks.NewWriter(&buf, pass, o...)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(plain); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func writeFile(t testing.TB, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// run runs a tool and returns its combined output, failing on error.
func run(t testing.TB, tool string, args ...string) string {
	t.Helper()
	out, err := exec.Command(testtool.Path(t, tool), args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", tool, args, err, out)
	}
	return string(out)
}

// padded is plain rounded up to whole sectors with zeros.
func padded(plain []byte, sector int) []byte {
	n := (len(plain) + sector - 1) / sector * sector
	out := make([]byte, n)
	copy(out, plain)
	return out
}

func execErr(t testing.TB, tool string, args ...string) error {
	t.Helper()
	return exec.Command(testtool.Path(t, tool), args...).Run()
}

// runRetry is run for qemu-img's PBKDF2 calibration, which fails now and
// then with "Unable to get accurate CPU usage" on a busy machine (often
// several times in a row under load, hence 20 tries).
func runRetry(t testing.TB, tool string, args ...string) string {
	t.Helper()
	for i := 0; ; i++ {
		out, err := exec.Command(testtool.Path(t, tool), args...).CombinedOutput()
		if err == nil {
			return string(out)
		}
		if i == 19 || !strings.Contains(string(out), "accurate CPU usage") {
			t.Fatalf("%s %v: %v\n%s", tool, args, err, out)
		}
	}
}

func lookPath(name string) (string, error) { return exec.LookPath(name) }

// memFile is an in-memory io.Writer, io.ReaderAt and io.WriterAt.
type memFile struct{ b []byte }

func newMemFile() *memFile { return &memFile{} }

func (m *memFile) Write(p []byte) (int, error) { m.b = append(m.b, p...); return len(p), nil }

func (m *memFile) ReadAt(p []byte, off int64) (int, error) {
	if off >= int64(len(m.b)) {
		return 0, io.EOF
	}
	n := copy(p, m.b[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func (m *memFile) WriteAt(p []byte, off int64) (int, error) {
	if end := off + int64(len(p)); end > int64(len(m.b)) {
		m.b = append(m.b, make([]byte, end-int64(len(m.b)))...)
	}
	return copy(m.b[off:], p), nil
}

func (m *memFile) Size() int64 { return int64(len(m.b)) }
