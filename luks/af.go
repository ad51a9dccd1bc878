package luks

import (
	"crypto/subtle"
	"encoding/binary"
	"hash"
	"io"
)

// The anti-forensic splitter (LUKS spec §2.4) spreads the volume key over
// many stripes so that destroying any part of a key slot destroys the key.

// diffuse hashes buf in place, block by block: block j becomes
// H(BE32(j) ‖ block j), truncated for the last partial block.
func diffuse(buf []byte, newHash func() hash.Hash) {
	h := newHash()
	size := h.Size()
	var idx [4]byte
	sum := make([]byte, 0, size)
	for j, off := 0, 0; off < len(buf); j, off = j+1, off+size {
		end := min(off+size, len(buf))
		h.Reset()
		binary.BigEndian.PutUint32(idx[:], uint32(j))
		h.Write(idx[:])
		h.Write(buf[off:end])
		sum = h.Sum(sum[:0])
		copy(buf[off:end], sum)
	}
}

// afSplit returns stripes×len(key) bytes of split key material.
func afSplit(key []byte, stripes int, newHash func() hash.Hash, rnd io.Reader) ([]byte, error) {
	n := len(key)
	out := make([]byte, n*stripes)
	if _, err := io.ReadFull(rnd, out[:n*(stripes-1)]); err != nil {
		return nil, err
	}
	d := make([]byte, n)
	for i := 0; i < stripes-1; i++ {
		subtle.XORBytes(d, d, out[i*n:(i+1)*n])
		diffuse(d, newHash)
	}
	subtle.XORBytes(out[(stripes-1)*n:], d, key)
	clear(d)
	return out, nil
}

// afMerge recovers the key of length n from split material.
func afMerge(material []byte, n, stripes int, newHash func() hash.Hash) []byte {
	d := make([]byte, n)
	for i := 0; i < stripes-1; i++ {
		subtle.XORBytes(d, d, material[i*n:(i+1)*n])
		diffuse(d, newHash)
	}
	subtle.XORBytes(d, d, material[(stripes-1)*n:stripes*n])
	return d
}
