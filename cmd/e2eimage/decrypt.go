package main

import (
	"context"
	"io"

	"github.com/e2eimage/e2e/luks"
)

func init() {
	register(command{
		name:    "decrypt",
		usage:   "--in FILE|- --out FILE|- --passphrase-file F [--workers N] [--progress]",
		summary: "decrypt a LUKS1 or LUKS2 image to its raw payload",
		run:     runDecrypt,
	})
}

func runDecrypt(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet("decrypt")
	inPath := fs.String("in", "", "encrypted image, or - for standard input")
	outPath := fs.String("out", "", "plaintext image, or - for standard output")
	passFile := fs.String("passphrase-file", "", "file whose bytes are the passphrase (no newline stripping)")
	workers := fs.Int("workers", 0, "parallel decryption workers (default: number of CPUs)")
	showProgress := fs.Bool("progress", false, "draw a progress bar on standard error")
	pos, err := parseFlags(e, fs, "--in FILE --out FILE|- --passphrase-file F [flags]", args)
	if err != nil {
		return err
	}
	switch {
	case len(pos) > 0:
		return usagef("unexpected argument %q", pos[0])
	case *workers < 0:
		return usagef("--workers must be positive, not %d", *workers)
	case *inPath == "":
		return usagef("--in is required")
	case *outPath == "":
		return usagef("--out is required")
	}
	var opts []luks.Option
	if *workers > 0 {
		opts = append(opts, luks.WithWorkers(*workers))
	}
	// 0600: the output is the plaintext the encryption protected.
	st := stream{label: "decrypt", passFile: *passFile, in: *inPath, out: *outPath, perm: 0o600, progress: *showProgress}
	return st.run(ctx, e, func(dst io.Writer, src io.Reader, pass []byte, _ *input) error {
		_, err := luks.DecryptContext(ctx, dst, src, pass, opts...)
		return err
	})
}
