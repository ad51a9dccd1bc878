package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/e2eimage/e2e/internal/testtool"
)

// luksCase is one encrypt configuration the CLI is exercised with. Argon2id
// is left to the luks package's tests: its calibrated default memory is too
// much for a CLI test.
var luksCases = []struct {
	name string
	args []string
}{
	{"luks1", []string{"--format", "luks1"}},
	{"luks1-256", []string{"--format", "luks1", "--key-size", "256", "--workers", "3"}},
	{"luks2-pbkdf2", []string{"--format", "luks2", "--pbkdf", "pbkdf2"}},
	{"luks2-4096", []string{"--format", "luks2", "--pbkdf", "pbkdf2", "--sector-size", "4096", "--key-size", "256"}},
}

func TestLUKSRoundTrip(t *testing.T) {
	dir := t.TempDir()
	data := make([]byte, 3<<20+1234) // not a whole number of sectors: Close pads
	for i := range data {
		data[i] = byte(i*7 + i>>10)
	}
	in := writeFile(t, dir, "in.raw", data)
	pf := writeFile(t, dir, "pass", []byte("correct horse\n"))
	wrong := writeFile(t, dir, "wrong", []byte("correct horse"))
	for _, tc := range luksCases {
		t.Run(tc.name, func(t *testing.T) {
			img := filepath.Join(dir, tc.name+".img")
			args := append([]string{"encrypt", "--in", in, "--out", img, "--passphrase-file", pf, "--iter-time", "10ms"}, tc.args...)
			if code, _, stderr := runCLI(t, nil, args...); code != 0 {
				t.Fatalf("encrypt: exit %d: %s", code, stderr)
			}

			code, stdout, stderr := runCLI(t, nil, "inspect", img, "--json")
			if code != 0 {
				t.Fatalf("inspect: exit %d: %s", code, stderr)
			}
			var rep struct {
				Format string `json:"format"`
				LUKS   struct {
					Version    int `json:"version"`
					KeyBytes   int `json:"key_bytes"`
					SectorSize int `json:"sector_size"`
				} `json:"luks"`
			}
			if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
				t.Fatalf("inspect --json: %v\n%s", err, stdout)
			}
			h := rep.LUKS
			wantVersion, wantKey, wantSector := 1, 64, 512
			joined := strings.Join(tc.args, " ")
			if strings.Contains(joined, "luks2") {
				wantVersion = 2
			}
			if strings.Contains(joined, "--key-size 256") {
				wantKey = 32
			}
			if strings.Contains(joined, "--sector-size 4096") {
				wantSector = 4096
			}
			if rep.Format != fmt.Sprintf("luks%d", wantVersion) || h.Version != wantVersion || h.KeyBytes != wantKey || h.SectorSize != wantSector {
				t.Errorf("header %+v, want version %d, %d key bytes, %d-byte sectors", h, wantVersion, wantKey, wantSector)
			}
			if code, stdout, _ := runCLI(t, nil, "inspect", img); code != 0 || !strings.Contains(stdout, "aes-xts-plain64") {
				t.Errorf("inspect: exit %d:\n%s", code, stdout)
			}

			out := filepath.Join(dir, tc.name+".raw")
			if code, _, stderr := runCLI(t, nil, "decrypt", "--in", img, "--out", out, "--passphrase-file", pf); code != 0 {
				t.Fatalf("decrypt: exit %d: %s", code, stderr)
			}
			got, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			unit := wantSector
			padded := append(append([]byte(nil), data...), make([]byte, (unit-len(data)%unit)%unit)...)
			if !bytes.Equal(got, padded) {
				t.Fatalf("decrypted %d bytes differ from the %d-byte input padded to whole sectors", len(got), len(data))
			}
			os.Remove(out)

			code, stdout, stderr = runCLI(t, nil, "decrypt", "--in", img, "--out", out, "--passphrase-file", wrong)
			if code != 1 {
				t.Errorf("wrong passphrase: exit %d, want 1", code)
			}
			if stdout != "" {
				t.Errorf("wrong passphrase wrote %q to stdout", stdout)
			}
			checkOneLineError(t, stderr, "luks: wrong passphrase")
			if _, err := os.Stat(out); err == nil {
				t.Error("a failed decrypt left its output behind")
			}
		})
	}
}

