package luks

import "fmt"

// String describes p without its volume key: HeaderSize and whether the
// key is still there (not yet zeroed).
func (p Prepared) String() string {
	return fmt.Sprintf("luks.Prepared{HeaderSize:%d VolumeKey:%s}", p.HeaderSize, redactedKey(p.VolumeKey))
}

// GoString is String, for %#v.
func (p Prepared) GoString() string { return p.String() }

// Format prints String for every verb (%d of the fields too), so no verb
// of fmt can show the key's bytes.
func (p Prepared) Format(f fmt.State, verb rune) { fmt.Fprint(f, p.String()) }

func redactedKey(k []byte) string {
	if k == nil {
		return "zeroed"
	}
	return fmt.Sprintf("[%d bytes redacted]", len(k))
}
