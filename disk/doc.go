// Package disk reads virtual disk images in the formats users arrive with
// and writes the two encrypted containers IBM Cloud imports, in pure Go:
// no qemu-img, vhd-util or root needed.
//
// # Reading
//
// Open (or OpenFile) detects the container and returns a Disk: an
// io.ReaderAt over the guest bytes, safe for concurrent use, with its
// virtual Size and an Extents map of the ranges known to be zero. It reads
// raw images, fixed, dynamic and differencing VHDs, and unencrypted qcow2
// version 2 and 3, compressed clusters and backing files included (parents
// and backing files through WithParentOpener; OpenFile finds them on disk). OpenEncryptedVHD and
// OpenQCOW2LUKS open the encrypted outputs again with their secret, for
// verification. Every table is bounds-checked against the file, checksums
// are verified and sizes are capped, so a hostile header yields a
// *CorruptError (errors.Is(err, ErrCorrupt)) or an *UnsupportedError, never
// a panic or a huge allocation.
//
// # Writing
//
// WriteEncryptedVHD produces what blktap's `vhd-util copy -k` produces and
// IBM Cloud classic imports: a dynamic VHD with 2 MiB blocks whose sectors
// are AES-XTS encrypted with the raw data key and the "plain" tweak (the
// guest sector number, truncated to 32 bits), the key hash (KeyHash) in the
// batmap header, all-ones sector bitmaps and all-zero blocks left out.
//
// WriteQCOW2LUKS produces what `qemu-img convert -O qcow2 -o
// encrypt.format=luks` produces and IBM Cloud VPC imports: qcow2 v3 with
// 64 KiB clusters, a LUKS1 header (package luks) in its own clusters, data
// encrypted with aes-xts-plain64 tweaked by the host file offset, zero
// clusters left out and exact refcounts.
//
// Both leave all-zero blocks or clusters out, as vhd-util and qemu-img do:
// which regions of the disk are empty is visible in the tables, the
// content of the others is not.
//
// Convert writes the plain formats (raw, fixed and dynamic VHD, qcow2).
//
// # One pass to a file, two to a stream
//
// Both formats put their allocation tables (VHD BAT and batmap; qcow2 L1,
// L2 and refcounts) somewhere the header points at, and the tables depend
// on which blocks are all zeros.
//
// To a regular file, which can be written at any offset, a writer reads the
// source once: workers read and zero-check batches in parallel, an in-order
// step numbers each batch's data blocks after those of earlier batches (so
// each block's file offset, and for qcow2 its XTS tweak, is known), and the
// block is encrypted and written at once. The tables follow the data; the
// header, which points at them, is written last (an old one is zeroed
// first), so an interrupted write leaves no valid image. The LUKS key slot of
// a qcow2+LUKS image is calibrated first and its KDF runs during the data.
//
// To anything else (the pipeline feeds a Cloud Object Storage multipart
// upload, which cannot seek back) the output is written strictly in order,
// tables first: a writer first scans the source (only the ranges its Extents
// say may hold data, in parallel), lays the whole file out, writes the
// metadata, then reads, encrypts and writes the data blocks. The scan costs a
// second read of the source, cheaper than a temporary file.
//
// Memory stays bounded whatever the disk size: the allocation map (one
// byte per block or cluster), the L1 table, and 2·workers+1 batches of 2 MiB
// (VHD) or 1 MiB (qcow2) in flight. Reading and encryption run on
// WithWorkers goroutines (default GOMAXPROCS); the output order never
// depends on them. Keys and passphrases are never logged or put in errors;
// ciphers and volume keys are wiped when a write ends or a Disk is closed.
package disk
