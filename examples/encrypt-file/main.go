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

	"github.com/e2eimage/e2e/disk"
	"github.com/e2eimage/e2e/internal/demo"
	"github.com/e2eimage/e2e/keys"
	"github.com/e2eimage/e2e/luks"
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
	want, size, err := digest(ctx, src)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "source %s: %d bytes, sha256 %x\n", src, size, want[:8])
	if err := encryptLUKS(ctx, out, src, filepath.Join(dir, "disk.luks"), want, size, iterTime); err != nil {
		return fmt.Errorf("luks: %w", err)
	}
	if err := encryptVHD(ctx, out, src, filepath.Join(dir, "disk.vhd-0.vhd"), want, size); err != nil {
		return fmt.Errorf("vhd: %w", err)
	}
	return nil
}

// encryptLUKS streams src through luks.NewWriter into dst, then opens dst
// with the passphrase and checks the plaintext.
func encryptLUKS(ctx context.Context, out io.Writer, src, dst string, want []byte, size int64, iterTime time.Duration) error {
	dek, err := keys.NewDEK(32)
	if err != nil {
		return err
	}
	defer dek.Destroy()
	pass := dek.LUKSPassphrase() // IBM's convention: base64 text of the DEK
	defer clear(pass)

	in, err := os.Open(src)
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
	got, _, err := hashReader(ctx, io.NewSectionReader(vol, 0, vol.Size()), size)
	if err != nil {
		return err
	}
	if !bytes.Equal(got, want) {
		return errors.New("the LUKS image does not decrypt to the source")
	}
	wrong := bytes.Repeat([]byte("A"), len(pass))
	if _, err := luks.OpenContext(ctx, f, wrong); !errors.Is(err, luks.ErrWrongPassphrase) {
		return fmt.Errorf("a wrong passphrase was not refused: %v", err)
	}
	fmt.Fprintf(out, "LUKS %s: %s, key slot %d, payload at %d; decrypts to the source; a wrong passphrase is refused\n",
		dst, vol.Header().CipherSpec(), vol.KeySlot(), vol.Header().PayloadOffset)
	return nil
}

// encryptVHD writes src as a blktap encrypted VHD and reads it back.
func encryptVHD(ctx context.Context, out io.Writer, src, dst string, want []byte, size int64) error {
	dek, err := keys.NewDEK(64) // AES-256-XTS
	if err != nil {
		return err
	}
	defer dek.Destroy()
	key, err := dek.VHDKey()
	if err != nil {
		return err
	}
	defer clear(key)

	d, err := disk.OpenFile(src) // detects raw, VHD or qcow2
	if err != nil {
		return err
	}
	defer d.Close()
	f, err := os.Create(dst)
	if err != nil {
		return err
	}
	defer f.Close()
	n, err := disk.WriteEncryptedVHD(ctx, f, d, key)
	if err != nil {
		return err
	}

	enc, err := disk.OpenEncryptedVHD(f, n, key)
	if err != nil {
		return err
	}
	defer enc.Close()
	got, _, err := hashReader(ctx, io.NewSectionReader(enc, 0, enc.Size()), size)
	if err != nil {
		return err
	}
	if !bytes.Equal(got, want) {
		return errors.New("the encrypted VHD does not decrypt to the source")
	}
	wrong := make([]byte, len(key))
	if _, err := disk.OpenEncryptedVHD(f, n, wrong); !errors.Is(err, disk.ErrWrongKey) {
		return fmt.Errorf("a wrong key was not refused: %v", err)
	}
	fmt.Fprintf(out, "VHD  %s: %d bytes (zero blocks left out), %d-byte virtual disk; decrypts to the source; a wrong key is refused\n",
		dst, n, enc.Size())
	return nil
}

// digest hashes a file.
func digest(ctx context.Context, path string) ([]byte, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	return hashReader(ctx, f, -1)
}

// hashReader hashes the first n bytes of r, or all of it when n < 0:
// decrypted images are padded to whole sectors or blocks.
func hashReader(ctx context.Context, r io.Reader, n int64) ([]byte, int64, error) {
	h := sha256.New()
	var m int64
	var err error
	if n >= 0 {
		m, err = io.CopyN(h, ctxReader{ctx, r}, n)
	} else {
		m, err = io.Copy(h, ctxReader{ctx, r})
	}
	return h.Sum(nil), m, err
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
