// Package xts implements AES-XTS (IEEE 1619-2007) over whole data units, the
// sector cipher behind every encrypted image format of this module (LUKS1,
// LUKS2, qcow2+LUKS, blktap-encrypted VHD).
//
// The semantics are those of golang.org/x/crypto/xts and dm-crypt's plain64
// IV: the tweak of a data unit is its number, little-endian, in the first 8
// bytes of the 16-byte IV; units are whole multiples of 16 bytes (no
// ciphertext stealing). What this package adds is speed: on amd64 it runs
// AES-NI with eight blocks in flight, or VAES on 512-bit vectors where the
// CPU has it (chosen at run time), with the GF(2^128) tweak multiply kept in
// SIMD registers; elsewhere, or with the purego build tag, it runs a portable
// implementation over crypto/aes.
//
// EncryptUnits and DecryptUnits process many consecutive units in one call,
// which is how the sector engine should call it: a 4096-byte LUKS2 sector is
// one unit whose tweak advances by 8 (IVs count 512-byte sectors).
package xts
