//go:build purego || !amd64

package xts

// defaultImpl is the fastest path this build and CPU support.
var defaultImpl = implGeneric

// supportedImpls lists every path usable here, for tests and benchmarks.
func supportedImpls() []impl { return []impl{implGeneric} }

func (c *Cipher) unitsAsm(dst, src []byte, unitSize int, first, step uint64, decrypt bool) {
	panic("xts: no assembly implementation in this build")
}
