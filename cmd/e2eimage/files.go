package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
)

// input is the source of a command: a file or standard input.
type input struct {
	r    io.Reader
	f    *os.File // nil for standard input
	size int64    // -1 when unknown (a pipe)
	name string
}

func openInput(e *env, path string) (*input, error) {
	if path == "" {
		return nil, usagef("--in is required")
	}
	if path == "-" {
		in := &input{r: e.stdin, size: -1, name: "standard input"}
		if f, ok := e.stdin.(*os.File); ok {
			in.size = regularSize(f)
		}
		return in, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	return &input{r: f, f: f, size: regularSize(f), name: path}, nil
}

// regularSize returns the size of a regular file, or -1.
func regularSize(f *os.File) int64 {
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		return -1
	}
	return fi.Size()
}

func (in *input) Close() error {
	if in.f == nil {
		return nil
	}
	return in.f.Close()
}

// output is the destination of a command: a file or standard output. A
// regular file is removed again when the command fails, so a failed run
// leaves no half-written image behind.
type output struct {
	w    io.Writer
	f    *os.File // nil for standard output
	path string
	done bool
}

func createOutput(e *env, path string, in *input, perm os.FileMode) (*output, error) {
	if path == "" {
		return nil, usagef("--out is required")
	}
	if path == "-" {
		return &output{w: e.stdout}, nil
	}
	if in.f != nil {
		if fi, err := os.Stat(path); err == nil {
			if ii, err := in.f.Stat(); err == nil && os.SameFile(fi, ii) {
				return nil, usagef("--in and --out are the same file %s", path)
			}
		}
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, perm)
	if err != nil {
		return nil, err
	}
	return &output{w: f, f: f, path: path}, nil
}

// commit closes a file output after a successful run.
func (o *output) commit() error {
	o.done = true
	if o.f == nil {
		return nil
	}
	if err := o.f.Close(); err != nil {
		os.Remove(o.path)
		return err
	}
	return nil
}

// abort undoes a failed run: it closes the file and removes it if it is a
// regular file (not, say, /dev/null). It does nothing after commit.
func (o *output) abort() {
	if o.done || o.f == nil {
		return
	}
	o.done = true
	fi, err := o.f.Stat()
	o.f.Close()
	if err == nil && fi.Mode().IsRegular() {
		os.Remove(o.path)
	}
}

// ctxReader stops a copy once ctx is done (Ctrl-C), between reads.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// countingReader reports the bytes read to the progress bar.
type countingReader struct {
	r io.Reader
	p *progress
}

func (c countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.p.add(n)
	return n, err
}

// readFileLimit reads a small secret file, refusing one larger than limit
// bytes. Buffers it outgrows are cleared, so no stray copy stays in memory.
func readFileLimit(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	size := int64(512)
	if n := regularSize(f); n >= 0 {
		size = min(n, limit) + 1 // +1 to see EOF (or an oversized file) in one pass
	}
	b := make([]byte, 0, size)
	for {
		if len(b) == cap(b) {
			if int64(len(b)) > limit {
				clear(b)
				return nil, fmt.Errorf("%s is larger than %d bytes", path, limit)
			}
			nb := make([]byte, len(b), 2*cap(b))
			copy(nb, b)
			clear(b)
			b = nb
		}
		n, err := f.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			clear(b)
			return nil, err
		}
	}
	if int64(len(b)) > limit {
		clear(b)
		return nil, fmt.Errorf("%s is larger than %d bytes", path, limit)
	}
	return b, nil
}

var errEmptyPassphrase = errors.New("passphrase file is empty")

// maxPassphrase is cryptsetup's default --keyfile-size limit (8 MiB).
const maxPassphrase = 8 << 20

