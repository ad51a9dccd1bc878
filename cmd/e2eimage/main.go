// Command e2eimage encrypts, decrypts and inspects disk images in the
// formats IBM Cloud imports as encrypted images, manages their keys in Key
// Protect, runs the whole workflow and reads its audit trail.
//
//	e2eimage encrypt --format luks1|luks2 --in FILE|- --out FILE|- --passphrase-file F [--workers N]
//	                 [--iter-time 2s] [--pbkdf pbkdf2|argon2id] [--key-size 256|512] [--sector-size 512|4096] [--progress]
//	e2eimage encrypt --format vhd --in FILE --out FILE|- --key-file F [--workers N] [--progress]
//	e2eimage encrypt --format qcow2 --in FILE --out FILE|- --passphrase-file F [--iter-time 2s] [--key-size 256|512] [--progress]
//	e2eimage decrypt --in FILE|- --out FILE|- --passphrase-file F | --key-file F [--progress]
//	e2eimage inspect FILE [--json]
//	e2eimage convert --in FILE --out FILE|- --to raw|vhd-fixed|vhd-dynamic|qcow2
//	e2eimage keys ensure-root NAME | list | rotate ID | generate-dek --root-key ID | unwrap --root-key ID --wdek F --dek-out F
//	e2eimage audit --since 1h [--action kms.secrets.] [--target ID] [--json] | --state e2e-state.json
//	e2eimage run --in FILE|cos://… [--config FILE]   and   e2eimage demo
//
// "-" means standard input or output, so LUKS images stream through pipes;
// the vhd and qcow2 formats read their input twice (a zero scan, then the
// data), so it must be a file. The input of encrypt --format vhd|qcow2 may be
// a raw, VHD or qcow2 image (detected); decrypt detects LUKS, encrypted VHD
// and qcow2+LUKS and writes the raw disk. The passphrase file's bytes are the
// passphrase, exactly (as cryptsetup's --key-file: a trailing newline is part
// of it); the key file holds the raw 32- or 64-byte XTS key of an encrypted
// VHD. keys and audit read the settings of package e2e's Config.ApplyEnv
// (IBMCLOUD_API_KEY, KP_INSTANCE_ID or HPCS_INSTANCE_ID, E2E_KMS_URL,
// E2E_IAM_URL, E2E_LOGS_URL…) or --config FILE. A DEK is never printed:
// keys writes it only to a new 0600 file named by --dek-out.
//
// Errors are one line on standard error; the exit status is 1 for a failed
// operation and 2 for a usage mistake.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
)

// A command is one subcommand. Each lives in its own file and adds itself
// to the table with register in an init function, so a new subcommand is a
// new file and nothing else.
type command struct {
	name    string
	usage   string // synopsis of the arguments, after the name
	summary string
	// run executes the subcommand with its arguments (after the name).
	run func(ctx context.Context, env *env, args []string) error
}

var commands = map[string]command{}

func register(c command) {
	if _, dup := commands[c.name]; dup {
		panic("e2eimage: duplicate command " + c.name)
	}
	commands[c.name] = c
}

// env is the process environment a command may touch, so tests run commands
// in-process with their own streams.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
}

// usageError marks a mistake on the command line (exit status 2).
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := runContext(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is main without the process: it returns the exit status.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return runContext(context.Background(), args, stdin, stdout, stderr)
}

func runContext(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	e := &env{stdin: stdin, stdout: stdout, stderr: stderr}
	if len(args) == 0 {
		fmt.Fprintln(stderr, "e2eimage: missing command (run 'e2eimage help')")
		return 2
	}
	name := args[0]
	if name == "help" || name == "-h" || name == "-help" || name == "--help" {
		printUsage(stdout)
		return 0
	}
	c, ok := commands[name]
	if !ok {
		fmt.Fprintf(stderr, "e2eimage: unknown command %q (run 'e2eimage help')\n", name)
		return 2
	}
	err := c.run(ctx, e, args[1:])
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	}
	fmt.Fprintf(stderr, "e2eimage %s: %s\n", name, oneLine(err.Error()))
	var ue *usageError
	if errors.As(err, &ue) {
		return 2
	}
	return 1
}

func printUsage(w io.Writer) {
	fmt.Fprintln(w, "usage: e2eimage <command> [flags]")
	fmt.Fprintln(w, "\ncommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		c := commands[n]
		fmt.Fprintf(w, "  %-8s %s\n           e2eimage %s %s\n", n, c.summary, n, c.usage)
	}
	fmt.Fprintln(w, "\nrun 'e2eimage <command> -h' for a command's flags")
}

// oneLine keeps an error message to a single line, whatever it wraps.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// newFlagSet returns a flag set that reports errors instead of printing
// usage, and prints its defaults to stdout only when asked with -h.
func newFlagSet(c string) *flag.FlagSet {
	fs := flag.NewFlagSet(c, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return fs
}

// parseFlags parses args allowing positional arguments between flags
// ("inspect FILE --json"), and returns the positional ones. -h prints the
// command's flags to stdout and returns flag.ErrHelp.
func parseFlags(e *env, fs *flag.FlagSet, usage string, args []string) ([]string, error) {
	var pos []string
	for {
		err := fs.Parse(args)
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprintf(e.stdout, "usage: e2eimage %s %s\n\nflags:\n", fs.Name(), usage)
			fs.SetOutput(e.stdout)
			fs.PrintDefaults()
			return nil, flag.ErrHelp
		}
		if err != nil {
			return nil, &usageError{msg: err.Error()}
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "-" || !strings.HasPrefix(args[0], "-") {
			pos = append(pos, args[0])
			args = args[1:]
			continue
		}
		// fs.Parse stopped at "--": everything after it is positional.
		return append(pos, args...), nil
	}
}

// setFlags returns the names of the flags given on the command line.
func setFlags(fs *flag.FlagSet) map[string]bool {
	m := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { m[f.Name] = true })
	return m
}
