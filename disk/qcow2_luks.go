package disk

import (
	"bytes"
	"context"
	"fmt"
	"io"

	"github.com/e2eimage/e2e/internal/sector"
	"github.com/e2eimage/e2e/luks"
)

// WriteQCOW2LUKS writes src to dst as the encrypted qcow2 that IBM Cloud VPC
// imports (QEMU's encrypt.format=luks): qcow2 v3 with 64 KiB clusters, a
// LUKS1 header protecting a fresh random volume key with passphrase, in
// its own clusters, and every data cluster encrypted with aes-xts-plain64
// tweaked by its host file offset / 512. All-zero clusters are left
// unallocated; refcounts are exact, so `qemu-img check` finds no errors.
//
// When dst is a regular file (an *os.File not opened with O_APPEND), it is
// written in one pass over the source: the data clusters first, at their
// offsets, from several goroutines, then the tables and the headers; the
// key slot's PBKDF2 runs meanwhile (after calibrating it, first), and
// progress is reported as StageWrite of the virtual size only. A cancelled
// write returns once that PBKDF2 has finished; the file then holds no
// valid header. Any other dst is written strictly sequentially (an upload
// stream will do), after reading the source twice (a zero scan, then the
// data). The passphrase is not kept: the caller may wipe it on return. It
// returns the number of bytes written.
func WriteQCOW2LUKS(ctx context.Context, dst io.Writer, src Disk, passphrase []byte, opts ...WriteOption) (int64, error) {
	o, err := newWriteOptions(opts)
	if err != nil {
		return 0, err
	}
	size, err := qcowSize(src)
	if err != nil {
		return 0, err
	}
	lopts := append(append([]luks.Option(nil), o.luksOpts...), luks.WithVersion(1), luks.WithLayout(luks.LayoutQEMU))
	pos := sector.PositionalFile(dst)
	if pos == nil {
		header, vk, err := luks.FormatHeader(passphrase, lopts...)
		if err != nil {
			return 0, err
		}
		defer clear(vk)
		c, err := newSectorCipher(vk)
		if err != nil {
			return 0, fmt.Errorf("disk: LUKS volume key: %w", err)
		}
		defer c.Zero()
		cr := &qcowCrypto{c: c, luksLen: int64(len(header)), header: func() ([]byte, error) { return header, nil }}
		return writeQCOW2Stream(ctx, dst, src, size, cr, o)
	}
	// Calibrated now, on cores the data pass does not load yet.
	p, err := luks.Prepare(lopts...)
	if err != nil {
		return 0, err
	}
	defer p.Zero()
	c, err := newSectorCipher(p.VolumeKey)
	if err != nil {
		return 0, fmt.Errorf("disk: LUKS volume key: %w", err)
	}
	defer c.Zero()
	header := formatAsync(p, passphrase)
	defer header() // before p.Zero: the goroutine reads the key
	return writeQCOW2OnePass(ctx, pos, src, size, &qcowCrypto{c: c, luksLen: p.HeaderSize, header: header}, o)
}

// formatAsync runs p.Format in a goroutine on a copy of passphrase, wiped
// when it is done, and returns a function that waits for its result (and
// may be called more than once).
func formatAsync(p *luks.Prepared, passphrase []byte) func() ([]byte, error) {
	pass := bytes.Clone(passphrase)
	done := make(chan struct{})
	var (
		hdr []byte
		err error
	)
	go func() {
		defer close(done)
		defer clear(pass)
		hdr, err = p.Header(pass)
	}()
	return func() ([]byte, error) {
		<-done
		return hdr, err
	}
}

// OpenQCOW2LUKS opens a LUKS-encrypted qcow2 (ours or QEMU's) with its
// passphrase. A wrong passphrase fails with luks.ErrWrongPassphrase; a qcow2
// that is not LUKS-encrypted with ErrNotEncrypted.
func OpenQCOW2LUKS(r io.ReaderAt, size int64, passphrase []byte) (Disk, error) {
	kind, err := sniff(r, size)
	if err != nil {
		return nil, err
	}
	if kind != sniffQCOW2 {
		return nil, fmt.Errorf("%w: not a qcow2 image", ErrNotEncrypted)
	}
	q, err := parseQCOW2(r, size)
	if err != nil {
		return nil, err
	}
	if q.cryptMethod != qcowCryptLUKS {
		return nil, fmt.Errorf("%w: qcow2 without LUKS encryption", ErrNotEncrypted)
	}
	return openQCOW2LUKS(q, r, passphrase)
}

func openQCOW2LUKS(q *qcowInfo, r io.ReaderAt, passphrase []byte) (Disk, error) {
	hdr := io.NewSectionReader(r, int64(q.fdeOffset), int64(q.fdeLength))
	vk, h, err := luks.UnlockHeader(hdr, passphrase)
	if err != nil {
		return nil, err
	}
	defer clear(vk)
	if h.Cipher != "aes" || (h.Mode != "xts-plain64" && h.Mode != "xts-plain") || (h.SectorSize != 0 && h.SectorSize != SectorSize) || h.IVTweak != 0 {
		return nil, &UnsupportedError{Format: QCOW2LUKS, Feature: "LUKS cipher " + h.CipherSpec()}
	}
	c, err := newSectorCipher(vk)
	if err != nil {
		return nil, &UnsupportedError{Format: QCOW2LUKS, Feature: fmt.Sprintf("%d-byte XTS key", len(vk))}
	}
	return q.open(r, c, nil)
}