func TestLUKSBadInput(t *testing.T) {
	dir := t.TempDir()
	in := writeFile(t, dir, "in.raw", make([]byte, 8192))
	pf := writeFile(t, dir, "pass", []byte("pw"))
	out := filepath.Join(dir, "out")
	img := filepath.Join(dir, "img.luks")
	if code, _, stderr := runCLI(t, nil, "encrypt", "--format", "luks1", "--iter-time", "10ms", "--in", in, "--out", img, "--passphrase-file", pf); code != 0 {
		t.Fatalf("encrypt: exit %d: %s", code, stderr)
	}
	truncated := writeFile(t, dir, "short", append([]byte("LUKS\xba\xbe\x00\x01"), make([]byte, 100)...))
	runBadCases(t, out, []badCase{
		{"luks1 argon2id", []string{"encrypt", "--format", "luks1", "--in", in, "--out", out, "--passphrase-file", pf, "--pbkdf", "argon2id"}, 2, "needs --format luks2"},
		{"luks1 4096", []string{"encrypt", "--format", "luks1", "--in", in, "--out", out, "--passphrase-file", pf, "--sector-size", "4096"}, 2, "needs --format luks2"},
		{"decrypt not encrypted", []string{"decrypt", "--in", in, "--out", out, "--passphrase-file", pf}, 1, "is a raw image, not encrypted"},
		{"decrypt stdin not luks", []string{"decrypt", "--in", "-", "--out", out, "--passphrase-file", pf}, 1, "not a LUKS header"},
		{"decrypt truncated", []string{"decrypt", "--in", truncated, "--out", out, "--passphrase-file", pf}, 1, "LUKS1 header truncated"},
		{"decrypt no out", []string{"decrypt", "--in", img, "--passphrase-file", pf}, 2, "--out is required"},
		{"decrypt no passphrase", []string{"decrypt", "--in", img, "--out", out}, 2, "--passphrase-file (LUKS, qcow2+LUKS) or --key-file (encrypted VHD) is required"},
		{"decrypt key file for luks", []string{"decrypt", "--in", img, "--out", out, "--key-file", pf}, 2, "needs --passphrase-file, not --key-file"},
		{"decrypt both secrets", []string{"decrypt", "--in", img, "--out", out, "--key-file", pf, "--passphrase-file", pf}, 2, "not both"},
		{"decrypt missing passphrase file", []string{"decrypt", "--in", img, "--out", out, "--passphrase-file", out + ".nope"}, 1, "no such file"},
		{"decrypt empty passphrase file", []string{"decrypt", "--in", img, "--out", out, "--passphrase-file", writeFile(t, dir, "empty", nil)}, 1, "passphrase file is empty"},
		{"decrypt missing input", []string{"decrypt", "--in", out + ".nope", "--out", out, "--passphrase-file", pf}, 1, "no such file"},
		{"decrypt bad flag", []string{"decrypt", "--in", img, "--out", out, "--passphrase-file", pf, "--format", "luks1"}, 2, "flag provided but not defined: -format"},
		{"inspect truncated", []string{"inspect", truncated}, 1, "LUKS1 header truncated"},
		{"inspect missing", []string{"inspect", out + ".nope"}, 1, "no such file"},
		{"inspect no file", []string{"inspect", "--json"}, 2, "missing FILE"},
		{"inspect two files", []string{"inspect", in, in}, 2, "unexpected argument"},
	})
}

// buildCLI compiles the command once per test binary run.
func buildCLI(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the binary; skipped in -short mode")
	}
	bin := filepath.Join(t.TempDir(), "e2eimage")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// TestBinaryStreaming runs the built binary as a pipeline, stdin to stdout
