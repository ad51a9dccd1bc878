package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/e2eimage/e2e/keys"
)

// keysCommands are the subcommands of `e2eimage keys`, against Key
// Protect or HPCS (set in init: they refer to the table themselves).
var keysCommands []command

func init() {
	keysCommands = []command{
		{name: "ensure-root", usage: "NAME [--json]", summary: "reuse the active root key with that name, or create it", run: runKeysEnsureRoot},
		{name: "list", usage: "[--json]", summary: "list the root keys of the instance", run: runKeysList},
		{name: "rotate", usage: "ID", summary: "give a root key new material (WDEKs made before still unwrap)", run: runKeysRotate},
		{name: "generate-dek", usage: "--root-key ID [--format luks|vhd|qcow2] [--out-wdek F] [--dek-out F]", summary: "make a data key wrapped by the root key; print or write only the WDEK", run: runKeysGenerateDEK},
		{name: "unwrap", usage: "--root-key ID --wdek F|- --dek-out F [--format luks|vhd|qcow2]", summary: "unwrap a WDEK into a 0600 secret file for encrypt or decrypt", run: runKeysUnwrap},
	}
	var names []string
	for _, c := range keysCommands {
		names = append(names, c.name)
	}
	register(command{
		name:    "keys",
		usage:   strings.Join(names, "|") + " ... (IBMCLOUD_API_KEY, KP_INSTANCE_ID, E2E_KMS_URL)",
		summary: "manage root keys and data keys in Key Protect or HPCS",
		run:     runKeys,
	})
}

func runKeys(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		return usagef("missing subcommand (run 'e2eimage keys -h')")
	}
	if args[0] == "-h" || args[0] == "-help" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprintln(e.stdout, "usage: e2eimage keys <subcommand> [flags]\n\nsubcommands:")
		for _, c := range keysCommands {
			fmt.Fprintf(e.stdout, "  %-13s %s\n                e2eimage keys %s %s\n", c.name, c.summary, c.name, c.usage)
		}
		fmt.Fprintln(e.stdout, "\nsettings: IBMCLOUD_API_KEY, KP_INSTANCE_ID or HPCS_INSTANCE_ID, IBMCLOUD_REGION,\nE2E_KMS_URL, E2E_IAM_URL, or --config FILE")
		return flag.ErrHelp
	}
	i := slices.IndexFunc(keysCommands, func(c command) bool { return c.name == args[0] })
	if i < 0 {
		return usagef("unknown subcommand %q (run 'e2eimage keys -h')", args[0])
	}
	if err := keysCommands[i].run(ctx, e, args[1:]); err != nil {
		// "e2eimage keys: unwrap: …": say which subcommand failed.
		return fmt.Errorf("%s: %w", args[0], err)
	}
	return nil
}

// keysSetup parses a keys subcommand's flags (with --config), checks the
// number of positional arguments and returns them with a client.
// define adds the subcommand's own flags; check, when not nil, validates
// them before any setting is read, so a usage mistake is reported first.
func keysSetup(e *env, sub string, args []string, npos int, define func(fs *flag.FlagSet), check func() error) ([]string, *keys.Client, error) {
	fs := newFlagSet("keys " + sub)
	cfgPath := configFlag(fs)
	if define != nil {
		define(fs)
	}
	i := slices.IndexFunc(keysCommands, func(c command) bool { return c.name == sub })
	pos, err := parseFlags(e, fs, keysCommands[i].usage, args)
	if err != nil {
		return nil, nil, err
	}
	switch {
	case len(pos) < npos:
		return nil, nil, usagef("missing %s", strings.Fields(keysCommands[i].usage)[0])
	case len(pos) > npos:
		return nil, nil, usagef("unexpected argument %q", pos[npos])
	}
	for _, p := range pos {
		if p == "" {
			return nil, nil, usagef("empty argument")
		}
	}
	if check != nil {
		if err := check(); err != nil {
			return nil, nil, err
		}
	}
	cfg, err := loadCloudConfig(*cfgPath)
	if err != nil {
		return nil, nil, err
	}
	c, err := newKeysClient(cfg)
	if err != nil {
		return nil, nil, err
	}
	return pos, c, nil
}

// keyJSON is the --json form of a key: stable field names, no material.
type keyJSON struct {
	ID         string    `json:"id"`
	Name       string    `json:"name"`
	CRN        string    `json:"crn"`
	State      string    `json:"state"`
	Imported   bool      `json:"imported"`
	Aliases    []string  `json:"aliases,omitempty"`
	Version    string    `json:"version,omitempty"`
	Created    time.Time `json:"created"`
	LastRotate time.Time `json:"last_rotate,omitzero"`
}

func toKeyJSON(k *keys.Key) keyJSON {
	return keyJSON{ID: k.ID, Name: k.Name, CRN: k.CRN, State: k.State.String(), Imported: k.Imported,
		Aliases: k.Aliases, Version: k.Version, Created: k.Created, LastRotate: k.LastRotate}
}

