package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func xorWith(data, pass []byte) []byte {
	out := []byte{byte(len(pass))}
	for i, b := range data {
		out = append(out, b^pass[i%len(pass)])
	}
	return out
}

func TestEncryptFakeFormat(t *testing.T) {
	dir := t.TempDir()
	data := bytes.Repeat([]byte("disk image "), 5000)
	pass := []byte("secret\n") // the newline is part of the passphrase
	in := writeFile(t, dir, "in.raw", data)
	pf := writeFile(t, dir, "pass", pass)

	t.Run("files", func(t *testing.T) {
		out := filepath.Join(dir, "out.img")
		code, stdout, stderr := runCLI(t, nil, "encrypt", "--format", "test-xor", "--in", in, "--out", out, "--passphrase-file", pf)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		if stdout != "" || stderr != "" {
			t.Errorf("unexpected output %q %q", stdout, stderr)
		}
		got, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, xorWith(data, pass)) {
			t.Error("output is not the encoding of the input with the exact passphrase bytes")
		}
	})
	t.Run("stdio", func(t *testing.T) {
		code, stdout, stderr := runCLI(t, data, "encrypt", "--format=test-xor", "--in=-", "--out=-", "--passphrase-file="+pf)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		if stdout != string(xorWith(data, pass)) {
			t.Error("stdout is not the encoding of stdin")
		}
	})
	t.Run("progress", func(t *testing.T) {
		out := filepath.Join(dir, "p.img")
		code, _, stderr := runCLI(t, nil, "encrypt", "--format", "test-xor", "--in", in, "--out", out, "--passphrase-file", pf, "--progress")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		if !strings.Contains(stderr, "100.0%") || !strings.HasSuffix(stderr, "\n") {
			t.Errorf("progress did not end at 100%%: %q", stderr)
		}
		code, _, stderr = runCLI(t, data, "encrypt", "--format", "test-xor", "--in", "-", "--out", out, "--passphrase-file", pf, "--progress")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		if want := humanBytes(int64(len(data))); !strings.Contains(stderr, want) || strings.Contains(stderr, "%") {
			t.Errorf("stream progress should count bytes (%s) without a percentage: %q", want, stderr)
		}
	})
}

func TestEncryptBadInput(t *testing.T) {
	dir := t.TempDir()
	in := writeFile(t, dir, "in.raw", make([]byte, 4096))
	pf := writeFile(t, dir, "pass", []byte("pw"))
	empty := writeFile(t, dir, "empty", nil)
	out := filepath.Join(dir, "out.img")
	base := []string{"encrypt", "--in", in, "--out", out, "--passphrase-file", pf}
	with := func(extra ...string) []string { return append(append([]string{}, base...), extra...) }
	runBadCases(t, out, []badCase{
		{"no format", with(), 2, "--format is required"},
		{"unknown format", with("--format", "zip"), 2, `unknown --format "zip"`},
		{"unknown flag", with("--format", "test-xor", "--frobnicate"), 2, "flag provided but not defined: -frobnicate"},
		{"bad int", with("--format", "test-xor", "--workers", "many"), 2, "invalid value"},
		{"negative workers", with("--format", "test-xor", "--workers", "-1"), 2, "--workers must be positive"},
		{"flag not for format", with("--format", "test-xor", "--pbkdf", "pbkdf2"), 2, "--pbkdf does not apply to --format test-xor"},
		{"bad pbkdf", with("--format", "test-xor", "--pbkdf", "scrypt"), 2, "--pbkdf must be pbkdf2 or argon2id"},
		{"bad key size", with("--format", "test-xor", "--key-size", "128"), 2, "--key-size must be 256 or 512"},
		{"bad sector size", with("--format", "test-xor", "--sector-size", "1024"), 2, "--sector-size must be 512 or 4096"},
		{"bad iter time", with("--format", "test-xor", "--iter-time", "0s"), 2, "--iter-time must be positive"},
		{"stray argument", with("--format", "test-xor", "extra"), 2, `unexpected argument "extra"`},
		{"encoder refuses", with("--format", "test-xor", "--workers", "3"), 2, "refuses 3 workers"},
		{"no in", []string{"encrypt", "--format", "test-xor", "--out", out, "--passphrase-file", pf}, 2, "--in is required"},
		{"no out", []string{"encrypt", "--format", "test-xor", "--in", in, "--passphrase-file", pf}, 2, "--out is required"},
		{"no passphrase file", []string{"encrypt", "--format", "test-xor", "--in", in, "--out", out}, 2, "--passphrase-file is required"},
		{"missing passphrase file", []string{"encrypt", "--format", "test-xor", "--in", in, "--out", out, "--passphrase-file", filepath.Join(dir, "nope")}, 1, "no such file"},
		{"empty passphrase file", []string{"encrypt", "--format", "test-xor", "--in", in, "--out", out, "--passphrase-file", empty}, 1, "passphrase file is empty"},
		{"missing input", []string{"encrypt", "--format", "test-xor", "--in", filepath.Join(dir, "nope.raw"), "--out", out, "--passphrase-file", pf}, 1, "no such file"},
		{"same file", []string{"encrypt", "--format", "test-xor", "--in", in, "--out", in, "--passphrase-file", pf}, 2, "are the same file"},
		{"output dir missing", []string{"encrypt", "--format", "test-xor", "--in", in, "--out", filepath.Join(dir, "no", "out"), "--passphrase-file", pf}, 1, "no such file"},
	})
	if got, _ := os.ReadFile(in); len(got) != 4096 {
		t.Error("the input was damaged")
	}
}

func TestReadPassphrase(t *testing.T) {
	dir := t.TempDir()
	want := []byte("  with spaces and newline\r\n\x00binary")
	got, err := readPassphrase(writeFile(t, dir, "p", want))
	if err != nil || !bytes.Equal(got, want) {
		t.Errorf("readPassphrase = %q, %v; want the exact bytes %q", got, err, want)
	}
	big := writeFile(t, dir, "big", make([]byte, maxPassphrase+1))
	if _, err := readPassphrase(big); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("oversized passphrase file: %v", err)
	}
	exact, err := readPassphrase(writeFile(t, dir, "max", bytes.Repeat([]byte{'a'}, maxPassphrase)))
	if err != nil || len(exact) != maxPassphrase {
		t.Errorf("passphrase of exactly the limit: %d bytes, %v", len(exact), err)
	}
}

func TestEncryptCancelled(t *testing.T) {
	dir := t.TempDir()
	in := writeFile(t, dir, "in.raw", make([]byte, 1<<16))
	pf := writeFile(t, dir, "pass", []byte("pw"))
	out := filepath.Join(dir, "out.img")
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // as Ctrl-C would
	var stdout, stderr bytes.Buffer
	code := runContext(ctx, []string{"encrypt", "--format", "test-xor", "--in", in, "--out", out, "--passphrase-file", pf}, nil, &stdout, &stderr)
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	checkOneLineError(t, stderr.String(), "context canceled")
	if _, err := os.Stat(out); err == nil {
		t.Error("a cancelled run left its output behind")
	}
}
