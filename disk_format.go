package e2e

import (
	"context"
	"errors"
	"fmt"
	"hash"
	"io"
	"time"

	"github.com/e2eimage/e2e/disk"
	"github.com/e2eimage/e2e/keys"
	"github.com/e2eimage/e2e/luks"
	"github.com/e2eimage/e2e/storage"
)

// virtualDisk turns a seekable source into the virtual disk it holds: a
// VHD or qcow2 input is read through its container, a raw one as is.
func virtualDisk(in *opened) error {
	if in.ra == nil {
		return nil // a stream: taken as a raw disk
	}
	d, err := disk.Open(in.ra, in.size)
	if err != nil {
		return fmt.Errorf("e2e: read source image: %w", err)
	}
	if d.Format().Encrypted() {
		d.Close()
		return fmt.Errorf("e2e: source image is already encrypted (%s)", d.Format())
	}
	in.disk = d
	in.ra = d
	in.size = d.Size()
	in.r = io.NewSectionReader(d, 0, d.Size())
	prev := in.done
	in.done = func() error { d.Close(); return prev() }
	return nil
}

var errNeedSeekable = errors.New("e2e: encrypted VHD and qcow2 images need a seekable source (FromFile, FromReaderAt or FromCOS), not a stream")

// encodeDisk writes the disk-container formats (encrypted VHD, qcow2+LUKS).
func encodeDisk(ctx context.Context, cfg Config, w io.Writer, in *opened, dek *keys.DEK) error {
	f := cfg.Image.Format
	if f != EncryptedVHD && f != QCOW2LUKS {
		return fmt.Errorf("e2e: format %q is not supported", f)
	}
	if in.disk == nil {
		return errNeedSeekable
	}
	var opts []disk.WriteOption
	if cfg.Encrypt.Workers > 0 {
		opts = append(opts, disk.WithWorkers(cfg.Encrypt.Workers))
	}
	if f == EncryptedVHD {
		key, err := dek.VHDKey()
		if err != nil {
			return err
		}
		defer clear(key)
		_, err = disk.WriteEncryptedVHD(ctx, w, in.disk, key, opts...)
		return err
	}
	pass, err := dek.QCOW2Passphrase()
	if err != nil {
		return err
	}
	defer clear(pass)
	opts = append(opts, disk.WithLUKSOptions(luks.WithIterTime(time.Duration(cfg.Encrypt.IterTime))))
	_, err = disk.WriteQCOW2LUKS(ctx, w, in.disk, pass, opts...)
	return err
}

// verifyDisk opens an uploaded disk-container image with the DEK; with
// FullVerify it decrypts every byte into h.
func verifyDisk(ctx context.Context, cfg Config, ra *storage.ObjectReaderAt, dek *keys.DEK, h hash.Hash) (int64, error) {
	d, err := openEncryptedDisk(cfg.Image.Format, ra, dek)
	if err != nil {
		return 0, err
	}
	defer d.Close()
	if !cfg.FullVerify {
		return 0, nil
	}
	return io.Copy(h, ctxReader{ctx, io.NewSectionReader(d, 0, d.Size())})
}

// openEncryptedDisk opens an encrypted VHD or qcow2+LUKS object with the
// secret the format derives from the DEK.
func openEncryptedDisk(f Format, ra *storage.ObjectReaderAt, dek *keys.DEK) (disk.Disk, error) {
	var secret []byte
	var err error
	var open func(io.ReaderAt, int64, []byte) (disk.Disk, error)
	switch f {
	case EncryptedVHD:
		secret, err = dek.VHDKey()
		open = disk.OpenEncryptedVHD
	case QCOW2LUKS:
		secret, err = dek.QCOW2Passphrase()
		open = disk.OpenQCOW2LUKS
	default:
		return nil, fmt.Errorf("e2e: format %q is not supported", f)
	}
	if err != nil {
		return nil, err
	}
	defer clear(secret)
	return open(ra, ra.Size(), secret)
}
