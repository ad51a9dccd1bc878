package luks

import (
	"context"
	"errors"
	"io"
	"slices"
	"strconv"
)

// ReadWriterAt is an image opened for key management, such as an *os.File.
type ReadWriterAt interface {
	io.ReaderAt
	io.WriterAt
}

// AddKey unlocks the image with an existing passphrase and stores added
// in the first free key slot, whose number it returns. Only the header
// area is rewritten. KDF options (WithIterTime, WithIterations, WithPBKDF,
// WithArgon2, and for LUKS2 WithHash) apply to the new slot.
func AddKey(f ReadWriterAt, existing, added []byte, opts ...Option) (slot int, err error) {
	o, err := buildOptions(opts)
	if err != nil {
		return -1, err
	}
	m, err := readMeta(f)
	if err != nil {
		return -1, err
	}
	vk, _, err := unlock(context.Background(), f, m, existing)
	if err != nil {
		return -1, err
	}
	defer clear(vk)
	return addSlot(f, m, vk, added, &o)
}

// RemoveKey destroys the key slot the passphrase opens: its key material is
// overwritten and the slot disabled. It refuses (ErrLastKeySlot) to remove
// the only active slot, which would make the data unrecoverable.
func RemoveKey(f ReadWriterAt, passphrase []byte) error {
	m, err := readMeta(f)
	if err != nil {
		return err
	}
	vk, slot, err := unlock(context.Background(), f, m, passphrase)
	if err != nil {
		return err
	}
	clear(vk)
	active := 0
	for _, s := range m.slotInfos() {
		if s.active {
			active++
		}
	}
	if active < 2 {
		return ErrLastKeySlot
	}
	return killSlot(f, m, slot)
}

// ChangeKey replaces the passphrase old with new. The new passphrase goes
// to a free slot before the old slot is destroyed, so a crash leaves at
// least one of them working; with no free slot, the old slot is rewritten
// in place. KDF options apply as for AddKey.
func ChangeKey(f ReadWriterAt, old, new []byte, opts ...Option) error {
	o, err := buildOptions(opts)
	if err != nil {
		return err
	}
	m, err := readMeta(f)
	if err != nil {
		return err
	}
	vk, slot, err := unlock(context.Background(), f, m, old)
	if err != nil {
		return err
	}
	defer clear(vk)
	if _, err := addSlot(f, m, vk, new, &o); err == nil {
		if m, err = readMeta(f); err != nil {
			return err
		}
		return killSlot(f, m, slot)
	} else if !errors.Is(err, ErrNoFreeSlot) {
		return err
	}
	if err := killSlot(f, m, slot); err != nil {
		return err
	}
	if m, err = readMeta(f); err != nil {
		return err
	}
	_, err = addSlot(f, m, vk, new, &o)
	return err
}