// readPassphrase returns the passphrase file's bytes, unchanged (no newline
// stripping, as cryptsetup's --key-file). The caller clears it when done.
func readPassphrase(path string) ([]byte, error) {
	if path == "" {
		return nil, usagef("--passphrase-file is required")
	}
	b, err := readFileLimit(path, maxPassphrase)
	if err != nil {
		return nil, fmt.Errorf("passphrase file: %w", err)
	}
	if len(b) == 0 {
		return nil, fmt.Errorf("%s: %w", path, errEmptyPassphrase)
	}
	return b, nil
}

// readKey returns the raw 32- or 64-byte XTS key of an encrypted VHD. The
// usual mistakes (a trailing newline, hex or base64 text) are named, since
// the file must hold the key bytes themselves. The caller clears it.
func readKey(path string) ([]byte, error) {
	if path == "" {
		return nil, usagef("--key-file is required")
	}
	b, err := readFileLimit(path, 1024)
	if err != nil {
		return nil, fmt.Errorf("key file: %w", err)
	}
	n := len(b)
	if n == 32 || n == 64 {
		return b, nil
	}
	clear(b)
	hint := ""
	switch {
	case n == 33 || n == 65:
		hint = " (a trailing newline?)"
	case n == 44 || n == 88 || n == 45 || n == 89:
		hint = " (base64 text? the file must hold the raw key bytes)"
	case n == 128 || n == 129:
		hint = " (hex text? the file must hold the raw key bytes)"
	}
	return nil, fmt.Errorf("key file %s holds %d bytes; an encrypted VHD key is exactly 32 or 64 raw bytes (AES-128/256-XTS)%s", path, n, hint)
}

// A secret is where a command reads its secret from: a passphrase file
// (LUKS, qcow2+LUKS) or a raw key file (encrypted VHD).
type secret struct {
	flag string // "passphrase-file" or "key-file"
	path string
}

const (
	passphraseFlag = "passphrase-file"
	keyFlag        = "key-file"
)

func (s secret) read() ([]byte, error) {
	if s.flag == keyFlag {
		return readKey(s.path)
	}
	return readPassphrase(s.path)
}

// stageFunc reports a multi-pass operation's progress: done of total bytes
// of one stage ("scan", then the writing stage).
type stageFunc func(stage string, done, total int64)

// stream is the plumbing shared by commands that turn one stream into
// another with a secret (encrypt, decrypt).
type stream struct {
	label   string // for the progress bar
	secret  secret
	in, out string // paths; "-" for standard input or output
	perm    os.FileMode
	// progress draws bars on stderr; staged says fn reports its stages
	// itself (the disk formats read the input at random, not as a stream).
	progress, staged bool
}

// streamIO is what a stream hands to its function.
type streamIO struct {
	dst    io.Writer
	src    io.Reader // stops at ctx's end and counts for the progress bar
	secret []byte
	in     *input
	stages stageFunc // nil unless staged progress was asked for
}

// run reads the secret, opens the input and output, and calls fn with
// them. The output is removed if fn fails, and the secret cleared
// afterwards.
func (s stream) run(ctx context.Context, e *env, fn func(sio *streamIO) error) error {
	sec, err := s.secret.read()
	if err != nil {
		return err
	}
	defer clear(sec)
	in, err := openInput(e, s.in)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := createOutput(e, s.out, in, s.perm)
	if err != nil {
		return err
	}
	defer out.abort()
	sio := &streamIO{dst: out.w, src: ctxReader{ctx: ctx, r: in.r}, secret: sec, in: in}
	var finish func()
	switch {
	case s.progress && s.staged:
		bars := &stageBars{w: e.stderr}
		sio.stages, finish = bars.update, bars.finish
	case s.progress:
		bar := startProgress(e.stderr, s.label, in.size)
		sio.src = ctxReader{ctx: ctx, r: countingReader{r: in.r, p: bar}}
		finish = bar.finish
	}
	err = fn(sio)
	if finish != nil {
		finish()
	}
	if err != nil {
		return err
	}
	if err := out.commit(); err != nil {
		return fmt.Errorf("%s: %w", s.out, err)
	}
	return nil
}
