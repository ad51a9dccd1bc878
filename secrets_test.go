package e2e_test

// Secrets (issue 11): a full run, a failed run and its resumption are
// recorded (logs, progress messages, errors, every returned value rendered
// with %v, %+v, %#v, %s and JSON, every file the run wrote) and searched for
// the DEK, the LUKS passphrase, the API key and IAM access tokens, in the
// encodings a leak would take.

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"log"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/IBM/go-sdk-core/v5/core"

	"github.com/e2eimage/e2e"
	"github.com/e2eimage/e2e/e2etest"
	"github.com/e2eimage/e2e/internal/demo"
	"github.com/e2eimage/e2e/keys"
)

// lockedBuffer is a bytes.Buffer safe for the concurrent writes of loggers.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// captureLogs sends the standard logger, slog's default logger and the IBM
// SDK core logger to one buffer until the test ends. The test must not run
// in parallel with others that log.
func captureLogs(t *testing.T) *lockedBuffer {
	t.Helper()
	buf := &lockedBuffer{}
	prevSlog, prevLog, prevFlags, prevCore := slog.Default(), log.Writer(), log.Flags(), core.GetLogger()
	slog.SetDefault(slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
	log.SetOutput(buf) // after slog.SetDefault, which redirects log to the handler
	core.SetLogger(core.NewLogger(core.LevelInfo, log.New(buf, "sdk ", 0), log.New(buf, "sdk ", 0)))
	t.Cleanup(func() {
		slog.SetDefault(prevSlog)
		log.SetOutput(prevLog)
		log.SetFlags(prevFlags)
		core.SetLogger(prevCore)
	})
	return buf
}

// secret is one secret in the forms a leak would take.
type secret struct {
	name  string
	forms map[string]string
}

func bytesSecret(name string, b []byte) secret {
	return secret{name: name, forms: map[string]string{
		"raw":          string(b),
		"base64":       base64.StdEncoding.EncodeToString(b),
		"base64url":    base64.RawURLEncoding.EncodeToString(b),
		"hex":          hex.EncodeToString(b),
		"HEX":          strings.ToUpper(hex.EncodeToString(b)),
		"Go byte list": strings.Trim(fmt.Sprint(b[:min(len(b), 12)]), "[]"),
	}}
}

func textSecret(name, s string) secret {
	return secret{name: name, forms: map[string]string{
		"text":   s,
		"base64": base64.StdEncoding.EncodeToString([]byte(s)),
		"hex":    hex.EncodeToString([]byte(s)),
	}}
}

// tokenPrefix is the start of every access token the emulated IAM issues
// (the base64url JWT header), so any token in any output is found, not
// only the few the test can get hold of.
var tokenPrefix = base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT","kid":"e2etest"}`))

// haystack collects everything observable of a run, labelled.
type haystack struct {
	items []struct{ where, text string }
}

func (h *haystack) add(where, text string) {
	h.items = append(h.items, struct{ where, text string }{where, text})
}

// render adds v as fmt's verbs and JSON print it.
func (h *haystack) render(name string, v any) {
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x"} {
		h.add(name+" "+verb, fmt.Sprintf(verb, v))
	}
	if b, err := json.Marshal(v); err == nil {
		h.add(name+" json", string(b))
	}
}

// leaks returns "secret (form) in where" for every secret found.
func (h *haystack) leaks(secrets []secret) []string {
	var out []string
	for _, it := range h.items {
		for _, s := range secrets {
			for form, text := range s.forms {
				if len(text) >= 8 && strings.Contains(it.text, text) {
					out = append(out, fmt.Sprintf("%s (%s) in %s", s.name, form, it.where))
				}
			}
		}
	}
	return out
}

func TestNoSecretInOutputs(t *testing.T) {
	for _, format := range []e2e.Format{e2e.LUKSRaw, e2e.EncryptedVHD} {
		t.Run(string(format), func(t *testing.T) { testNoSecretInOutputs(t, format) })
	}
}

