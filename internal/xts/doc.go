// Package xts implements AES-XTS (IEEE 1619-2007) over whole data units, the
// sector cipher behind every encrypted image format of this module (LUKS1,
// LUKS2, qcow2+LUKS, blktap-encrypted VHD).
//
// The semantics are those of golang.org/x/crypto/xts and dm-crypt's plain64
// IV: the tweak of a data unit is its number, little-endian, in the first 8
// bytes of the 16-byte IV; units are whole multiples of 16 bytes (no
// ciphertext stealing). What this package adds is speed: on amd64 it picks
// at run time the widest of VAES on 512-bit vectors (AVX-512, 32 blocks in
// flight), VAES on 256-bit vectors (AVX2, 16 blocks) and AES-NI (8 blocks),
// with the GF(2^128) tweak multiply done in SIMD registers; elsewhere, or
// with the purego build tag, it runs a portable implementation over
// crypto/aes. On the AMD EPYC (Zen 5) it was built on, AES-256-XTS over
// 4096-byte units runs at about 20 GB/s per core, roughly 2.5 times
// `openssl speed -evp aes-256-xts` and 50 times golang.org/x/crypto/xts
// (scripts/bench-xts.sh measures it).
//
// A Cipher holds no mutable state after NewCipher and is safe for
// concurrent use; call Zero to wipe its key schedules when done.
//
// EncryptUnits and DecryptUnits process many consecutive units in one call,
// which is how the sector engine should call it: a 4096-byte LUKS2 sector is
// one unit whose tweak advances by 8 (IVs count 512-byte sectors).
package xts
