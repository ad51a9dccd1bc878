package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// runCLI runs the command in-process and returns its exit status and output.
func runCLI(t *testing.T, stdin []byte, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(args, bytes.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

func writeFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// checkOneLineError checks a failure printed exactly one line, naming want.
func checkOneLineError(t *testing.T, stderr, want string) {
	t.Helper()
	if strings.Count(stderr, "\n") != 1 || !strings.HasSuffix(stderr, "\n") {
		t.Errorf("stderr is not one line: %q", stderr)
	}
	if !strings.Contains(stderr, want) {
		t.Errorf("stderr %q does not mention %q", stderr, want)
	}
	for _, bad := range []string{"Usage", "usage:", "goroutine", "panic"} {
		if strings.Contains(stderr, bad) {
			t.Errorf("stderr contains %q: %q", bad, stderr)
		}
	}
}

func TestTopLevel(t *testing.T) {
	code, _, stderr := runCLI(t, nil)
	if code != 2 {
		t.Errorf("no arguments: exit %d, want 2", code)
	}
	checkOneLineError(t, stderr, "missing command")

	code, _, stderr = runCLI(t, nil, "frobnicate")
	if code != 2 {
		t.Errorf("unknown command: exit %d, want 2", code)
	}
	checkOneLineError(t, stderr, `unknown command "frobnicate"`)

	code, stdout, stderr := runCLI(t, nil, "help")
	if code != 0 || stderr != "" {
		t.Errorf("help: exit %d, stderr %q", code, stderr)
	}
	for _, c := range []string{"encrypt", "--format luks1|luks2"} {
		if !strings.Contains(stdout, c) {
			t.Errorf("help does not mention %q:\n%s", c, stdout)
		}
	}

	code, stdout, _ = runCLI(t, nil, "encrypt", "-h")
	if code != 0 || !strings.Contains(stdout, "-passphrase-file") || !strings.Contains(stdout, "-sector-size") {
		t.Errorf("encrypt -h: exit %d, output:\n%s", code, stdout)
	}
}

func TestParseFlagsInterspersed(t *testing.T) {
	e := &env{}
	for _, args := range [][]string{{"FILE", "--json"}, {"--json", "FILE"}, {"-json=true", "FILE"}} {
		fs := newFlagSet("x")
		j := fs.Bool("json", false, "")
		pos, err := parseFlags(e, fs, "", args)
		if err != nil || !*j || len(pos) != 1 || pos[0] != "FILE" {
			t.Errorf("parseFlags(%q) = %q, json=%v, %v", args, pos, *j, err)
		}
	}
	fs := newFlagSet("x")
	fs.Bool("json", false, "")
	if pos, err := parseFlags(e, fs, "", []string{"a", "--", "-b"}); err != nil || strings.Join(pos, " ") != "a -b" {
		t.Errorf("after --: %q, %v", pos, err)
	}
	if _, err := parseFlags(e, newFlagSet("x"), "", []string{"--nope"}); err == nil {
		t.Error("an unknown flag was accepted")
	}
}

// badCase is a command line that must fail with one line naming want.
type badCase struct {
	name string
	args []string
	code int
	want string
}

// runBadCases runs each case and checks its exit status, that nothing went
// to stdout, and that no output file was left at out.
func runBadCases(t *testing.T, out string, cases []badCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, nil, tc.args...)
			if code != tc.code {
				t.Errorf("exit %d, want %d (stderr %q)", code, tc.code, stderr)
			}
			if stdout != "" {
				t.Errorf("stdout %q, want nothing", stdout)
			}
			checkOneLineError(t, stderr, tc.want)
			if _, err := os.Stat(out); err == nil {
				t.Error("a failed run left its output file behind")
				os.Remove(out)
			}
		})
	}
}