func testNoSecretInOutputs(t *testing.T, format e2e.Format) {
	logs := captureLogs(t)
	ctx := context.Background()
	cloud := startCloud(t)
	dir := t.TempDir()
	cfg := testConfig(cloud)
	cfg.Image.Format = format
	cfg.COS.Object = "quickstart-ubuntu.luks"
	if format == e2e.EncryptedVHD {
		cfg.COS.Object = "quickstart-ubuntu.vhd-0.vhd"
	}
	cfg.StateFile = filepath.Join(dir, "state", "e2e-state.json")
	cfg.FullVerify = true
	if err := os.MkdirAll(filepath.Dir(cfg.StateFile), 0o700); err != nil {
		t.Fatal(err)
	}
	imgPath := filepath.Join(dir, "image.raw")
	img := demo.Image(3<<20, 21)
	if err := os.WriteFile(imgPath, img, 0o600); err != nil {
		t.Fatal(err)
	}

	h := &haystack{}
	var updMu sync.Mutex
	progress := func(u e2e.Update) {
		updMu.Lock()
		defer updMu.Unlock()
		h.add("progress "+string(u.Stage), fmt.Sprintf("%+v %s", u, u.Message))
	}

	// A first run fails at the import (IBM answers 500 to createFromIcos,
	// whose request carries the API key and the WDEK), a second resumes.
	cloud.InjectFault(e2etest.ServiceSoftLayer, "SoftLayer_Virtual_Guest_Block_Device_Template_Group::createFromIcos",
		e2etest.Fault{Status: 500, Times: 10})
	p, err := e2e.New(cfg, e2e.WithProgress(progress))
	if err != nil {
		t.Fatal(err)
	}
	h.render("pipeline config", cfg)
	h.render("pipeline config pointer", &cfg)
	_, runErr := p.Run(ctx, e2e.FromFile(imgPath))
	if runErr == nil {
		t.Fatal("the run with a failing import succeeded")
	}
	h.render("failed run error", runErr)
	h.render("state after the failure", p.State())
	cloud.ClearFaults()
	res, err := p.Run(ctx, e2e.FromFile(imgPath))
	if err != nil {
		t.Fatalf("resumed run: %v", err)
	}
	h.render("result", res)
	h.render("result value", *res)
	h.render("result state", res.State)
	h.render("result server", res.Server)
	for i, ev := range res.Events {
		h.render(fmt.Sprintf("audit event %d", i), ev)
	}

	// The DEK, as the run used it: unwrapped again from the saved WDEK.
	kc, err := keys.NewClient(keys.Config{Endpoint: cloud.KMSURL, InstanceID: cloud.KPInstanceID, APIKey: cloud.APIKey, IAMURL: cloud.IAMURL})
	if err != nil {
		t.Fatal(err)
	}
	dek, _, err := kc.UnwrapDEK(ctx, res.State.RootKeyID, keys.WDEK(res.State.WDEK))
	if err != nil {
		t.Fatal(err)
	}
	defer dek.Destroy()
	h.render("DEK", dek)
	pass := dek.LUKSPassphrase()
	defer clear(pass)

	// Errors that hold a DEK in their making: verifying with the wrong one.
	other, err := keys.NewDEK(dek.Len())
	if err != nil {
		t.Fatal(err)
	}
	defer other.Destroy()
	st := p.State()
	st.Verified = false
	store := &e2e.MemoryStore{}
	if err := store.Save(ctx, st); err != nil {
		t.Fatal(err)
	}
	pv, err := e2e.New(cfg, e2e.WithStateStore(store))
	if err != nil {
		t.Fatal(err)
	}
	verr := pv.Verify(ctx, other)
	if verr == nil {
		t.Fatal("Verify with another DEK succeeded")
	}
	h.render("wrong-DEK verify error", verr)

	// Logs and every file the runs left in the temporary directory.
	h.add("logs", logs.String())
	var files []string
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		files = append(files, path)
		if path == imgPath {
			return nil // the plain input, which holds no secret
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		h.add("file "+strings.TrimPrefix(path, dir), string(b))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 2 {
		t.Errorf("files under the run's directory: %v, want the image and the state file only (no leftover temporary state)", files)
	}
	fi, err := os.Stat(cfg.StateFile)
	if err != nil {
		t.Fatal(err)
	}
	if mode := fi.Mode().Perm(); mode != 0o600 {
		t.Errorf("state file mode %v, want 0600", mode)
	}

	other2 := other.Bytes()
	secrets := []secret{
		bytesSecret("DEK", dek.Bytes()),
		textSecret("LUKS passphrase", string(pass)),
		bytesSecret("other DEK", other2),
		textSecret("API key", cloud.APIKey),
		textSecret("SoftLayer basic auth", "apikey:"+cloud.APIKey),
		textSecret("HMAC secret", cloud.HMACSecretAccessKey),
		{name: "IAM access token", forms: map[string]string{"JWT header": tokenPrefix}},
	}
	// The scan must be able to fail: a planted secret is found.
	probe := &haystack{}
	probe.add("probe", "x"+base64.StdEncoding.EncodeToString(dek.Bytes())+"x "+cloud.NewToken())
	if got := probe.leaks(secrets); len(got) < 2 {
		t.Fatalf("the scan misses planted secrets: %v", got)
	}
	for _, l := range h.leaks(secrets) {
		t.Errorf("leak: %s", l)
	}
	t.Logf("scanned %d outputs (%d bytes of logs, %d files)", len(h.items), len(logs.String()), len(files))
}

// TestNoSecretInPipelineRenderings prints the values whose %#v shows
// private fields: the Pipeline New returns and the Config it is built from.
func TestNoSecretInPipelineRenderings(t *testing.T) {
	cloud := startCloud(t)
	cfg := testConfig(cloud)
	p, err := e2e.New(cfg, e2e.WithStateStore(&e2e.MemoryStore{}))
	if err != nil {
		t.Fatal(err)
	}
	secrets := []secret{textSecret("API key", cloud.APIKey)}
	for _, c := range []struct {
		name string
		v    any
		bug  string
	}{
		{"Config", cfg, "e2e.Config has String but no GoString, so %#v prints APIKey; add `func (c Config) GoString() string { return c.String() }`"},
		{"*Pipeline", p, "fmt prints *e2e.Pipeline's private fields, including cfg.APIKey; give Pipeline a String (and GoString) that names the run without the config"},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := &haystack{}
			h.render(c.name, c.v)
			if l := h.leaks(secrets); len(l) > 0 {
				t.Errorf("%s: %v", c.bug, l)
			}
		})
	}
}

