package main

import (
	"context"
	"slices"
	"time"
)

func init() {
	register(command{
		name:    "encrypt",
		usage:   "--format luks1|luks2|qcow2 --in FILE|- --out FILE|- --passphrase-file F | --format vhd --key-file F ... [--workers N] [--iter-time 2s] [--pbkdf pbkdf2|argon2id] [--key-size 256|512] [--sector-size 512|4096] [--progress]",
		summary: "encrypt a disk image (LUKS: a raw stream; vhd, qcow2: any raw, VHD or qcow2 file)",
		run:     runEncrypt,
	})
}

func runEncrypt(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet("encrypt")
	format := fs.String("format", "", "output format: "+formatNames())
	inPath := fs.String("in", "", "plaintext image, or - for standard input")
	outPath := fs.String("out", "", "encrypted image, or - for standard output")
	passFile := fs.String(passphraseFlag, "", "file whose bytes are the passphrase (no newline stripping): luks1, luks2, qcow2")
	keyFile := fs.String(keyFlag, "", "file holding the raw 32- or 64-byte data key: vhd (AES-128/256-XTS)")
	workers := fs.Int("workers", 0, "parallel encryption workers (default: number of CPUs)")
	iterTime := fs.Duration("iter-time", 2*time.Second, "key-slot KDF time, as cryptsetup's --iter-time")
	pbkdf := fs.String("pbkdf", "", "key-slot KDF: pbkdf2 or argon2id (default: pbkdf2 for luks1, argon2id for luks2)")
	keySize := fs.Int("key-size", 512, "volume key size in bits: 256 or 512 (AES-128/256-XTS)")
	sectorSize := fs.Int("sector-size", 512, "encryption sector size in bytes: 512 or 4096 (LUKS2)")
	showProgress := fs.Bool("progress", false, "draw a progress bar on standard error")
	const usage = "--format F --in FILE|- --out FILE|- --passphrase-file F|--key-file F [flags]"
	pos, err := parseFlags(e, fs, usage, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("unexpected argument %q", pos[0])
	}
	set := setFlags(fs)

	if *format == "" {
		return usagef("--format is required (%s)", formatNames())
	}
	enc, ok := formats[*format]
	if !ok {
		return usagef("unknown --format %q (want %s)", *format, formatNames())
	}
	switch {
	case *workers < 0:
		return usagef("--workers must be positive, not %d", *workers)
	case *iterTime <= 0:
		return usagef("--iter-time must be positive, not %s", *iterTime)
	case *pbkdf != "" && *pbkdf != "pbkdf2" && *pbkdf != "argon2id":
		return usagef("--pbkdf must be pbkdf2 or argon2id, not %q", *pbkdf)
	case *keySize != 256 && *keySize != 512:
		return usagef("--key-size must be 256 or 512, not %d", *keySize)
	case *sectorSize != 512 && *sectorSize != 4096:
		return usagef("--sector-size must be 512 or 4096, not %d", *sectorSize)
	}
	for name := range set {
		if slices.Contains([]string{"format", "in", "out", passphraseFlag, keyFlag, "progress"}, name) {
			continue
		}
		if !slices.Contains(enc.flags, name) {
			return usagef("--%s does not apply to --format %s", name, *format)
		}
	}
	sec := secret{flag: enc.secretFlag(), path: *passFile}
	if sec.flag == keyFlag {
		sec.path = *keyFile
	}
	for _, other := range []string{passphraseFlag, keyFlag} {
		if set[other] && other != sec.flag {
			return usagef("--format %s takes --%s, not --%s", *format, sec.flag, other)
		}
	}
	if sec.path == "" {
		return usagef("--%s is required for --format %s", sec.flag, *format)
	}
	if *inPath == "" {
		return usagef("--in is required")
	}
	if *outPath == "" {
		return usagef("--out is required")
	}

	p := &encodeParams{}
	// Only what the user chose is passed on; the rest is the format's default.
	if set["workers"] {
		p.workers = *workers
	}
	if set["iter-time"] {
		p.iterTime = *iterTime
	}
	if set["pbkdf"] {
		p.pbkdf = *pbkdf
	}
	if set["key-size"] {
		p.keySize = *keySize
	}
	if set["sector-size"] {
		p.sectorSize = *sectorSize
	}
	st := stream{label: "encrypt", secret: sec, in: *inPath, out: *outPath, perm: 0o644, progress: *showProgress, staged: enc.staged}
	return st.run(ctx, e, func(sio *streamIO) error {
		p.secret, p.in, p.stages = sio.secret, sio.in, sio.stages
		return enc.encode(ctx, sio.dst, sio.src, p)
	})
}
