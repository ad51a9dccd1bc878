package luks

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"runtime"

	"golang.org/x/crypto/pbkdf2"
)

// chunk is a non-zero run of bytes inside a header area.
type chunk struct {
	off int64
	b   []byte
}

// formatted is a freshly made header area: size bytes, random in
// [noiseFrom, noiseTo) and zero elsewhere, except for the chunks, which
// are in order and do not overlap.
type formatted struct {
	size               int64
	noiseFrom, noiseTo int64
	chunks             []chunk
	vk                 []byte
	seg                segment
}

// bytes materialises the whole header area.
func (f *formatted) bytes() ([]byte, error) {
	out := make([]byte, f.size)
	if _, err := rand.Read(out[f.noiseFrom:f.noiseTo]); err != nil {
		return nil, err
	}
	for _, c := range f.chunks {
		copy(out[c.off:], c.b)
	}
	return out, nil
}

// writeTo streams the header area through one small buffer, so a 16 MiB
// LUKS2 area costs no 16 MiB allocation.
func (f *formatted) writeTo(w io.Writer) error {
	buf := make([]byte, 64<<10)
	pos := int64(0)
	fill := func(to int64) error {
		for pos < to {
			n := min(int64(len(buf)), to-pos)
			if pos < f.noiseFrom {
				n = min(n, f.noiseFrom-pos)
				clear(buf[:n])
			} else if pos < f.noiseTo {
				n = min(n, f.noiseTo-pos)
				if _, err := rand.Read(buf[:n]); err != nil {
					return err
				}
			} else {
				clear(buf[:n])
			}
			if _, err := w.Write(buf[:n]); err != nil {
				return err
			}
			pos += n
		}
		return nil
	}
	for _, c := range f.chunks {
		if err := fill(c.off); err != nil {
			return err
		}
		if _, err := w.Write(c.b); err != nil {
			return err
		}
		pos += int64(len(c.b))
	}
	return fill(f.size)
}

func (f *formatted) wipe() {
	clear(f.vk)
}

func randomBytes(n int) ([]byte, error) {
	b := make([]byte, n)
	_, err := rand.Read(b)
	return b, err
}

func newUUID() (string, error) {
	b, err := randomBytes(16)
	if err != nil {
		return "", err
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16]), nil
}

// slotKDF chooses the KDF of a new key slot: forced costs when given,
// otherwise calibrated to o.iterTime like cryptsetup.
func slotKDF(o *options, version, keyBytes int) (kdf, error) {
	salt, err := randomBytes(saltSize)
	if err != nil {
		return kdf{}, err
	}
	if version == 1 || o.pbkdf == "pbkdf2" {
		k := kdf{Type: "pbkdf2", Hash: o.hash, Salt: salt}
		if o.iterations > 0 {
			if o.iterations < minIterations {
				return kdf{}, fmt.Errorf("luks: %d PBKDF2 iterations, fewer than %d", o.iterations, minIterations)
			}
			k.Iterations = uint32(o.iterations)
			return k, nil
		}
		rate, err := pbkdf2Rate(o, o.hash, keyBytes)
		if err != nil {
			return kdf{}, err
		}
		k.Iterations = iterationsFor(rate, o.iterTime)
		return k, nil
	}
	k := kdf{Type: o.pbkdf, Salt: salt}
	switch {
	case o.argonTime > 0:
		k.Iterations, k.MemoryKiB, k.Threads = o.argonTime, o.argonMemory, o.argonThreads
	default:
		k.Threads = uint32(min(runtime.NumCPU(), argon2MaxThreads))
		k.MemoryKiB = defaultArgon2Memory()
		if o.iterations > 0 {
			k.Iterations = uint32(o.iterations)
		} else {
			k.Iterations, k.MemoryKiB = calibrateArgon2(o.iterTime, k.MemoryKiB, k.Threads, keyBytes)
		}
	}
	if o.iterations > 0 && o.argonTime > 0 {
		k.Iterations = uint32(o.iterations)
	}
	return k, nil
}