// both ways: encrypt | decrypt, and checks the plaintext comes back.
func TestBinaryStreaming(t *testing.T) {
	bin := buildCLI(t)
	dir := t.TempDir()
	pf := writeFile(t, dir, "pass", []byte("stream pass"))
	data := bytes.Repeat([]byte("0123456789abcdef"), 3<<16) // 3 MiB, whole sectors

	enc := exec.Command(bin, "encrypt", "--format", "luks1", "--iter-time", "10ms", "--in", "-", "--out", "-", "--passphrase-file", pf)
	dec := exec.Command(bin, "decrypt", "--in", "-", "--out", "-", "--passphrase-file", pf)
	enc.Stdin = bytes.NewReader(data)
	pipe, err := enc.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	dec.Stdin = pipe
	var got, encErr, decErr bytes.Buffer
	dec.Stdout, enc.Stderr, dec.Stderr = &got, &encErr, &decErr
	if err := enc.Start(); err != nil {
		t.Fatal(err)
	}
	if err := dec.Start(); err != nil {
		t.Fatal(err)
	}
	if err := enc.Wait(); err != nil {
		t.Fatalf("encrypt: %v: %s", err, encErr.String())
	}
	if err := dec.Wait(); err != nil {
		t.Fatalf("decrypt: %v: %s", err, decErr.String())
	}
	if !bytes.Equal(got.Bytes(), data) {
		t.Fatalf("pipeline returned %d bytes that differ from the %d-byte input", got.Len(), len(data))
	}

	// A wrong passphrase through the binary: status 1, one line, no output.
	img := filepath.Join(dir, "img")
	if out, err := exec.Command(bin, "encrypt", "--format", "luks2", "--pbkdf", "pbkdf2", "--iter-time", "10ms", "--in", "-", "--out", img, "--passphrase-file", pf).CombinedOutput(); err != nil {
		t.Fatalf("encrypt: %v: %s", err, out)
	}
	cmd := exec.Command(bin, "decrypt", "--in", img, "--out", "-", "--passphrase-file", writeFile(t, dir, "bad", []byte("nope")))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Errorf("wrong passphrase: %v, want exit status 1", err)
	}
	if stdout.Len() != 0 {
		t.Errorf("wrong passphrase wrote %d bytes to stdout", stdout.Len())
	}
	checkOneLineError(t, stderr.String(), "wrong passphrase")

	// A bad flag through the binary: status 2, one line.
	cmd = exec.Command(bin, "encrypt", "--format", "luks3")
	stderr.Reset()
	cmd.Stderr = &stderr
	err = cmd.Run()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 {
		t.Errorf("bad format: %v, want exit status 2", err)
	}
	checkOneLineError(t, stderr.String(), `unknown --format "luks3"`)
}

// TestCryptsetupAcceptsCLIImages checks the reference implementation opens
// what the CLI writes, with the passphrase file read byte for byte by both.
func TestCryptsetupAcceptsCLIImages(t *testing.T) {
	cs := testtool.Path(t, "cryptsetup")
	dir := t.TempDir()
	in := writeFile(t, dir, "in.raw", make([]byte, 1<<20))
	pf := writeFile(t, dir, "pass", []byte("trailing newline is part of it\n"))
	stripped := writeFile(t, dir, "stripped", []byte("trailing newline is part of it"))
	for _, tc := range luksCases {
		t.Run(tc.name, func(t *testing.T) {
			img := filepath.Join(dir, tc.name+".img")
			args := append([]string{"encrypt", "--in", in, "--out", img, "--passphrase-file", pf, "--iter-time", "10ms"}, tc.args...)
			if code, _, stderr := runCLI(t, nil, args...); code != 0 {
				t.Fatalf("encrypt: exit %d: %s", code, stderr)
			}
			if out, err := exec.Command(cs, "open", "--test-passphrase", "--key-file", pf, img).CombinedOutput(); err != nil {
				t.Fatalf("cryptsetup open --test-passphrase: %v\n%s", err, out)
			}
			if err := exec.Command(cs, "open", "--test-passphrase", "--key-file", stripped, img).Run(); err == nil {
				t.Error("cryptsetup accepted the passphrase without its newline: the CLI stripped it")
			}
		})
	}
}
