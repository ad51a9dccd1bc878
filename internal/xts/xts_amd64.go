//go:build !purego

package xts

import (
	"encoding/binary"

	"golang.org/x/sys/cpu"
)

var (
	hasAESNI = cpu.X86.HasAES && cpu.X86.HasSSE41
	// VAES and VPCLMULQDQ on ymm need only AVX2 (which also proves the OS
	// saves ymm state and that CPUID leaf 7 exists).
	hasVAES256 = hasAESNI && cpu.X86.HasAVX2 && cpu.X86.HasPCLMULQDQ && leaf7ECX(1<<9|1<<10)
	// The 512-bit path needs VAES and VPCLMULQDQ on zmm registers, byte
	// shifts of zmm (BW) and mask registers (F); the OS must save zmm
	// state, which x/sys/cpu folds into HasAVX512F.
	hasVAES512 = hasAESNI && cpu.X86.HasBMI2 && cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW &&
		cpu.X86.HasAVX512VL && cpu.X86.HasAVX512VAES && cpu.X86.HasAVX512VPCLMULQDQ
)

// defaultImpl is the fastest path this build and CPU support.
var defaultImpl = pickImpl()

func pickImpl() impl {
	switch {
	case hasVAES512:
		return implVAES512
	case hasVAES256:
		return implVAES256
	case hasAESNI:
		return implAESNI
	}
	return implGeneric
}

// supportedImpls lists every path usable here, for tests and benchmarks.
func supportedImpls() []impl {
	s := []impl{implGeneric}
	if hasAESNI {
		s = append(s, implAESNI)
	}
	if hasVAES256 {
		s = append(s, implVAES256)
	}
	if hasVAES512 {
		s = append(s, implVAES512)
	}
	return s
}

// The kernels process nunits consecutive units of unitSize bytes (a
// multiple of 16); tweaks holds each unit's encrypted tweak E_K2(IV).
//
//go:noescape
func xtsEncAESNI(rk *[maxRounds + 1][16]byte, rounds int, dst, src *byte, unitSize, nunits int, tweaks *[16]byte)

//go:noescape
func xtsDecAESNI(rk *[maxRounds + 1][16]byte, rounds int, dst, src *byte, unitSize, nunits int, tweaks *[16]byte)

//go:noescape
func xtsEncVAES512(rk *[maxRounds + 1][16]byte, rounds int, dst, src *byte, unitSize, nunits int, tweaks *[16]byte)

//go:noescape
func xtsDecVAES512(rk *[maxRounds + 1][16]byte, rounds int, dst, src *byte, unitSize, nunits int, tweaks *[16]byte)

//go:noescape
func xtsEncVAES256(rk *[maxRounds + 1][16]byte, rounds int, dst, src *byte, unitSize, nunits int, tweaks *[16]byte)

//go:noescape
func xtsDecVAES256(rk *[maxRounds + 1][16]byte, rounds int, dst, src *byte, unitSize, nunits int, tweaks *[16]byte)

func cpuid7() (ebx, ecx uint32)

// leaf7ECX reports whether CPUID.(EAX=7,ECX=0):ECX has all bits of mask.
func leaf7ECX(mask uint32) bool {
	_, ecx := cpuid7()
	return ecx&mask == mask
}

// ecbEncAESNI encrypts n blocks in place, four in flight: the tweaks.
//
//go:noescape
func ecbEncAESNI(rk *[maxRounds + 1][16]byte, rounds int, buf *[16]byte, n int)

// tweakBatch is how many tweaks are encrypted together before the units
// they belong to; enough to hide the latency of the tweak encryptions.
const tweakBatch = 32

func (c *Cipher) unitsAsm(dst, src []byte, unitSize int, first, step uint64, decrypt bool) {
	kernel, rk := xtsEncAESNI, &c.enc1
	switch c.impl {
	case implVAES512:
		kernel = xtsEncVAES512
	case implVAES256:
		kernel = xtsEncVAES256
	}
	if decrypt {
		rk = &c.dec1
		switch c.impl {
		case implVAES512:
			kernel = xtsDecVAES512
		case implVAES256:
			kernel = xtsDecVAES256
		default:
			kernel = xtsDecAESNI
		}
	}
	n := len(src) / unitSize
	if n == 1 {
		// One unit (Encrypt, Decrypt): skip the batch array, whose zeroing
		// and wiping would cost as much as the unit itself.
		var tw [16]byte
		binary.LittleEndian.PutUint64(tw[:8], first)
		ecbEncAESNI(&c.enc2, c.rounds, &tw, 1)
		kernel(rk, c.rounds, &dst[0], &src[0], unitSize, 1, &tw)
		clear(tw[:])
		return
	}
	var tw [tweakBatch][16]byte
	for i := 0; i < n; {
		k := min(n-i, tweakBatch)
		for j := range k {
			binary.LittleEndian.PutUint64(tw[j][:8], first)
			binary.LittleEndian.PutUint64(tw[j][8:], 0)
			first += step
		}
		ecbEncAESNI(&c.enc2, c.rounds, &tw[0], k)
		off := i * unitSize
		kernel(rk, c.rounds, &dst[off], &src[off], unitSize, k, &tw[0])
		i += k
	}
	clear(tw[:]) // E_K2(IV) values are key-derived; do not leave them on the stack
}
