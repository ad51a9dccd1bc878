package disk

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync/atomic"
)

// SectorSize is the unit of every format here: virtual sizes are rounded up
// to it and encryption works on 512-byte sectors.
const SectorSize = 512

// Disk is a virtual disk: its ReadAt reads guest bytes whatever the container
// format, and is safe for concurrent use. Reads past Size return io.EOF.
type Disk interface {
	io.ReaderAt
	// Size is the virtual size in bytes.
	Size() int64
	// Format is the container format that was detected or requested.
	Format() Format
	// Extents maps [0, Size) into ordered, non-overlapping ranges that are
	// either known to read as zeros (Zero) or may hold data. It reads only
	// metadata (allocation tables), so it is fast; a data extent can still
	// contain zeros.
	Extents(ctx context.Context) ([]Extent, error)
	// Close releases the disk and the parents it opened and wipes its
	// cipher; it does not close the io.ReaderAt given to Open. Reads must
	// not run concurrently with Close; later reads fail with ErrClosed.
	Close() error
}

// Extent is a range of the virtual disk.
type Extent struct {
	Offset, Length int64
	// Zero is true when the range is known to read as zeros (unallocated
	// blocks or clusters, qcow2 zero clusters).
	Zero bool
}

// impl is what each format provides; image does bounds, EOF and Close.
type impl interface {
	// readAt fills p from off; the range lies within [0, size).
	readAt(p []byte, off int64) error
	// extents reports allocation; it may return unmerged extents.
	extents(ctx context.Context) ([]Extent, error)
}

type image struct {
	impl
	size    int64
	format  Format
	closers []io.Closer
	closed  atomic.Bool
}

func (d *image) Size() int64    { return d.size }
func (d *image) Format() Format { return d.format }

func (d *image) ReadAt(p []byte, off int64) (int, error) {
	if d.closed.Load() {
		return 0, ErrClosed
	}
	if off < 0 {
		return 0, fmt.Errorf("disk: negative offset %d", off)
	}
	if off >= d.size {
		return 0, io.EOF
	}
	n := len(p)
	if int64(n) > d.size-off {
		n = int(d.size - off)
	}
	if err := d.impl.readAt(p[:n], off); err != nil {
		return 0, err
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func (d *image) Extents(ctx context.Context) ([]Extent, error) {
	if d.closed.Load() {
		return nil, ErrClosed
	}
	ext, err := d.impl.extents(ctx)
	if err != nil {
		return nil, err
	}
	return mergeExtents(ext), nil
}

func (d *image) Close() error {
	if d.closed.Swap(true) {
		return nil
	}
	var errs []error
	for _, c := range d.closers {
		errs = append(errs, c.Close())
	}
	if z, ok := d.impl.(interface{ zero() }); ok {
		z.zero()
	}
	return errors.Join(errs...)
}

// mergeExtents joins neighbours of the same kind and drops empty ranges.
func mergeExtents(in []Extent) []Extent {
	out := in[:0]
	for _, e := range in {
		if e.Length <= 0 {
			continue
		}
		if n := len(out); n > 0 && out[n-1].Zero == e.Zero && out[n-1].Offset+out[n-1].Length == e.Offset {
			out[n-1].Length += e.Length
			continue
		}
		out = append(out, e)
	}
	return out
}

// OpenOption configures Open and OpenFile.
type OpenOption func(*openOptions) error

type openOptions struct {
	key        []byte // encrypted VHD
	passphrase []byte // qcow2+LUKS
	parent     ParentOpener
	dir        string // directory of the image, to resolve relative parent paths
	depth      int
}

// maxChain bounds differencing chains, so an image that names itself as its
// parent fails instead of recursing forever.
const maxChain = 32

// ParentRef is what a differencing VHD says about its parent, or a qcow2
// image about its backing file (Name only).
type ParentRef struct {
	// Name is the parent's file name from the header (often absolute).
	Name string
	// UUID is the parent footer's unique id as recorded in the child.
	UUID [16]byte
	// Locators are the paths of the parent locator entries, most specific
	// (relative) first.
	Locators []string
	// Dir is the directory of the child image, when known, for relative
	// locators.
	Dir string
}

// ParentOpener returns the parent of a differencing VHD. If the returned
// io.ReaderAt is also an io.Closer, the child's Close closes it.
type ParentOpener func(ref ParentRef) (r io.ReaderAt, size int64, err error)

// WithParentOpener sets how differencing VHDs find their parent and qcow2
// images their backing file. The default for Open is none (ErrNoParent);
// OpenFile looks for it on disk (VHD locators, then the recorded name),
// relative to the child's directory.
func WithParentOpener(fn ParentOpener) OpenOption {
	return func(o *openOptions) error {
		o.parent = fn
		return nil
	}
}

// WithKey gives Open the raw 32- or 64-byte key of an encrypted VHD (see
// OpenEncryptedVHD); other formats ignore it. Open does not keep the slice.
// The default is none: encrypted VHDs fail with ErrEncrypted.
func WithKey(key []byte) OpenOption {
	return func(o *openOptions) error {
		o.key = key
		return nil
	}
}

// WithPassphrase gives Open the passphrase of a qcow2+LUKS image (see
// OpenQCOW2LUKS); other formats ignore it. Open does not keep the slice.
// The default is none: qcow2+LUKS images fail with ErrEncrypted.
func WithPassphrase(passphrase []byte) OpenOption {
	return func(o *openOptions) error {
		o.passphrase = passphrase
		return nil
	}
}

// Open detects the container format of the image r of the given size and
// returns the virtual disk inside. Anything that is not a VHD or qcow2 is
// opened as Raw. Encrypted images need WithKey or WithPassphrase, else they
// fail with ErrEncrypted.
func Open(r io.ReaderAt, size int64, opts ...OpenOption) (Disk, error) {
	var o openOptions
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return nil, err
		}
	}
	return open(r, size, &o)
}

