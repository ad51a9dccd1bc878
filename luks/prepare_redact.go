package luks

import "fmt"

// String describes p without its volume key: HeaderSize and whether the
// key is still there (not yet zeroed).
func (p Prepared) String() string {
	return fmt.Sprintf("luks.Prepared{HeaderSize:%d VolumeKey:%s}", p.HeaderSize, redactedKey(p.VolumeKey))
}

// GoString is String, for %#v. With String it covers %v, %+v, %#v, %s,
// %q, %x and %X, on a Prepared and a *Prepared. (A Formatter would cover
// every verb, but Format is the header's second half.)
func (p Prepared) GoString() string { return p.String() }

func redactedKey(k []byte) string {
	if k == nil {
		return "zeroed"
	}
	return fmt.Sprintf("[%d bytes redacted]", len(k))
}
