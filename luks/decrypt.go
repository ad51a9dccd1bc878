package luks

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// maxHeaderArea bounds what Decrypt buffers before the payload, so a
// hostile header cannot make it allocate without limit.
const maxHeaderArea = 256 << 20

// Decrypt reads a whole LUKS image from src, unlocks it with the
// passphrase and writes the plaintext payload to dst, decrypting with
// parallel workers (WithWorkers, WithBatchSize, WithProgress apply). It
// buffers only the header area (16 MiB for a default LUKS2 image) and a few
// batches. It returns the number of payload bytes written.
func Decrypt(dst io.Writer, src io.Reader, passphrase []byte, opts ...Option) (int64, error) {
	return DecryptContext(context.Background(), dst, src, passphrase, opts...)
}

// DecryptContext is Decrypt with a context, checked between key slots and
// between batches.
func DecryptContext(ctx context.Context, dst io.Writer, src io.Reader, passphrase []byte, opts ...Option) (int64, error) {
	o, err := buildOptions(opts)
	if err != nil {
		return 0, err
	}
	hdr, err := readHeaderArea(src)
	if err != nil {
		return 0, err
	}
	ra := bytes.NewReader(hdr)
	m, err := readMeta(ra)
	if err != nil {
		return 0, err
	}
	vk, _, err := unlock(ctx, ra, m, passphrase)
	if err != nil {
		return 0, err
	}
	seg := m.segment()
	c, err := newSectorCipher(seg.cipher, seg.mode, vk)
	clear(vk)
	if err != nil {
		return 0, err
	}
	defer c.zero()
	var in io.Reader = &ctxReader{ctx: ctx, r: src}
	if seg.size > 0 {
		in = io.LimitReader(in, seg.size)
	}
	cr := &sectorReader{r: in, unit: seg.sectorSize}
	// dst is handed over unwrapped, so that a file is written in parallel
	// (see sector.Writer); the engine counts what reached it.
	sw := newPayloadWriter(dst, c, seg, &o, false)
	if _, rerr := sw.ReadFrom(cr); rerr != nil {
		// Flush the whole sectors decrypted so far; the error tells the
		// caller the output is incomplete.
		sw.Close()
		return sw.Written(), rerr
	}
	if err := sw.Close(); err != nil {
		return sw.Written(), err
	}
	if seg.size > 0 && cr.n < seg.size {
		return sw.Written(), corrupt(fmt.Sprintf("payload truncated: %d of %d bytes", cr.n, seg.size))
	}
	return sw.Written(), nil
}

// readHeaderArea reads everything before the payload from a stream.
func readHeaderArea(src io.Reader) ([]byte, error) {
	buf := make([]byte, binHeader2Size)
	n, err := io.ReadFull(src, buf)
	buf = buf[:n]
	if n < 8 || !bytes.Equal(buf[:6], magic1) {
		if n < 8 && err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, err
		}
		return nil, ErrNotLUKS
	}
	more := func(to int64) error {
		if to > maxHeaderArea {
			return unsupported(fmt.Sprintf("header area of %d bytes", to))
		}
		if int64(len(buf)) >= to {
			return nil
		}
		old := len(buf)
		buf = append(buf, make([]byte, to-int64(old))...)
		if _, err := io.ReadFull(src, buf[old:]); err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return corrupt("image ends inside its header area")
			}
			return err
		}
		return nil
	}
	switch binary.BigEndian.Uint16(buf[6:]) {
	case 1:
		if n < header1Size {
			return nil, corrupt("LUKS1 header truncated")
		}
		h, err := parseHeader1(buf)
		if err != nil {
			return nil, err
		}
		if h.payloadOffset == 0 {
			return nil, corrupt("LUKS1 header has no payload (detached header?)")
		}
		if err := more(int64(h.payloadOffset) * sectorSize); err != nil {
			return nil, err
		}
		return buf[:int64(h.payloadOffset)*sectorSize], nil
	case 2:
		if n < binHeader2Size {
			return nil, corrupt("LUKS2 header truncated")
		}
		b, err := parseBinHeader2(buf, magic1)
		if err != nil {
			return nil, err
		}
		if err := more(int64(2 * b.hdrSize)); err != nil {
			return nil, err
		}
		h, err := readHeader2(bytes.NewReader(buf))
		if err != nil {
			return nil, err
		}
		off := h.segment().offset
		if off == 0 {
			return nil, corrupt("LUKS2 header has no payload (detached header?)")
		}
		if err := more(off); err != nil {
			return nil, err
		}
		return buf[:off], nil
	default:
		return nil, unsupported(fmt.Sprintf("LUKS version %d", binary.BigEndian.Uint16(buf[6:])))
	}
}

// sectorReader hands out whole sectors only, so a payload torn inside its
// last sector is reported instead of being padded and decrypted to garbage.
// The sector engine reads into whole-sector room, so len(p) is a multiple
// of unit.
type sectorReader struct {
	r    io.Reader
	unit int
	n    int64
}

func (s *sectorReader) Read(p []byte) (int, error) {
	if len(p) < s.unit {
		return 0, io.ErrShortBuffer
	}
	p = p[:len(p)/s.unit*s.unit]
	n, err := s.r.Read(p)
	if part := n % s.unit; part != 0 && (err == nil || err == io.EOF) {
		var m int
		m, err = io.ReadFull(s.r, p[n:n+s.unit-part])
		n += m
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			n -= n % s.unit
			err = corrupt(fmt.Sprintf("payload ends %d bytes into a %d-byte sector", part+m, s.unit))
		}
	}
	s.n += int64(n)
	return n, err
}

type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
