package main

import (
	"context"
	"fmt"

	"github.com/e2eimage/e2e/disk"
)

func init() {
	register(command{
		name:    "convert",
		usage:   "--in FILE --out FILE|- --to raw|vhd-fixed|vhd-dynamic|qcow2 [--key-file F | --passphrase-file F] [--workers N]",
		summary: "convert a disk image (raw, VHD or qcow2, detected); with its secret, decrypt an encrypted VHD or qcow2+LUKS",
		run:     runConvert,
	})
}

func runConvert(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet("convert")
	inPath := fs.String("in", "", "image to convert (any supported format, detected)")
	outPath := fs.String("out", "", "converted image, or - for standard output")
	to := fs.String("to", "", "output format: raw, vhd-fixed, vhd-dynamic or qcow2")
	keyFile := fs.String("key-file", "", "raw 32- or 64-byte key of an encrypted VHD input")
	passFile := fs.String("passphrase-file", "", "passphrase of a qcow2+LUKS input (no newline stripping)")
	workers := fs.Int("workers", 0, "parallel workers (default: number of CPUs)")
	pos, err := parseFlags(e, fs, "--in FILE --out FILE|- --to FORMAT [flags]", args)
	if err != nil {
		return err
	}
	switch {
	case len(pos) > 0:
		return usagef("unexpected argument %q", pos[0])
	case *inPath == "" || *inPath == "-":
		return usagef("--in must name a file (images are read at random offsets)")
	case *outPath == "":
		return usagef("--out is required")
	case *to == "":
		return usagef("--to is required")
	case *workers < 0:
		return usagef("--workers must be positive, not %d", *workers)
	case *keyFile != "" && *passFile != "":
		return usagef("give --key-file (encrypted VHD) or --passphrase-file (qcow2+LUKS), not both")
	}
	format, err := disk.ParseFormat(*to)
	if err != nil || format.Encrypted() || format == disk.VHDDifferencing {
		return usagef("--to must be raw, vhd-fixed, vhd-dynamic or qcow2, not %q (encrypt makes the encrypted formats)", *to)
	}
	var opts []disk.OpenOption
	if *keyFile != "" {
		key, err := readKey(*keyFile)
		if err != nil {
			return err
		}
		defer clear(key)
		opts = append(opts, disk.WithKey(key))
	}
	if *passFile != "" {
		pass, err := readPassphrase(*passFile)
		if err != nil {
			return err
		}
		defer clear(pass)
		opts = append(opts, disk.WithPassphrase(pass))
	}
	var wopts []disk.WriteOption
	if *workers > 0 {
		wopts = append(wopts, disk.WithWorkers(*workers))
	}

	in, err := openInput(e, *inPath) // for the same-file check of createOutput
	if err != nil {
		return err
	}
	defer in.Close()
	d, err := disk.OpenFile(*inPath, opts...)
	if err != nil {
		return err
	}
	defer d.Close()
	// 0600: the output may be the plaintext of an encrypted image.
	out, err := createOutput(e, *outPath, in, 0o600)
	if err != nil {
		return err
	}
	defer out.abort()
	if _, err := disk.Convert(ctx, out.w, d, format, wopts...); err != nil {
		return err
	}
	if err := out.commit(); err != nil {
		return fmt.Errorf("%s: %w", *outPath, err)
	}
	return nil
}
