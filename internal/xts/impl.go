package xts

// impl names one implementation path; tests force each one in turn.
type impl uint8

const (
	implGeneric impl = iota // crypto/aes, one block at a time
	implAESNI               // amd64 AES-NI, eight blocks in flight
	implVAES256             // amd64 VAES on 256-bit vectors (AVX2)
	implVAES512             // amd64 VAES on 512-bit vectors (AVX-512)
)

func (i impl) String() string {
	switch i {
	case implGeneric:
		return "generic"
	case implAESNI:
		return "aesni"
	case implVAES256:
		return "vaes256"
	case implVAES512:
		return "vaes512"
	}
	return "unknown"
}
