// Command encrypt-file encrypts a raw disk image file locally, in the two
// containers IBM Cloud classic imports, and proves each decrypts back:
//
//   - LUKS (luks.NewWriter): the passphrase is the base64 text of a 32-byte
//     DEK; read back with luks.Open, which also refuses a wrong passphrase;
//   - encrypted VHD (disk.WriteEncryptedVHD): a 64-byte DEK is the AES-XTS
//     key; read back with disk.OpenEncryptedVHD, which refuses a wrong key.
//
// No cloud is involved: the DEKs are made locally and destroyed at the end.
// In real use Key Protect wraps them (see ../wrap-dek).
//
//	go run ./examples/encrypt-file
//
// Environment: E2E_SOURCE is the raw image to encrypt (default: a generated
// 4 MiB disk); E2E_OUT_DIR keeps the outputs (default: a temporary directory,
// removed at exit); E2E_ITER_TIME is the LUKS key-slot time (default 2s, as
// cryptsetup).
package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"time"

	"github.com/e2eimage/e2e/internal/demo"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Stdout, os.Getenv); err != nil {
		fmt.Fprintln(os.Stderr, "encrypt-file:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, out io.Writer, env func(string) string) error {
	iterTime := 2 * time.Second
	if v := env("E2E_ITER_TIME"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return fmt.Errorf("E2E_ITER_TIME=%q is not a positive duration", v)
		}
		iterTime = d
	}
	dir := env("E2E_OUT_DIR")
	if dir == "" {
		tmp, err := os.MkdirTemp("", "encrypt-file-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	}
	src := env("E2E_SOURCE")
	if src == "" {
		src = filepath.Join(dir, "disk.raw")
		if err := os.WriteFile(src, demo.Image(4<<20, 1), 0o600); err != nil {
			return err
		}
	}
	s, err := digest(ctx, src)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "source %s: %d bytes, sha256 %x\n", src, s.size, s.sum[:8])
	if err := encryptLUKS(ctx, out, s, filepath.Join(dir, "disk.luks"), iterTime); err != nil {
		return fmt.Errorf("luks: %w", err)
	}
	if err := encryptVHD(ctx, out, s, filepath.Join(dir, "disk.vhd-0.vhd")); err != nil {
		return fmt.Errorf("vhd: %w", err)
	}
	return nil
}

// source is the image to encrypt and its digest.
type source struct {
	path string
	size int64
	sum  []byte
}

func digest(ctx context.Context, path string) (source, error) {
	f, err := os.Open(path)
	if err != nil {
		return source{}, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, ctxReader{ctx, f})
	return source{path, n, h.Sum(nil)}, err
}

// decryptsFrom checks that plaintext starts with the source; decrypted
// images are padded to whole sectors or blocks.
func (s source) decryptsFrom(ctx context.Context, plaintext io.ReaderAt) error {
	h := sha256.New()
	if _, err := io.Copy(h, ctxReader{ctx, io.NewSectionReader(plaintext, 0, s.size)}); err != nil {
		return err
	}
	if !bytes.Equal(h.Sum(nil), s.sum) {
		return errors.New("the image does not decrypt to the source")
	}
	return nil
}

// ctxReader stops a copy when ctx is cancelled.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
