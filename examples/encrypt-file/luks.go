package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/e2eimage/e2e/keys"
	"github.com/e2eimage/e2e/luks"
)

// encryptLUKS streams src through luks.NewWriter into dst, then opens dst
// with the passphrase and checks the plaintext.
func encryptLUKS(ctx context.Context, out io.Writer, src source, dst string, iterTime time.Duration) error {
	dek, err := keys.NewDEK(32)
	if err != nil {
		return err
	}
	defer dek.Destroy()
	pass := dek.LUKSPassphrase() // IBM's convention: base64 text of the DEK
	defer clear(pass)

	in, err := os.Open(src.path)
	if err != nil {
		return err
	}
	defer in.Close()
	f, err := os.Create(dst)
	if err != nil {
		return err
	}
	defer f.Close()
	w, err := luks.NewWriter(f, pass, luks.WithIterTime(iterTime)) // writes the header now
	if err != nil {
		return err
	}
	if _, err := io.Copy(w, ctxReader{ctx, in}); err != nil {
		return err
	}
	if err := w.Close(); err != nil { // pads the last sector; does not close f
		return err
	}

	vol, err := luks.OpenContext(ctx, f, pass)
	if err != nil {
		return err
	}
	defer vol.Close()
	if err := src.decryptsFrom(ctx, vol); err != nil {
		return err
	}
	wrong := bytes.Repeat([]byte("A"), len(pass))
	if _, err := luks.OpenContext(ctx, f, wrong); !errors.Is(err, luks.ErrWrongPassphrase) {
		return fmt.Errorf("a wrong passphrase was not refused: %v", err)
	}
	fmt.Fprintf(out, "LUKS %s: %s, key slot %d, payload at %d; decrypts to the source; a wrong passphrase is refused\n",
		dst, vol.Header().CipherSpec(), vol.KeySlot(), vol.Header().PayloadOffset)
	return nil
}