func writeJSON(w io.Writer, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

func runKeysEnsureRoot(ctx context.Context, e *env, args []string) error {
	var asJSON *bool
	pos, c, err := keysSetup(e, "ensure-root", args, 1, func(fs *flag.FlagSet) {
		asJSON = fs.Bool("json", false, "print the key as JSON")
	}, nil)
	if err != nil {
		return err
	}
	k, err := c.EnsureRootKey(ctx, pos[0])
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(e.stdout, toKeyJSON(k))
	}
	_, err = fmt.Fprintf(e.stdout, "id       %s\nname     %s\ncrn      %s\nstate    %s\ncreated  %s\n",
		k.ID, k.Name, k.CRN, k.State, k.Created.UTC().Format(time.RFC3339))
	return err
}

func runKeysList(ctx context.Context, e *env, args []string) error {
	var asJSON *bool
	_, c, err := keysSetup(e, "list", args, 0, func(fs *flag.FlagSet) {
		asJSON = fs.Bool("json", false, "print the keys as a JSON array")
	}, nil)
	if err != nil {
		return err
	}
	ks, err := c.ListRootKeys(ctx)
	if err != nil {
		return err
	}
	if *asJSON {
		out := make([]keyJSON, 0, len(ks))
		for _, k := range ks {
			out = append(out, toKeyJSON(k))
		}
		return writeJSON(e.stdout, out)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tSTATE\tCREATED\tLAST ROTATED")
	for _, k := range ks {
		rot := "-"
		if !k.LastRotate.IsZero() {
			rot = k.LastRotate.UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", k.ID, k.Name, k.State, k.Created.UTC().Format(time.RFC3339), rot)
	}
	return tw.Flush()
}

func runKeysRotate(ctx context.Context, e *env, args []string) error {
	pos, c, err := keysSetup(e, "rotate", args, 1, nil, nil)
	if err != nil {
		return err
	}
	if err := c.Rotate(ctx, pos[0]); err != nil {
		return err
	}
	k, err := c.GetKey(ctx, pos[0])
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(e.stdout, "rotated %s (%s): version %s\n", k.ID, k.Name, k.Version)
	return err
}

// dekFormat is the image format a DEK serves, which decides how it is
// made and what --dek-out writes: the secret file encrypt and decrypt take.
type dekFormat string

func parseDEKFormat(s string) (dekFormat, error) {
	switch s {
	case "luks", "luks1", "luks2":
		return "luks", nil
	case "vhd", "qcow2":
		return dekFormat(s), nil
	}
	return "", usagef("--format must be luks, vhd or qcow2, not %q", s)
}

// generate makes a DEK for the format and its WDEK. LUKS uses a DEK the
// service generates (its passphrase is the base64 text); an encrypted VHD a
// local 64-byte AES-256-XTS key; qcow2+LUKS a local text passphrase, since
// QEMU reads the secret as UTF-8. The local ones are wrapped at once.
func (f dekFormat) generate(ctx context.Context, c *keys.Client, rootKey string) (*keys.DEK, keys.WDEK, error) {
	var dek *keys.DEK
	var err error
	switch f {
	case "vhd":
		dek, err = keys.NewDEK(64)
	case "qcow2":
		dek, err = keys.NewPassphraseDEK(64)
	default:
		return c.GenerateDEK(ctx, rootKey)
	}
	if err != nil {
		return nil, nil, err
	}
	w, err := c.WrapDEK(ctx, rootKey, dek)
	if err != nil {
		dek.Destroy()
		return nil, nil, err
	}
	return dek, w, nil
}

// secret is what --dek-out writes: the LUKS passphrase (base64 text of the
// DEK, no newline), the raw VHD key, or the qcow2 passphrase.
func (f dekFormat) secret(dek *keys.DEK) ([]byte, error) {
	switch f {
	case "vhd":
		return dek.VHDKey()
	case "qcow2":
		return dek.QCOW2Passphrase()
	}
	return dek.LUKSPassphrase(), nil
}

// hint says which encrypt flag takes the secret file.
func (f dekFormat) hint() string {
	switch f {
	case "vhd":
		return "--format vhd --key-file"
	case "qcow2":
		return "--format qcow2 --passphrase-file"
	}
	return "--format luks1 --passphrase-file"
}

// writeDEKFile writes the plaintext secret to a new file, mode 0600, and
// warns on stderr. It never overwrites a file, and never writes to stdout.
func writeDEKFile(e *env, path string, f dekFormat, dek *keys.DEK) error {
	sec, err := f.secret(dek)
	if err != nil {
		return err
	}
	defer clear(sec)
	fh, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		if errors.Is(err, os.ErrExist) {
			return fmt.Errorf("--dek-out %s exists; a DEK file is never overwritten", path)
		}
		return err
	}
	_, err = fh.Write(sec)
	if cerr := fh.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return err
	}
	fmt.Fprintf(e.stderr, "warning: %s holds the plaintext data key (for encrypt %s); anyone who reads it can decrypt the image: delete it when done\n", path, f.hint())
	return nil
}