// addSlot seals vk under pass into a free slot: key material first, then
// the header, so an interrupted write never names garbage material.
func addSlot(f io.WriterAt, m metadata, vk, pass []byte, o *options) (int, error) {
	switch h := m.(type) {
	case *header1:
		free := -1
		for i := range h.slots {
			if h.slots[i].active != slotActive1 {
				free = i
				break
			}
		}
		if free < 0 {
			return -1, ErrNoFreeSlot
		}
		k, err := slotKDF(o, 1, len(vk))
		if err != nil {
			return -1, err
		}
		s := &h.slots[free]
		s.iterations = k.Iterations
		copy(s.salt[:], k.Salt)
		info := h.slotInfos()[free]
		mat, err := sealSlot(info, pass, vk)
		if err != nil {
			return -1, err
		}
		if _, err := f.WriteAt(mat, info.offset); err != nil {
			return -1, err
		}
		s.active = slotActive1
		_, err = f.WriteAt(h.marshal(), 0)
		return free, err
	case *header2:
		id := -1
		for i := range maxSlots2 {
			if h.js.Keyslots[strconv.Itoa(i)] == nil {
				id = i
				break
			}
		}
		off, ok := h.freeArea(areaSize2(len(vk)))
		if id < 0 || !ok {
			return -1, ErrNoFreeSlot
		}
		did, d := h.segmentDigest()
		if d == nil {
			return -1, corrupt("LUKS2 header without a segment digest")
		}
		k, err := slotKDF(o, 2, len(vk))
		if err != nil {
			return -1, err
		}
		sid := strconv.Itoa(id)
		ks := newKeyslot2(o, k, len(vk), off)
		c, mo := splitSpec(ks.Area.Encryption)
		info := slotInfo{index: id, active: true, kdf: k, stripes: ks.AF.Stripes, afHash: ks.AF.Hash,
			offset: int64(off), size: int64(ks.Area.Size), cipher: c, mode: mo, keyBytes: ks.Area.KeySize}
		mat, err := sealSlot(info, pass, vk)
		if err != nil {
			return -1, err
		}
		if _, err := f.WriteAt(mat, int64(off)); err != nil {
			return -1, err
		}
		h.js.Keyslots[sid] = ks
		d.Keyslots = append(d.Keyslots, sid)
		slices.SortFunc(d.Keyslots, func(a, b string) int { x, _ := strconv.Atoi(a); y, _ := strconv.Atoi(b); return x - y })
		h.js.Digests[did] = d
		return id, writeHeader2(f, h)
	}
	return -1, unsupported("header type")
}

// freeArea finds the first 4 KiB-aligned gap of size bytes in the LUKS2
// keyslots area.
func (h *header2) freeArea(size uint64) (uint64, bool) {
	start, end := 2*h.bin.hdrSize, 2*h.bin.hdrSize+h.js.Config.KeyslotsSize
	type span struct{ a, b uint64 }
	var used []span
	for _, ks := range h.js.Keyslots {
		used = append(used, span{ks.Area.Offset, ks.Area.Offset + ks.Area.Size})
	}
	slices.SortFunc(used, func(x, y span) int {
		if x.a < y.a {
			return -1
		}
		if x.a > y.a {
			return 1
		}
		return 0
	})
	pos := start
	for _, u := range used {
		if u.a >= pos+size {
			break
		}
		if u.b > pos {
			pos = (u.b + areaAlign2 - 1) / areaAlign2 * areaAlign2
		}
	}
	return pos, pos+size <= end
}

func writeHeader2(f io.WriterAt, h *header2) error {
	h.bin.seqID++
	b, err := h.marshal()
	if err != nil {
		return err
	}
	_, err = f.WriteAt(b, 0)
	return err
}

// killSlot disables a slot: header first (so the slot is never active with
// wiped material), then its material is overwritten with random bytes.
func killSlot(f io.WriterAt, m metadata, slot int) error {
	var off, size int64
	switch h := m.(type) {
	case *header1:
		info := h.slotInfos()[slot]
		off, size = info.offset, materialSize(h.volumeKeyBytes(), info.stripes)
		s := &h.slots[slot]
		s.active, s.iterations, s.salt = slotDisabled1, 0, [saltSize]byte{}
		if _, err := f.WriteAt(h.marshal(), 0); err != nil {
			return err
		}
	case *header2:
		sid := strconv.Itoa(slot)
		ks := h.js.Keyslots[sid]
		if ks == nil {
			return corrupt("LUKS2 keyslot " + sid + " vanished")
		}
		off, size = int64(ks.Area.Offset), int64(ks.Area.Size)
		delete(h.js.Keyslots, sid)
		for _, d := range h.js.Digests {
			d.Keyslots = slices.DeleteFunc(d.Keyslots, func(s string) bool { return s == sid })
		}
		if err := writeHeader2(f, h); err != nil {
			return err
		}
	default:
		return unsupported("header type")
	}
	junk, err := randomBytes(int(size))
	if err != nil {
		return err
	}
	_, err = f.WriteAt(junk, off)
	return err
}
