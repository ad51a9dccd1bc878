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
	registerFormat("vhd", encoder{flags: []string{"workers"}, secret: keyFlag, staged: true, encode: encodeVHD})
	registerFormat("qcow2", encoder{flags: []string{"workers", "iter-time", "key-size"}, staged: true, encode: encodeQCOW2})
}

// encodeVHD: the key file holds the raw data key (32 or 64 bytes), which is
// what blktap uses as the XTS key; readKey has checked its length.
func encodeVHD(ctx context.Context, dst io.Writer, _ io.Reader, p *encodeParams) error {
	d, err := openDisk(p)
	if err != nil {
		return err
	}
	defer d.Close()
	_, err = disk.WriteEncryptedVHD(ctx, dst, d, p.secret, diskOptions(p.workers, p.stages, "encrypt")...)
	return err
}

func encodeQCOW2(ctx context.Context, dst io.Writer, _ io.Reader, p *encodeParams) error {
	d, err := openDisk(p)
	if err != nil {
		return err
	}
	defer d.Close()
	opts := diskOptions(p.workers, p.stages, "encrypt")
	var lopts []luks.Option
	if p.iterTime != 0 {
		lopts = append(lopts, luks.WithIterTime(p.iterTime))
	}
	if p.keySize != 0 {
		lopts = append(lopts, luks.WithKeySize(p.keySize))
	}
	opts = append(opts, disk.WithLUKSOptions(lopts...))
	_, err = disk.WriteQCOW2LUKS(ctx, dst, d, p.secret, opts...)
	return err
}

func openDisk(p *encodeParams) (disk.Disk, error) {
	if p.in == nil || p.in.f == nil || p.in.size < 0 {
		return nil, usagef("this format reads the image at random (its container, and a zero scan when --out is a stream): --in must be a regular file, not a pipe")
	}
	return disk.Open(p.in.f, p.in.size)
}

// diskOptions turns the command line into package disk's write options;
// the write stage of the progress bars is called label.
func diskOptions(workers int, stages stageFunc, label string) []disk.WriteOption {
	var opts []disk.WriteOption
	if workers > 0 {
		opts = append(opts, disk.WithWorkers(workers))
	}
	if stages != nil {
		opts = append(opts, disk.WithProgress(func(u disk.Progress) {
			name := label
			if u.Stage == disk.StageScan {
				name = "scan"
			}
			stages(name, u.Done, u.Total)
		}))
	}
	return opts
}
