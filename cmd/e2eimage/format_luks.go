package main

import (
	"context"
	"io"

	"github.com/e2eimage/e2e/luks"
)

func init() {
	registerFormat("luks1", encoder{flags: []string{"workers", "iter-time", "pbkdf", "key-size", "sector-size"}, encode: encodeLUKS(1)})
	registerFormat("luks2", encoder{flags: []string{"workers", "iter-time", "pbkdf", "key-size", "sector-size"}, encode: encodeLUKS(2)})
}

// encodeLUKS writes a LUKS image (aes-xts-plain64) with the passphrase in
// key slot 0 and src as its payload.
func encodeLUKS(version int) func(context.Context, io.Writer, io.Reader, *encodeParams) error {
	return func(ctx context.Context, dst io.Writer, src io.Reader, p *encodeParams) error {
		opts := []luks.Option{luks.WithVersion(version)}
		if version == 1 {
			// Say so here rather than let the option be ignored.
			if p.pbkdf == "argon2id" {
				return usagef("luks1 key slots use pbkdf2 only; --pbkdf argon2id needs --format luks2")
			}
			if p.sectorSize > 512 {
				return usagef("luks1 has 512-byte sectors only; --sector-size %d needs --format luks2", p.sectorSize)
			}
		} else if p.pbkdf != "" {
			opts = append(opts, luks.WithPBKDF(p.pbkdf))
		}
		if p.sectorSize != 0 {
			opts = append(opts, luks.WithSectorSize(p.sectorSize))
		}
		if p.workers != 0 {
			opts = append(opts, luks.WithWorkers(p.workers))
		}
		if p.iterTime != 0 {
			opts = append(opts, luks.WithIterTime(p.iterTime))
		}
		if p.keySize != 0 {
			opts = append(opts, luks.WithKeySize(p.keySize))
		}
		if err := ctx.Err(); err != nil { // the KDF calibration below takes a while
			return err
		}
		w, err := luks.NewWriter(dst, p.secret, opts...)
		if err != nil {
			return err
		}
		if _, err := w.ReadFrom(src); err != nil {
			w.Close() // stops the workers and wipes the key; the output is abandoned
			return err
		}
		return w.Close()
	}
}
