package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/e2eimage/e2e/disk"
	"github.com/e2eimage/e2e/luks"
)

// identity is what an image file is, learned from its headers alone (no
// secret needed): a LUKS container, or one of package disk's formats.
type identity struct {
	luks *luks.Header // set for a LUKS1 or LUKS2 container
	info *disk.Info   // set otherwise
}

// identify reads the headers of the image r of the given size. A LUKS
// magic makes it a LUKS container, whose header must then parse; anything
// else is what disk.Inspect detects (raw when nothing else fits).
func identify(r io.ReaderAt, size int64) (*identity, error) {
	h, err := luks.ReadHeader(r)
	if err == nil {
		return &identity{luks: h}, nil
	}
	if !errors.Is(err, luks.ErrNotLUKS) {
		return nil, err
	}
	info, err := disk.Inspect(r, size)
	if err != nil {
		return nil, err
	}
	return &identity{info: info}, nil
}

// format is the image's format name: luks1, luks2, or package disk's
// name (raw, vhd-fixed, vhd-dynamic, encrypted-vhd, qcow2, qcow2-luks…).
func (id *identity) format() string {
	if id.luks != nil {
		return fmt.Sprintf("luks%d", id.luks.Version)
	}
	return id.info.Format.String()
}
