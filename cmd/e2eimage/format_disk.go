package main

import (
	"context"
	"io"

	"github.com/e2eimage/e2e/disk"
	"github.com/e2eimage/e2e/luks"
)

// The disk container formats of package disk: the blktap encrypted VHD of
// IBM Cloud classic and the qcow2+LUKS of VPC. Both read --in as any
// supported image (raw, VHD, qcow2), detected, and need it to be a file:
// they scan it for zero blocks before writing the sequential output.
func init() {
	registerFormat("vhd", encoder{flags: []string{"workers"}, encode: encodeVHD})
	registerFormat("qcow2", encoder{flags: []string{"workers", "iter-time", "key-size"}, encode: encodeQCOW2})
}

// encodeVHD: the "passphrase" file holds the raw data key (32 or 64 bytes),
// which is what blktap uses as the XTS key.
func encodeVHD(ctx context.Context, dst io.Writer, _ io.Reader, p *encodeParams) error {
	if n := len(p.passphrase); n != 32 && n != 64 {
		return usagef("--format vhd takes the raw data key: the key file must hold exactly 32 or 64 bytes (AES-128/256-XTS), not %d", n)
	}
	d, err := openDisk(p)
	if err != nil {
		return err
	}
	defer d.Close()
	_, err = disk.WriteEncryptedVHD(ctx, dst, d, p.passphrase, diskOptions(p)...)
	return err
}

func encodeQCOW2(ctx context.Context, dst io.Writer, _ io.Reader, p *encodeParams) error {
	d, err := openDisk(p)
	if err != nil {
		return err
	}
	defer d.Close()
	opts := diskOptions(p)
	var lopts []luks.Option
	if p.iterTime != 0 {
		lopts = append(lopts, luks.WithIterTime(p.iterTime))
	}
	if p.keySize != 0 {
		lopts = append(lopts, luks.WithKeySize(p.keySize))
	}
	opts = append(opts, disk.WithLUKSOptions(lopts...))
	_, err = disk.WriteQCOW2LUKS(ctx, dst, d, p.passphrase, opts...)
	return err
}

func openDisk(p *encodeParams) (disk.Disk, error) {
	if p.in == nil || p.in.f == nil || p.in.size < 0 {
		return nil, usagef("this format reads the image twice (a zero scan, then the data): --in must be a regular file, not a pipe")
	}
	return disk.Open(p.in.f, p.in.size)
}

func diskOptions(p *encodeParams) []disk.WriteOption {
	var opts []disk.WriteOption
	if p.workers > 0 {
		opts = append(opts, disk.WithWorkers(p.workers))
	}
	return opts
}
