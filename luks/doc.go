// Package luks reads and writes LUKS1 and LUKS2 encrypted disk images in
// pure Go: no cgo, no root, no device-mapper.
//
// Writing streams: NewWriter formats a header with one key slot, writes the
// header area to any io.Writer, and encrypts everything written after it
// with aes-xts-plain64, in batches of sectors encrypted in parallel
// (WithWorkers), in order, with bounded memory. The defaults make what
// IBM Cloud's classic encrypted-image import and QEMU expect: LUKS1, a
// 512-bit AES-XTS key, sha256, PBKDF2 calibrated to 2 s like cryptsetup,
// cryptsetup's layout (payload at sector 4096). WithVersion(2) makes LUKS2
// headers exactly as cryptsetup 2.6 does (argon2id by default, 16 MiB data
// offset, 512- or 4096-byte sectors).
//
// Reading: Open unlocks an image held in an io.ReaderAt and returns a
// Volume, an io.ReaderAt over the plaintext that is safe for concurrent
// use; Decrypt streams a whole image from an io.Reader; ReadHeader
// inspects a header without a passphrase. Images made by cryptsetup and
// qemu-img open too, including older defaults: aes-cbc-essiv:sha256,
// aes-cbc-plain/plain64, aes-xts-plain, sha1, sha512 and ripemd160.
//
// Key management (AddKey, ChangeKey, RemoveKey) rewrites only the header
// area: that is how an image is re-keyed when its DEK rotates, without
// touching the data. FormatHeader and UnlockHeader serve formats that embed
// a LUKS header, such as qcow2; Prepare splits FormatHeader in two (the
// volume key and header size first, the key slot's slow KDF later in
// Prepared.Header), so a writer can encrypt the data while the KDF runs.
//
// IBM's convention for the passphrase is the base64 text of the data
// encryption key; PassphraseFromDEK and ValidatePassphrase implement it.
//
// Errors are sentinels for errors.Is (ErrWrongPassphrase, ErrNotLUKS,
// ErrUnsupported, ErrCorrupt) and the struct errors UnsupportedError and
// CorruptError that wrap them and say what is wrong. No secret ever
// appears in an error; keys are zeroed when done.
package luks
