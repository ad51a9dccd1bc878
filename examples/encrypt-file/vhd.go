package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/e2eimage/e2e/disk"
	"github.com/e2eimage/e2e/keys"
)

// encryptVHD writes src as a blktap encrypted VHD and reads it back.
func encryptVHD(ctx context.Context, out io.Writer, src source, dst string) error {
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

	d, err := disk.OpenFile(src.path) // detects raw, VHD or qcow2
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
	if err := src.decryptsFrom(ctx, enc); err != nil {
		return err
	}
	wrong := make([]byte, len(key))
	if _, err := disk.OpenEncryptedVHD(f, n, wrong); !errors.Is(err, disk.ErrWrongKey) {
		return fmt.Errorf("a wrong key was not refused: %v", err)
	}
	fmt.Fprintf(out, "VHD  %s: %d bytes (zero blocks left out), %d-byte virtual disk; decrypts to the source; a wrong key is refused\n",
		dst, n, enc.Size())
	return nil
}