func open(r io.ReaderAt, size int64, o *openOptions) (Disk, error) {
	if size < 0 {
		return nil, fmt.Errorf("disk: negative size %d", size)
	}
	kind, err := sniff(r, size)
	if err != nil {
		return nil, err
	}
	switch kind {
	case sniffVHD:
		v, err := parseVHD(r, size)
		if err != nil {
			return nil, err
		}
		if v.encrypted {
			if o.key == nil {
				return nil, fmt.Errorf("%w (%s): use WithKey or OpenEncryptedVHD", ErrEncrypted, EncryptedVHD)
			}
			return openEncryptedVHD(v, r, o.key)
		}
		return v.open(r, nil, o)
	case sniffQCOW2:
		q, err := parseQCOW2(r, size)
		if err != nil {
			return nil, err
		}
		if q.cryptMethod == qcowCryptLUKS {
			if o.passphrase == nil {
				return nil, fmt.Errorf("%w (%s): use WithPassphrase or OpenQCOW2LUKS", ErrEncrypted, QCOW2LUKS)
			}
			return openQCOW2LUKS(q, r, o.passphrase)
		}
		return q.open(r, nil, o)
	}
	return openRaw(r, size), nil
}

// OpenFile opens the image file at path with Open; the disk's Close closes
// the file. Differencing VHDs and qcow2 overlays find their parents or
// backing files relative to it unless WithParentOpener says otherwise.
func OpenFile(path string, opts ...OpenOption) (Disk, error) {
	o := openOptions{parent: fileParentOpener, dir: filepath.Dir(path)}
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return nil, err
		}
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	d, err := open(f, st.Size(), &o)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	img := d.(*image)
	img.closers = append(img.closers, f)
	if r, ok := img.impl.(rawImpl); ok {
		r.f = f // raw and fixed VHD data start at 0: file holes are disk holes
		img.impl = r
	}
	return d, nil
}

// fileParentOpener tries the locators, then the bare name, next to the child.
func fileParentOpener(ref ParentRef) (io.ReaderAt, int64, error) {
	var cands []string
	for _, p := range append(append([]string(nil), ref.Locators...), ref.Name) {
		if p == "" {
			continue
		}
		if !filepath.IsAbs(p) && ref.Dir != "" {
			p = filepath.Join(ref.Dir, p)
		}
		cands = append(cands, p)
	}
	if ref.Name != "" && ref.Dir != "" {
		cands = append(cands, filepath.Join(ref.Dir, filepath.Base(ref.Name)))
	}
	for _, p := range cands {
		f, err := os.Open(p)
		if err != nil {
			continue
		}
		st, err := f.Stat()
		if err != nil || !st.Mode().IsRegular() {
			f.Close()
			continue
		}
		return f, st.Size(), nil
	}
	return nil, 0, fmt.Errorf("%w: parent %q not found", ErrNoParent, ref.Name)
}

type sniffKind int

const (
	sniffRaw sniffKind = iota
	sniffVHD
	sniffQCOW2
)

func sniff(r io.ReaderAt, size int64) (sniffKind, error) {
	var head [8]byte
	if size >= 8 {
		if _, err := r.ReadAt(head[:], 0); err != nil && err != io.EOF {
			return 0, err
		}
		if string(head[:4]) == qcowMagic {
			return sniffQCOW2, nil
		}
		if string(head[:]) == vhdCookie {
			return sniffVHD, nil
		}
	}
	if size >= vhdFooterSize {
		if _, err := r.ReadAt(head[:], size-vhdFooterSize); err != nil && err != io.EOF {
			return 0, err
		}
		if string(head[:]) == vhdCookie {
			return sniffVHD, nil
		}
	}
	return sniffRaw, nil
}

// readFull reads exactly len(p) bytes at off, treating a short read as
// corruption of format f (a table that runs past the end of the file).
func readFull(r io.ReaderAt, p []byte, off int64, f Format, what string) error {
	n, err := r.ReadAt(p, off)
	if n == len(p) {
		return nil
	}
	if err == nil || err == io.EOF {
		return corrupt(f, what, off, "runs past the end of the file")
	}
	return err
}

func roundUp(n, to int64) int64 { return (n + to - 1) / to * to }
