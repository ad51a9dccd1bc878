package main

import (
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/e2eimage/e2e/disk"
	"github.com/e2eimage/e2e/luks"
)

func init() {
	register(command{
		name:    "inspect",
		usage:   "FILE [--json]",
		summary: "describe an image: LUKS, raw, VHD, encrypted VHD, qcow2, qcow2+LUKS (no secret needed or shown)",
		run:     runInspect,
	})
}

// inspectReport is the --json output, one object whatever the format. Its
// field names are a stable interface: new fields may be added, none will
// be renamed or removed. Sizes are in bytes.
type inspectReport struct {
	// Format is luks1, luks2, or raw, vhd-fixed, vhd-dynamic,
	// vhd-differencing, vhd-encrypted, qcow2, qcow2-luks.
	Format    string `json:"format"`
	Encrypted bool   `json:"encrypted"`
	FileSize  int64  `json:"file_size"`
	// VirtualSize is the guest disk size; for a LUKS container, the
	// payload size.
	VirtualSize int64 `json:"virtual_size"`
	// BlockSize is the VHD block or qcow2 cluster size; Allocated the
	// bytes of the blocks or clusters stored in the file.
	BlockSize    int64 `json:"block_size,omitempty"`
	Allocated    int64 `json:"allocated,omitempty"`
	QCOW2Version int   `json:"qcow2_version,omitempty"`
	// KeyHash is an encrypted VHD's SHA-256(nonce ‖ key), hex: it tells
	// which key opens the image and, for a 32- or 64-byte random key,
	// nothing more. It is stored in the clear in the image.
	KeyHash      string `json:"key_hash,omitempty"`
	KeyHashNonce string `json:"key_hash_nonce,omitempty"`
	// Parent is a differencing VHD's parent or a qcow2 backing file.
	Parent string `json:"parent,omitempty"`
	// LUKS is the header of a LUKS container or of the one embedded in a
	// qcow2+LUKS image (at LUKSOffset, LUKSLength bytes): no key material,
	// digest or salt.
	LUKS       *luks.Header `json:"luks,omitempty"`
	LUKSOffset int64        `json:"luks_offset,omitempty"`
	LUKSLength int64        `json:"luks_length,omitempty"`
}

func runInspect(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet("inspect")
	asJSON := fs.Bool("json", false, "print one JSON object (stable field names) instead of text")
	pos, err := parseFlags(e, fs, "FILE [--json]", args)
	if err != nil {
		return err
	}
	switch len(pos) {
	case 0:
		return usagef("missing FILE")
	case 1:
	default:
		return usagef("unexpected argument %q", pos[1])
	}
	f, err := os.Open(pos[0])
	if err != nil {
		return err
	}
	defer f.Close()
	size := regularSize(f)
	if size < 0 {
		// Block devices are not regular files but can seek to their end.
		if size, err = f.Seek(0, io.SeekEnd); err != nil {
			return fmt.Errorf("%s: cannot tell its size: %w", pos[0], err)
		}
	}
	id, err := identify(f, size)
	if err != nil {
		return fmt.Errorf("%s: %w", pos[0], err)
	}
	r := report(id, size)
	if *asJSON {
		return writeJSON(e.stdout, r)
	}
	_, err = io.WriteString(e.stdout, r.text())
	return err
}

func report(id *identity, fileSize int64) *inspectReport {
	r := &inspectReport{Format: id.format(), FileSize: fileSize}
	if h := id.luks; h != nil {
		r.Encrypted, r.LUKS = true, h
		r.VirtualSize = h.PayloadSize
		if r.VirtualSize == 0 {
			r.VirtualSize = max(fileSize-h.PayloadOffset, 0)
		}
		return r
	}
	in := id.info
	r.Encrypted = in.Format.Encrypted()
	r.VirtualSize, r.BlockSize, r.Allocated, r.QCOW2Version, r.Parent = in.VirtualSize, in.BlockSize, in.Allocated, in.QCOW2Version, in.Parent
	if in.Format == disk.EncryptedVHD {
		r.KeyHash, r.KeyHashNonce = hex.EncodeToString(in.KeyHash[:]), hex.EncodeToString(in.KeyHashNonce[:])
	}
	if in.LUKS != nil {
		r.LUKS, r.LUKSOffset, r.LUKSLength = in.LUKS, in.LUKSOffset, in.LUKSLength
	}
	return r
}

// text is the human-readable form of the report.
func (r *inspectReport) text() string {
	var b strings.Builder
	enc := ""
	if r.Encrypted {
		enc = ", encrypted"
	}
	fmt.Fprintf(&b, "format       %s%s\n", r.Format, enc)
	fmt.Fprintf(&b, "file size    %d bytes (%s)\n", r.FileSize, humanBytes(r.FileSize))
	what := "virtual size"
	if r.Format == "luks1" || r.Format == "luks2" {
		what = "payload size"
	}
	fmt.Fprintf(&b, "%-12s %d bytes (%s)\n", what, r.VirtualSize, humanBytes(r.VirtualSize))
	if r.BlockSize > 0 {
		unit := "block size"
		if r.QCOW2Version > 0 {
			unit = "cluster size"
		}
		fmt.Fprintf(&b, "%-12s %s\n", unit, humanBytes(r.BlockSize))
		fmt.Fprintf(&b, "allocated    %d bytes (%s)\n", r.Allocated, humanBytes(r.Allocated))
	}
	if r.QCOW2Version > 0 {
		fmt.Fprintf(&b, "qcow2        version %d\n", r.QCOW2Version)
	}
	if r.KeyHash != "" {
		fmt.Fprintf(&b, "key hash     %s (SHA-256 of nonce and key)\n", r.KeyHash)
	}
	if r.Parent != "" {
		fmt.Fprintf(&b, "parent       %s\n", r.Parent)
	}
	if r.LUKS != nil {
		if r.LUKSOffset > 0 {
			fmt.Fprintf(&b, "luks header  at %d, %d bytes\n", r.LUKSOffset, r.LUKSLength)
		}
		b.WriteString(r.LUKS.String())
	}
	return b.String()
}
