package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"

	"github.com/e2eimage/e2e/luks"
)

func init() {
	register(command{
		name:    "inspect",
		usage:   "FILE [--json]",
		summary: "show a LUKS header (no passphrase needed; no secret shown)",
		run:     runInspect,
	})
}

func runInspect(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet("inspect")
	asJSON := fs.Bool("json", false, "print the header as JSON")
	pos, err := parseFlags(e, fs, "FILE [--json]", args)
	if err != nil {
		return err
	}
	switch len(pos) {
	case 0:
		return usagef("missing FILE")
	case 1:
	default:
		return usagef("unexpected argument %q", pos[1])
	}
	f, err := os.Open(pos[0])
	if err != nil {
		return err
	}
	defer f.Close()
	h, err := luks.ReadHeader(f)
	if err != nil {
		return fmt.Errorf("%s: %w", pos[0], err)
	}
	if *asJSON {
		b, err := json.MarshalIndent(h, "", "  ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(e.stdout, "%s\n", b)
		return err
	}
	_, err = fmt.Fprint(e.stdout, h.String())
	return err
}
