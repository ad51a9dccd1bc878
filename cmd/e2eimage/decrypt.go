package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/e2eimage/e2e/disk"
	"github.com/e2eimage/e2e/luks"
)

func init() {
	register(command{
		name:    "decrypt",
		usage:   "--in FILE|- --out FILE|- --passphrase-file F | --key-file F [--workers N] [--progress]",
		summary: "decrypt a LUKS1/LUKS2 image, an encrypted VHD or a qcow2+LUKS image to a raw disk (detected)",
		run:     runDecrypt,
	})
}

// The encrypted formats decrypt tells apart.
const (
	decryptLUKS = iota
	decryptVHD
	decryptQCOW2
)

func runDecrypt(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet("decrypt")
	inPath := fs.String("in", "", "encrypted image (LUKS, encrypted VHD or qcow2+LUKS, detected), or - for a LUKS stream on standard input")
	outPath := fs.String("out", "", "raw plaintext image, or - for standard output")
	passFile := fs.String(passphraseFlag, "", "file whose bytes are the passphrase (no newline stripping): LUKS and qcow2+LUKS")
	keyFile := fs.String(keyFlag, "", "file holding the raw 32- or 64-byte key: encrypted VHD")
	workers := fs.Int("workers", 0, "parallel decryption workers (default: number of CPUs)")
	showProgress := fs.Bool("progress", false, "draw a progress bar on standard error")
	pos, err := parseFlags(e, fs, "--in FILE|- --out FILE|- --passphrase-file F|--key-file F [flags]", args)
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
	case *passFile != "" && *keyFile != "":
		return usagef("give --passphrase-file (LUKS, qcow2+LUKS) or --key-file (encrypted VHD), not both")
	case *passFile == "" && *keyFile == "":
		return usagef("--passphrase-file (LUKS, qcow2+LUKS) or --key-file (encrypted VHD) is required")
	}

	// Standard input can only be a LUKS stream: the disk formats are read
	// at random offsets. A file is identified by its headers first, so the
	// right secret can be asked for before anything is written.
	kind, what := decryptLUKS, "standard input"
	if *inPath != "-" {
		kind, what, err = detectEncrypted(*inPath)
		if err != nil {
			return err
		}
	}
	sec := secret{flag: passphraseFlag, path: *passFile}
	if kind == decryptVHD {
		sec = secret{flag: keyFlag, path: *keyFile}
	}
	if sec.path == "" {
		other := keyFlag
		if sec.flag == keyFlag {
			other = passphraseFlag
		}
		return usagef("%s needs --%s, not --%s", what, sec.flag, other)
	}

	// 0600: the output is the plaintext the encryption protected.
	st := stream{label: "decrypt", secret: sec, in: *inPath, out: *outPath, perm: 0o600,
		progress: *showProgress, staged: kind != decryptLUKS}
	return st.run(ctx, e, func(sio *streamIO) error {
		if kind == decryptLUKS {
			var opts []luks.Option
			if *workers > 0 {
				opts = append(opts, luks.WithWorkers(*workers))
			}
			_, err := luks.DecryptContext(ctx, sio.dst, sio.src, sio.secret, opts...)
			if errors.Is(err, luks.ErrNotLUKS) && *inPath == "-" {
				return fmt.Errorf("%w (standard input must be a LUKS stream; give an encrypted VHD or qcow2 as --in FILE)", err)
			}
			return err
		}
		var d disk.Disk
		var err error
		if kind == decryptVHD {
			d, err = disk.OpenEncryptedVHD(sio.in.f, sio.in.size, sio.secret)
		} else {
			d, err = disk.OpenQCOW2LUKS(sio.in.f, sio.in.size, sio.secret)
		}
		if err != nil {
			return err
		}
		defer d.Close()
		_, err = disk.Convert(ctx, sio.dst, d, disk.Raw, diskOptions(*workers, sio.stages, "decrypt")...)
		return err
	})
}

// detectEncrypted tells which encrypted format the file at path is, and
// describes it for messages. An image that is not encrypted is an error.
func detectEncrypted(path string) (kind int, what string, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, "", err
	}
	defer f.Close()
	size := regularSize(f)
	if size < 0 {
		// A pipe or device given by name: only a LUKS stream works.
		return decryptLUKS, path, nil
	}
	id, err := identify(f, size)
	if err != nil {
		return 0, "", fmt.Errorf("%s: %w", path, err)
	}
	switch {
	case id.luks != nil:
		return decryptLUKS, fmt.Sprintf("%s (LUKS%d)", path, id.luks.Version), nil
	case id.info.Format == disk.EncryptedVHD:
		return decryptVHD, path + " (encrypted VHD)", nil
	case id.info.Format == disk.QCOW2LUKS:
		return decryptQCOW2, path + " (qcow2+LUKS)", nil
	}
	return 0, "", fmt.Errorf("%s is a %s image, not encrypted (LUKS, encrypted VHD or qcow2+LUKS); 'e2eimage convert' changes plain formats", path, id.format())
}