// digestIterations is 125 ms of PBKDF2 as in cryptsetup, or an eighth of a
// shorter iteration time as in QEMU (at least 1000 iterations either way),
// or the minimum when the caller forced KDF costs, which only tests and
// scripts do. The digest only checks a candidate volume key, which a
// payload sector can check as well, so its cost adds no strength; a fixed
// 125 ms would make a 10 ms --iter-time header take 150 ms to make.
func digestIterations(o *options, digestLen int) (uint32, error) {
	if o.iterations > 0 || o.argonTime > 0 {
		return minIterations, nil
	}
	rate, err := pbkdf2Rate(o, o.hash, digestLen)
	if err != nil {
		return 0, err
	}
	return iterationsFor(rate, min(digestIterTime, o.iterTime/8)), nil
}

// format builds a new header area with one active key slot (slot 0).
func format(pass []byte, o *options) (*formatted, error) {
	vk := o.volumeKey
	if vk == nil {
		var err error
		if vk, err = randomBytes(o.keyBits / 8); err != nil {
			return nil, err
		}
	} else {
		vk = append([]byte(nil), vk...)
	}
	uuid := o.uuid
	if uuid == "" {
		var err error
		if uuid, err = newUUID(); err != nil {
			return nil, err
		}
	}
	var (
		f   *formatted
		err error
	)
	if o.version == 2 {
		f, err = format2(pass, vk, uuid, o)
	} else {
		f, err = format1(pass, vk, uuid, o)
	}
	if err != nil {
		clear(vk)
		return nil, err
	}
	return f, nil
}

// layout1 returns the LUKS1 slot stride and payload offset, in sectors.
func layout1(keyBytes int, l Layout) (stride, payload uint32) {
	af := uint32(materialSize(keyBytes, stripes) / sectorSize)
	stride = (af + slotAlignment1 - 1) / slotAlignment1 * slotAlignment1
	payload = slotAlignment1 + numSlots1*stride
	if l == LayoutCryptsetup {
		payload = (payload + payloadAlign1 - 1) / payloadAlign1 * payloadAlign1
	}
	return stride, payload
}

func format1(pass, vk []byte, uuid string, o *options) (*formatted, error) {
	h := &header1{
		cipherName: "aes",
		cipherMode: "xts-plain64",
		hashSpec:   o.hash,
		keyBytes:   uint32(len(vk)),
		uuid:       uuid,
	}
	stride, payload := layout1(len(vk), o.layout)
	h.payloadOffset = payload
	if _, err := rand.Read(h.mkSalt[:]); err != nil {
		return nil, err
	}
	iter, err := digestIterations(o, digestSize1)
	if err != nil {
		return nil, err
	}
	h.mkIter = iter
	hf, _ := hashFunc(o.hash)
	copy(h.mkDigest[:], pbkdf2.Key(vk, h.mkSalt[:], int(iter), digestSize1, hf))
	for i := range h.slots {
		h.slots[i] = slot1{active: slotDisabled1, offset: slotAlignment1 + uint32(i)*stride, stripes: stripes}
	}
	k, err := slotKDF(o, 1, len(vk))
	if err != nil {
		return nil, err
	}
	h.slots[0].active = slotActive1
	h.slots[0].iterations = k.Iterations
	copy(h.slots[0].salt[:], k.Salt)
	infos := h.slotInfos()
	mat, err := sealSlot(infos[0], pass, vk)
	if err != nil {
		return nil, err
	}
	f := &formatted{size: int64(payload) * sectorSize, vk: vk, seg: h.segment()}
	f.chunks = append(f.chunks, chunk{0, h.marshal()}, chunk{infos[0].offset, mat})
	// cryptsetup fills unused key material with random bytes, so a used
	// slot cannot be told from an unused one.
	for _, s := range infos[1:] {
		r, err := randomBytes(int(materialSize(len(vk), stripes)))
		if err != nil {
			return nil, err
		}
		f.chunks = append(f.chunks, chunk{s.offset, r})
	}
	return f, nil
}

