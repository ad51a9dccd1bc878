package luks

import (
	"errors"
	"fmt"
)

// Prepared is a LUKS header split in two: Prepare does the quick part that
// must come first (validating the options, measuring PBKDF2, drawing the
// volume key), Header the slow part (the key slot's KDF). A writer can then
// encrypt the payload with VolumeKey while Header runs in another
// goroutine, and place the header, whose size is known up front, last.
//
// Calibrating in Prepare matters: a PBKDF2 rate measured while other
// goroutines load every core would be too low and weaken the slot.
type Prepared struct {
	// VolumeKey is the key the payload is encrypted with; Zero wipes it.
	VolumeKey []byte
	// HeaderSize is the length of the header area Header returns: the
	// payload starts there.
	HeaderSize int64

	o options
}

// Prepare validates opts (as FormatHeader takes them), draws the volume key
// (or takes WithVolumeKey's), and measures this machine's PBKDF2 speed for
// the digest and the key slot unless WithIterations forces the cost.
// Argon2 slots (LUKS2) are still calibrated by Header. The caller must call
// Zero when done.
func Prepare(opts ...Option) (*Prepared, error) {
	o, err := buildOptions(opts)
	if err != nil {
		return nil, err
	}
	if _, err := hashFunc(o.hash); err != nil {
		return nil, err
	}
	vk := o.volumeKey
	if vk == nil {
		if vk, err = randomBytes(o.keyBits / 8); err != nil {
			return nil, err
		}
	}
	o.volumeKey = vk
	p := &Prepared{VolumeKey: vk, o: o}
	if o.version == 2 {
		p.HeaderSize = dataOffset2
	} else {
		_, payload := layout1(len(vk), o.layout)
		p.HeaderSize = int64(payload) * sectorSize
	}
	if o.iterations == 0 && o.argonTime == 0 {
		// One measurement serves the digest and the slot (pbkdf2Rate
		// caches it in p.o and scales it per output length).
		if _, err := pbkdf2Rate(&p.o, o.hash, 1); err != nil {
			p.Zero()
			return nil, err
		}
	}
	return p, nil
}

// Header makes the header area with passphrase in key slot 0, for
// VolumeKey, using the PBKDF2 speed Prepare measured: what FormatHeader
// returns as its header. It may run in another goroutine than Prepare; it
// must not run concurrently with Zero. It keeps no reference to passphrase.
func (p *Prepared) Header(passphrase []byte) ([]byte, error) {
	if p.VolumeKey == nil {
		return nil, errPreparedZeroed
	}
	o := p.o // format only reads it, but a copy keeps calls independent
	f, err := format(passphrase, &o)
	if err != nil {
		return nil, err
	}
	defer f.wipe() // f.vk is format's own copy of VolumeKey
	b, err := f.bytes()
	if err != nil {
		return nil, err
	}
	if int64(len(b)) != p.HeaderSize {
		return nil, errPreparedSize
	}
	return b, nil
}

// Zero wipes the volume key; Header fails afterwards.
func (p *Prepared) Zero() {
	clear(p.VolumeKey)
	p.VolumeKey, p.o.volumeKey = nil, nil
}

var (
	errPreparedZeroed = fmt.Errorf("%w: Prepared.Header after Zero", ErrClosed)
	errPreparedSize   = errors.New("luks: internal error: header size differs from Prepare's")
)