func TestDEKDestroyZeroes(t *testing.T) {
	src := bytes.Repeat([]byte{0xa7}, 64)
	d, err := keys.DEKFromBytes(src)
	if err != nil {
		t.Fatal(err)
	}
	if &d.Bytes()[0] == &src[0] {
		t.Fatal("DEKFromBytes keeps the caller's slice instead of a copy")
	}
	held := d.Bytes() // the DEK's own memory, as the docs say
	if !bytes.Equal(held, src) {
		t.Fatal("Bytes does not return the DEK")
	}
	pass := d.LUKSPassphrase()
	d.Destroy()
	if !bytes.Equal(held, make([]byte, 64)) {
		t.Errorf("Destroy left key bytes in memory: %x", held)
	}
	if d.Len() != 0 && !bytes.Equal(d.Bytes(), make([]byte, d.Len())) {
		t.Error("Bytes after Destroy returns key material")
	}
	d.Destroy() // twice is safe
	// The passphrase is the caller's copy: still intact, to zero itself.
	if want := base64.StdEncoding.EncodeToString(src); string(pass) != want {
		t.Error("LUKSPassphrase returned a slice that Destroy changed: it must be the caller's copy")
	}
	clear(pass)

	g, err := keys.NewDEK(64)
	if err != nil {
		t.Fatal(err)
	}
	held = g.Bytes()
	if bytes.Equal(held, make([]byte, 64)) {
		t.Fatal("NewDEK made an all-zero key")
	}
	g.Destroy()
	if !bytes.Equal(held, make([]byte, 64)) {
		t.Error("Destroy of a generated DEK left key bytes in memory")
	}
}

// secretCompare matches expressions that name a digest, MAC, hash or key.
var secretCompare = regexp.MustCompile(`(?i)digest|mac\b|hmac|hash|key|sum\(|token|secret|tag`)

// variableTimeCompares lists the bytes.Equal calls of Go source whose
// operands look like digests, MACs or keys: those must use
// crypto/subtle.ConstantTimeCompare or hmac.Equal, so that the time a
// comparison takes does not tell an attacker how many bytes matched.
func variableTimeCompares(fset *token.FileSet, f *ast.File, src []byte) []string {
	var out []string
	ast.Inspect(f, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok {
			return true
		}
		sel, ok := call.Fun.(*ast.SelectorExpr)
		if !ok || sel.Sel.Name != "Equal" {
			return true
		}
		if pkg, ok := sel.X.(*ast.Ident); !ok || pkg.Name != "bytes" {
			return true
		}
		text := string(src[fset.Position(call.Pos()).Offset:fset.Position(call.End()).Offset])
		if secretCompare.MatchString(text) {
			out = append(out, fmt.Sprintf("%s: %s", fset.Position(call.Pos()), text))
		}
		return true
	})
	return out
}

func TestConstantTimeComparisons(t *testing.T) {
	// The check itself must be able to fail.
	fset := token.NewFileSet()
	planted := []byte("package p\nimport \"bytes\"\nfunc f(digest, want []byte) bool { return bytes.Equal(digest, want) }\n")
	pf, err := parser.ParseFile(fset, "planted.go", planted, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := variableTimeCompares(fset, pf, planted); len(got) != 1 {
		t.Fatalf("the check misses a planted bytes.Equal on a digest: %v", got)
	}
	// Every package that handles keys, digests or tokens. (e2etest, the
	// emulator, compares object checksums, which are not secret.)
	for _, dir := range []string{".", "luks", "disk", "keys", "iam", "storage", "image", "provision", "audit", "internal/xts", "internal/sector", "internal/slsession"} {
		paths, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		for _, path := range paths {
			if strings.HasSuffix(path, "_test.go") {
				continue
			}
			src, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			f, err := parser.ParseFile(fset, path, src, 0)
			if err != nil {
				continue // another owner's file mid-edit; the build catches it
			}
			for _, c := range variableTimeCompares(fset, f, src) {
				t.Errorf("variable-time comparison of a secret: %s (use crypto/subtle.ConstantTimeCompare)", c)
			}
		}
	}
}
