package main

import (
	"context"
	"errors"
	"io"
)

// A fake format for CLI tests that do not need a real encoder: it prefixes
// the data with the passphrase length and XORs it with the passphrase.
func init() {
	registerFormat("test-xor", encoder{
		flags: []string{"workers"},
		encode: func(ctx context.Context, dst io.Writer, src io.Reader, p *encodeParams) error {
			if p.workers == 3 {
				return usagef("test-xor refuses 3 workers")
			}
			if _, err := dst.Write([]byte{byte(len(p.secret))}); err != nil {
				return err
			}
			buf := make([]byte, 1000)
			var off int
			for {
				n, err := src.Read(buf)
				for i := range buf[:n] {
					buf[i] ^= p.secret[(off+i)%len(p.secret)]
				}
				off += n
				if _, werr := dst.Write(buf[:n]); werr != nil {
					return werr
				}
				if errors.Is(err, io.EOF) {
					return nil
				}
				if err != nil {
					return err
				}
			}
		},
	})
}