// dekFlags are the flags generate-dek and unwrap share.
type dekFlags struct {
	rootKey, dekOut, formatName string
	format                      dekFormat
}

func (d *dekFlags) define(fs *flag.FlagSet, dekOutUsage string) {
	fs.StringVar(&d.rootKey, "root-key", "", "root key `ID` (or alias) that wraps the DEK")
	fs.StringVar(&d.dekOut, "dek-out", "", dekOutUsage)
	fs.StringVar(&d.formatName, "format", "luks", "image format the DEK is for, which decides what --dek-out holds: luks (base64 passphrase), vhd (raw 64-byte key) or qcow2 (text passphrase)")
}

func (d *dekFlags) check(needDEKOut bool) error {
	var err error
	if d.format, err = parseDEKFormat(d.formatName); err != nil {
		return err
	}
	switch {
	case d.rootKey == "":
		return usagef("--root-key is required")
	case d.dekOut == "-":
		return usagef("the DEK is never printed: --dek-out must name a file")
	case d.dekOut == "" && needDEKOut:
		return usagef("--dek-out is required")
	}
	return nil
}

func runKeysGenerateDEK(ctx context.Context, e *env, args []string) error {
	var d dekFlags
	var outWDEK *string
	_, c, err := keysSetup(e, "generate-dek", args, 0, func(fs *flag.FlagSet) {
		d.define(fs, "also write the plaintext DEK's secret to this new `file` (mode 0600) to encrypt elsewhere")
		outWDEK = fs.String("out-wdek", "", "write the WDEK (base64 text) to this `file` instead of standard output")
	}, func() error { return d.check(false) })
	if err != nil {
		return err
	}
	if d.dekOut != "" {
		// Checked before the key is made, so no WDEK is made in vain.
		if _, err := os.Lstat(d.dekOut); err == nil {
			return fmt.Errorf("--dek-out %s exists; a DEK file is never overwritten", d.dekOut)
		}
	}
	dek, w, err := d.format.generate(ctx, c, d.rootKey)
	if err != nil {
		return err
	}
	defer dek.Destroy()
	if d.dekOut != "" {
		if err := writeDEKFile(e, d.dekOut, d.format, dek); err != nil {
			return err
		}
	}
	return writeWDEK(e, *outWDEK, w)
}

func writeWDEK(e *env, path string, w keys.WDEK) error {
	if path == "" || path == "-" {
		_, err := fmt.Fprintln(e.stdout, w.String())
		return err
	}
	// A WDEK is safe to keep and share: only the root key opens it.
	return os.WriteFile(path, []byte(w.String()+"\n"), 0o644)
}

func runKeysUnwrap(ctx context.Context, e *env, args []string) error {
	var d dekFlags
	var wdekPath *string
	_, c, err := keysSetup(e, "unwrap", args, 0, func(fs *flag.FlagSet) {
		d.define(fs, "new `file` (mode 0600) to write the DEK's secret to")
		wdekPath = fs.String("wdek", "", "`file` holding the WDEK as base64 text, or - for standard input")
	}, func() error {
		if *wdekPath == "" {
			return usagef("--wdek is required")
		}
		return d.check(true)
	})
	if err != nil {
		return err
	}
	w, err := readWDEK(e, *wdekPath)
	if err != nil {
		return err
	}
	dek, current, err := c.UnwrapDEK(ctx, d.rootKey, w)
	if err != nil {
		return err
	}
	defer dek.Destroy()
	if err := writeDEKFile(e, d.dekOut, d.format, dek); err != nil {
		return err
	}
	if current.String() != w.String() {
		fmt.Fprintln(e.stderr, "note: the root key was rotated since this WDEK was made; keep the rewrapped WDEK printed on standard output")
		return writeWDEK(e, "", current)
	}
	return nil
}

// readWDEK reads a WDEK's base64 text from a file or standard input;
// surrounding white space is ignored.
func readWDEK(e *env, path string) (keys.WDEK, error) {
	var b []byte
	var err error
	if path == "-" {
		b, err = io.ReadAll(io.LimitReader(e.stdin, 64<<10))
	} else {
		b, err = readFileLimit(path, 64<<10)
	}
	if err != nil {
		return nil, fmt.Errorf("--wdek: %w", err)
	}
	w, err := keys.ParseWDEK(strings.TrimSpace(string(b)))
	if err != nil {
		return nil, fmt.Errorf("--wdek %s: %w", path, err)
	}
	if len(w) == 0 {
		return nil, fmt.Errorf("--wdek %s is empty", path)
	}
	return w, nil
}
