// Package sector is the parallel sector engine shared by the encrypted image
// formats (LUKS, encrypted VHD, qcow2+LUKS). It cuts a byte stream into
// batches of whole units (sectors), runs a caller-supplied Transform on
// several batches at once, and emits the results in their original order,
// the way pgzip parallelises gzip.
//
// The engine knows nothing about ciphers or tweaks: a Transform receives a
// batch and the number of its first unit, and each format derives its own
// tweaks from that number (plain64 from the payload start for LUKS, the guest
// LBA for VHD, the host file offset for qcow2).
//
// Memory is bounded by about Workers*2+1 batches whatever the stream length:
// batch buffers are allocated lazily and recycled, so a long stream allocates
// nothing per batch in steady state.
//
// Writer (encrypt while writing) and Reader (transform while reading) are
// the two directions; both have a fast path that avoids copies
// (Writer.ReadFrom reads straight into batch buffers, Reader.WriteTo writes
// straight from them).
package sector
