package disk

// Format names a disk container format.
type Format int

// The formats this package reads; the writers produce EncryptedVHD,
// QCOW2LUKS and, through Convert, Raw, VHDFixed, VHDDynamic and QCOW2.
const (
	// Raw is a plain byte-for-byte disk image; Open falls back to it.
	Raw Format = iota
	// VHDFixed is a raw image followed by a 512-byte VHD footer.
	VHDFixed
	// VHDDynamic is a sparse VHD with a block allocation table.
	VHDDynamic
	// VHDDifferencing is a sparse VHD whose absent sectors come from a parent.
	VHDDifferencing
	// EncryptedVHD is a dynamic VHD whose sectors blktap encrypts with
	// AES-XTS (the "plain" tweak of the guest sector number) and whose batmap
	// header carries a hash of the key.
	EncryptedVHD
	// QCOW2 is an unencrypted qcow2 image (version 2 or 3).
	QCOW2
	// QCOW2LUKS is a qcow2 image encrypted with a LUKS1 header embedded in
	// its own clusters (QEMU's encrypt.format=luks).
	QCOW2LUKS
)

var formatNames = [...]string{
	Raw:             "raw",
	VHDFixed:        "vhd-fixed",
	VHDDynamic:      "vhd-dynamic",
	VHDDifferencing: "vhd-differencing",
	EncryptedVHD:    "vhd-encrypted",
	QCOW2:           "qcow2",
	QCOW2LUKS:       "qcow2-luks",
}

// String returns the short name of the format, as ParseFormat accepts it.
func (f Format) String() string {
	if f >= 0 && int(f) < len(formatNames) {
		return formatNames[f]
	}
	return "unknown"
}

// ParseFormat returns the Format named by s (see Format.String); it also
// accepts "vhd" for VHDDynamic and "vpc" as QEMU spells it.
func ParseFormat(s string) (Format, error) {
	switch s {
	case "vhd", "vpc":
		return VHDDynamic, nil
	}
	for i, n := range formatNames {
		if n == s {
			return Format(i), nil
		}
	}
	return 0, &FormatNameError{Name: s}
}

// Encrypted reports whether data of this format needs a key to read.
func (f Format) Encrypted() bool { return f == EncryptedVHD || f == QCOW2LUKS }