// newKeyslot2 makes a LUKS2 keyslot object whose key material lives at off.
func newKeyslot2(o *options, k kdf, keyBytes int, off uint64) *keyslot2 {
	ks := &keyslot2{
		Type:    "luks2",
		KeySize: keyBytes,
		AF:      af2{Type: "luks1", Stripes: stripes, Hash: o.hash},
		Area: area2{
			Type:       "raw",
			Offset:     off,
			Size:       areaSize2(keyBytes),
			Encryption: "aes-xts-plain64",
			KeySize:    keyBytes,
		},
		KDF: kdf2{Type: k.Type, Salt: k.Salt},
	}
	if k.Type == "pbkdf2" {
		ks.KDF.Hash, ks.KDF.Iterations = k.Hash, k.Iterations
	} else {
		ks.KDF.Time, ks.KDF.Memory, ks.KDF.CPUs = k.Iterations, k.MemoryKiB, k.Threads
	}
	return ks
}

// areaSize2 is a LUKS2 keyslot area: the material rounded up to 4 KiB
// (258048 bytes for a 512-bit key).
func areaSize2(keyBytes int) uint64 {
	return uint64((materialSize(keyBytes, stripes) + areaAlign2 - 1) / areaAlign2 * areaAlign2)
}

func format2(pass, vk []byte, uuid string, o *options) (*formatted, error) {
	k, err := slotKDF(o, 2, len(vk))
	if err != nil {
		return nil, err
	}
	hf, _ := hashFunc(o.hash)
	dlen := hf().Size()
	iter, err := digestIterations(o, dlen)
	if err != nil {
		return nil, err
	}
	dsalt, err := randomBytes(saltSize)
	if err != nil {
		return nil, err
	}
	h := &header2{
		bin: binHeader2{hdrSize: defaultHdrSize2, seqID: 1, label: o.label, csumAlg: "sha256", uuid: uuid},
		js: json2{
			Keyslots: map[string]*keyslot2{"0": newKeyslot2(o, k, len(vk), 2*defaultHdrSize2)},
			Tokens:   map[string]json.RawMessage{},
			Segments: map[string]*segment2{"0": {
				Type: "crypt", Offset: dataOffset2, Size: "dynamic", IVTweak: 0,
				Encryption: "aes-xts-plain64", SectorSize: o.sectorSize,
			}},
			Digests: map[string]*digest2{"0": {
				Type: "pbkdf2", Keyslots: []string{"0"}, Segments: []string{"0"}, Hash: o.hash,
				Iterations: iter, Salt: dsalt, Digest: pbkdf2.Key(vk, dsalt, int(iter), dlen, hf),
			}},
			Config: config2{JSONSize: defaultHdrSize2 - binHeader2Size, KeyslotsSize: defaultKeyslotsSize},
		},
	}
	infos := h.slotInfos()
	mat, err := sealSlot(infos[0], pass, vk)
	if err != nil {
		return nil, err
	}
	hdr, err := h.marshal()
	if err != nil {
		return nil, err
	}
	// cryptsetup fills the whole keyslots area with random bytes, so the
	// used areas do not stand out.
	return &formatted{
		size:      dataOffset2,
		noiseFrom: 2 * defaultHdrSize2,
		noiseTo:   2*defaultHdrSize2 + defaultKeyslotsSize,
		chunks:    []chunk{{0, hdr}, {infos[0].offset, mat}},
		vk:        vk,
		seg:       h.segment(),
	}, nil
}

// FormatHeader makes a new LUKS header with the passphrase in key slot 0
// and returns the whole header area (everything before the payload, key
// material included) and the volume key, which the caller must zero when
// done. qcow2+LUKS embeds such a LUKS1 header (use WithLayout(LayoutQEMU))
// and encrypts its clusters with the key itself.
func FormatHeader(passphrase []byte, opts ...Option) (header []byte, volumeKey []byte, err error) {
	o, err := buildOptions(opts)
	if err != nil {
		return nil, nil, err
	}
	f, err := format(passphrase, &o)
	if err != nil {
		return nil, nil, err
	}
	b, err := f.bytes()
	if err != nil {
		f.wipe()
		return nil, nil, err
	}
	return b, f.vk, nil
}
