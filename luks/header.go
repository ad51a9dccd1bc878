package luks

import (
	"fmt"
	"io"
	"strings"
)

// Header describes a LUKS1 or LUKS2 header. It holds no secret: the volume
// key digest and salts are left out.
type Header struct {
	Version int `json:"version"`
	// Cipher and Mode are dm-crypt's names, e.g. "aes" and "xts-plain64".
	Cipher string `json:"cipher"`
	Mode   string `json:"mode"`
	// Hash is the LUKS1 hash-spec or the LUKS2 digest hash.
	Hash string `json:"hash"`
	// KeyBytes is the volume key size (64 for AES-256-XTS).
	KeyBytes int `json:"key_bytes"`
	// PayloadOffset is where the encrypted data starts, in bytes.
	PayloadOffset int64 `json:"payload_offset"`
	// PayloadSize is a LUKS2 fixed segment size; 0 means up to the end.
	PayloadSize int64 `json:"payload_size,omitempty"`
	// SectorSize is the encryption unit: 512, or up to 4096 in LUKS2.
	SectorSize int `json:"sector_size"`
	// IVTweak is added to the IV sector number (LUKS2 iv_tweak).
	IVTweak uint64 `json:"iv_tweak,omitempty"`
	UUID    string `json:"uuid"`
	// Label and Subsystem are LUKS2 only.
	Label     string `json:"label,omitempty"`
	Subsystem string `json:"subsystem,omitempty"`
	// MetadataSize is the LUKS2 hdr_size (binary header plus JSON area)
	// and KeyslotsSize the LUKS2 keyslots area; 0 for LUKS1.
	MetadataSize int64 `json:"metadata_size,omitempty"`
	KeyslotsSize int64 `json:"keyslots_size,omitempty"`
	// Epoch is the LUKS2 sequence id, bumped on every metadata update.
	Epoch            uint64    `json:"epoch,omitempty"`
	DigestIterations uint32    `json:"digest_iterations"`
	KeySlots         []KeySlot `json:"key_slots"`
}

// KeySlot describes one key slot. LUKS1 always lists eight, active or
// not; LUKS2 lists those that exist.
type KeySlot struct {
	Index  int    `json:"index"`
	Active bool   `json:"active"`
	KDF    string `json:"kdf,omitempty"` // "pbkdf2", "argon2id" or "argon2i"
	// Hash is the PBKDF2 hash; AFHash the anti-forensic splitter's.
	Hash   string `json:"hash,omitempty"`
	AFHash string `json:"af_hash,omitempty"`
	// Iterations is the PBKDF2 count or the Argon2 time cost.
	Iterations uint32 `json:"iterations,omitempty"`
	MemoryKiB  uint32 `json:"memory_kib,omitempty"`
	Threads    uint32 `json:"threads,omitempty"`
	Stripes    int    `json:"stripes,omitempty"`
	// Offset and Size locate the key material, in bytes.
	Offset int64 `json:"offset"`
	Size   int64 `json:"size"`
	// Encryption is the key material cipher (LUKS2 area encryption).
	Encryption string `json:"encryption,omitempty"`
}

// CipherSpec returns the cipher and mode as one dm-crypt spec,
// e.g. "aes-xts-plain64".
func (h *Header) CipherSpec() string { return h.Cipher + "-" + h.Mode }

// ActiveSlots returns the indexes of the active key slots.
func (h *Header) ActiveSlots() []int {
	var s []int
	for _, k := range h.KeySlots {
		if k.Active {
			s = append(s, k.Index)
		}
	}
	return s
}

// String formats the header like a short cryptsetup luksDump.
func (h *Header) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "LUKS%d %s, %d-bit key, hash %s, uuid %s\n", h.Version, h.CipherSpec(), h.KeyBytes*8, h.Hash, h.UUID)
	if h.Label != "" {
		fmt.Fprintf(&b, "label %q\n", h.Label)
	}
	size := "to end of device"
	if h.PayloadSize > 0 {
		size = fmt.Sprintf("%d bytes", h.PayloadSize)
	}
	fmt.Fprintf(&b, "payload at %d bytes, %s, %d-byte sectors\n", h.PayloadOffset, size, h.SectorSize)
	for _, k := range h.KeySlots {
		if !k.Active {
			fmt.Fprintf(&b, "slot %d: disabled\n", k.Index)
			continue
		}
		switch k.KDF {
		case "pbkdf2":
			fmt.Fprintf(&b, "slot %d: pbkdf2-%s, %d iterations, %d stripes at %d\n", k.Index, k.Hash, k.Iterations, k.Stripes, k.Offset)
		default:
			fmt.Fprintf(&b, "slot %d: %s, time %d, memory %d KiB, %d threads, %d stripes at %d\n", k.Index, k.KDF, k.Iterations, k.MemoryKiB, k.Threads, k.Stripes, k.Offset)
		}
	}
	return b.String()
}

// ReadHeader parses the LUKS header at the start of r without unlocking it.
func ReadHeader(r io.ReaderAt) (*Header, error) {
	m, err := readMeta(r)
	if err != nil {
		return nil, err
	}
	return m.header(), nil
}
