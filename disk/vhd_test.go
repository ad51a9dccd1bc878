package disk_test

import (
	"bytes"
	"context"
	"crypto/aes"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/xts"

	"github.com/e2eimage/e2e/disk"
)

// IBM's published example key and its hash (classic docs, "Creating an
// encrypted image").
const (
	ibmExampleKey  = "Nrfen98EpMxF2B+wdgLfagzrqvgUZfMK4vL2T0NsT20ihrsNC9pUUHtizF6218pze8RLCgQ6kwxuE58IWLzgDA=="
	ibmExampleHash = "21681bba94f04b33b112f5f90a0faa885a6d1dbf1bd68ed16c5b995143088eda"
)

func ibmKey(t testing.TB) []byte {
	k, err := base64.StdEncoding.DecodeString(ibmExampleKey)
	if err != nil || len(k) != 64 {
		t.Fatalf("example key: %d bytes, %v", len(k), err)
	}
	return k
}

func TestKeyHashIBMExample(t *testing.T) {
	h := disk.KeyHash(ibmKey(t))
	if got := hex.EncodeToString(h[:]); got != ibmExampleHash {
		t.Fatalf("KeyHash = %s, IBM publishes %s", got, ibmExampleHash)
	}
}

func encryptVHD(t testing.TB, src []byte, key []byte, opts ...disk.WriteOption) []byte {
	t.Helper()
	var out bytes.Buffer
	n, err := disk.WriteEncryptedVHD(context.Background(), &out, openBytes(t, src), key, opts...)
	if err != nil {
		t.Fatalf("WriteEncryptedVHD: %v", err)
	}
	if n != int64(out.Len()) {
		t.Fatalf("returned %d, wrote %d", n, out.Len())
	}
	return out.Bytes()
}

var roundTripSizes = []int64{
	512,                  // one sector
	2 * miB,              // exactly one block
	3*miB + 64*kiB + 512, // not a multiple of 2 MiB nor of 64 KiB
	5*miB - 512,          // last sector of a partial block
	6 * miB,              // whole blocks
}

func TestEncryptedVHDRoundTrip(t *testing.T) {
	for _, keyLen := range []int{32, 64} {
		key := bytes.Repeat([]byte{byte(keyLen)}, keyLen)
		key[0] = 1
		for _, size := range roundTripSizes {
			for _, kind := range []string{"sparse", "dense", "zero"} {
				t.Run(fmt.Sprintf("key%d/%d/%s", keyLen, size, kind), func(t *testing.T) {
					src := pattern(size, kind, uint64(size))
					img := encryptVHD(t, src, key, disk.WithWorkers(3))
					d, err := disk.OpenEncryptedVHD(bytes.NewReader(img), int64(len(img)), key)
					if err != nil {
						t.Fatal(err)
					}
					defer d.Close()
					if d.Format() != disk.EncryptedVHD {
						t.Errorf("Format = %v", d.Format())
					}
					if want := (size + 2*miB - 1) / (2 * miB) * 2 * miB; d.Size() != want {
						t.Errorf("Size = %d, want %d (rounded up to 2 MiB)", d.Size(), want)
					}
					sameDisk(t, readAll(t, d), src)
					// Unaligned reads go through the bounce buffer.
					if size > 1000 {
						p := make([]byte, 777)
						if _, err := d.ReadAt(p, 333); err != nil {
							t.Fatal(err)
						}
						if !bytes.Equal(p, src[333:333+777]) {
							t.Error("unaligned ReadAt differs")
						}
					}
					// Zero blocks stay out of the file.
					blocks := 0
					for off := int64(0); off < size; off += 2 * miB {
						if !isZeroBytes(src[off:min(off+2*miB, size)]) {
							blocks++
						}
					}
					if max := int64(64*kiB) + int64(blocks)*(2*miB+4096) + 512; int64(len(img)) > max {
						t.Errorf("file is %d bytes for %d allocated blocks (max %d)", len(img), blocks, max)
					}
				})
			}
		}
	}
}

func isZeroBytes(b []byte) bool { return bytes.Count(b, []byte{0}) == len(b) }

func TestEncryptedVHDRefusesWrongKey(t *testing.T) {
	key := ibmKey(t)
	img := encryptVHD(t, pattern(3*miB, "sparse", 1), key)
	r := bytes.NewReader(img)
	bad := bytes.Clone(key)
	bad[63] ^= 1
	if _, err := disk.OpenEncryptedVHD(r, int64(len(img)), bad); !errors.Is(err, disk.ErrWrongKey) {
		t.Errorf("wrong key: err = %v, want ErrWrongKey", err)
	}
	if _, err := disk.OpenEncryptedVHD(r, int64(len(img)), key[:32]); !errors.Is(err, disk.ErrWrongKey) {
		t.Errorf("half key: err = %v, want ErrWrongKey", err)
	}
	if _, err := disk.OpenEncryptedVHD(r, int64(len(img)), key[:48]); !errors.Is(err, disk.ErrKeySize) {
		t.Errorf("48-byte key: err = %v, want ErrKeySize", err)
	}
	if _, err := disk.Open(r, int64(len(img))); !errors.Is(err, disk.ErrEncrypted) {
		t.Errorf("Open without key: err = %v, want ErrEncrypted", err)
	}
	if _, err := disk.WriteEncryptedVHD(context.Background(), &bytes.Buffer{}, openBytes(t, make([]byte, 4096)), key[:16]); !errors.Is(err, disk.ErrKeySize) {
		t.Errorf("write with 16-byte key: err = %v, want ErrKeySize", err)
	}
	for _, s := range []string{fmt.Sprint(err0(disk.OpenEncryptedVHD(r, int64(len(img)), bad)))} {
		if strings.Contains(s, hex.EncodeToString(bad[:8])) {
			t.Errorf("error leaks key bytes: %s", s)
		}
	}
	// A plain VHD is not an encrypted one.
	plain := convert(t, pattern(1*miB, "dense", 2), disk.VHDDynamic)
	if _, err := disk.OpenEncryptedVHD(bytes.NewReader(plain), int64(len(plain)), key); !errors.Is(err, disk.ErrNotEncrypted) {
		t.Errorf("plain VHD: err = %v, want ErrNotEncrypted", err)
	}
}

func err0(_ disk.Disk, err error) error { return err }

// parsed is an independent, minimal walk of a dynamic VHD written by us.
type parsedVHD struct {
	size      int64
	bat       []uint32
	batmap    []byte
	keyCookie byte
	keyHash   []byte
}

func parseOurVHD(t *testing.T, img []byte) parsedVHD {
	t.Helper()
	foot := img[len(img)-512:]
	if !bytes.Equal(foot[:512], img[:512]) {
		t.Fatal("footer copy at 0 differs from the footer")
	}
	if string(foot[28:32]) != "tap\x00" || binary.BigEndian.Uint32(foot[32:]) < 0x00010002 {
		t.Fatalf("creator %q %#x: tapdisk would ignore the batmap", foot[28:32], binary.BigEndian.Uint32(foot[32:]))
	}
	hdr := img[512:1536]
	tableOff := binary.BigEndian.Uint64(hdr[16:])
	entries := binary.BigEndian.Uint32(hdr[28:])
	var p parsedVHD
	p.size = int64(binary.BigEndian.Uint64(foot[48:]))
	for i := uint32(0); i < entries; i++ {
		p.bat = append(p.bat, binary.BigEndian.Uint32(img[tableOff+4*uint64(i):]))
	}
	bh := img[tableOff+(uint64(entries)*4+511)/512*512:]
	if string(bh[:8]) != "tdbatmap" {
		t.Fatalf("no batmap header after the BAT")
	}
	mo := binary.BigEndian.Uint64(bh[8:])
	ms := binary.BigEndian.Uint32(bh[16:])
	p.batmap = img[mo : mo+uint64(ms)*512]
	p.keyCookie = bh[29]
	if !bytes.Equal(bh[30:62], make([]byte, 32)) {
		t.Error("nonce is not zero")
	}
	p.keyHash = bh[62:94]
	return p
}

// TestEncryptedVHDIndependentXTS decrypts our output with x/crypto/xts and
// the "plain" tweak, walking the layout by hand.
func TestEncryptedVHDIndependentXTS(t *testing.T) {
	for _, keyLen := range []int{32, 64} {
		t.Run(fmt.Sprint(keyLen), func(t *testing.T) {
			key := ibmKey(t)[:keyLen]
			src := pattern(5*miB+4096, "sparse", 3)
			img := encryptVHD(t, src, key)
			p := parseOurVHD(t, img)
			h := disk.KeyHash(key)
			if p.keyCookie != 1 || !bytes.Equal(p.keyHash, h[:]) {
				t.Fatalf("keyhash cookie %d hash %x", p.keyCookie, p.keyHash)
			}
			c, err := xts.NewCipher(aes.NewCipher, key)
			if err != nil {
				t.Fatal(err)
			}
			got := make([]byte, p.size)
			for b, e := range p.bat {
				set := p.batmap[b/8]&(0x80>>(b%8)) != 0
				if e == 0xFFFFFFFF {
					if set {
						t.Errorf("block %d absent but batmap bit set", b)
					}
					continue
				}
				if !set {
					t.Errorf("block %d present but batmap bit clear", b)
				}
				bm := img[int64(e)*512 : int64(e)*512+512]
				if !isAllOnes(bm) {
					t.Errorf("block %d bitmap is not all ones", b)
				}
				data := int64(e)*512 + 512
				if data%4096 != 0 {
					t.Errorf("block %d data at %d is not 4 KiB aligned", b, data)
				}
				for s := int64(0); s < 4096; s++ {
					lba := int64(b)*4096 + s
					c.Decrypt(got[lba*512:lba*512+512], img[data+s*512:data+s*512+512], uint64(uint32(lba)))
				}
			}
			sameDisk(t, got, src)
		})
	}
}

func isAllOnes(b []byte) bool { return bytes.Count(b, []byte{0xff}) == len(b) }

// TestEncryptedVHDQemu: qemu-img accepts the container as a VHD, and its
// view of the (still encrypted) sectors decrypts to the input.
func TestEncryptedVHDQemu(t *testing.T) {
	qi := qemuImg(t)
	dir := t.TempDir()
	key := ibmKey(t)
	src := pattern(7*miB+512, "sparse", 4)
	p := writeFile(t, dir, "enc.vhd", encryptVHD(t, src, key))
	info := run(t, qi, "info", "-f", "vpc", "--output=json", p)
	if !strings.Contains(info, fmt.Sprintf(`"virtual-size": %d`, 8*miB)) {
		t.Errorf("qemu-img info: %s", info)
	}
	// qemu-img 7.2 has no consistency check for vpc (exit 63 "does not
	// support checks"); anything else from check is a failure.
	if out, err := exec.Command(qi, "check", "-f", "vpc", p).CombinedOutput(); err != nil && !strings.Contains(string(out), "does not support checks") {
		t.Errorf("qemu-img check: %v\n%s", err, out)
	}
	raw := filepath.Join(dir, "cipher.raw")
	run(t, qi, "convert", "-f", "vpc", "-O", "raw", p, raw)
	ct := readFile(t, raw)
	c, _ := xts.NewCipher(aes.NewCipher, key)
	for lba := int64(0); lba < int64(len(ct))/512; lba++ {
		s := ct[lba*512 : lba*512+512]
		if isZeroBytes(s) && (lba*512 >= int64(len(src)) || isZeroBytes(src[lba*512/(2*miB)*(2*miB):min(int64(len(src)), (lba*512/(2*miB)+1)*2*miB)])) {
			continue // an unallocated block
		}
		c.Decrypt(s, s, uint64(uint32(lba)))
	}
	sameDisk(t, ct, src)
}

func TestEncryptedVHDFile(t *testing.T) {
	// OpenFile refuses encrypted images too, with a path in the error.
	dir := t.TempDir()
	p := writeFile(t, dir, "e.vhd", encryptVHD(t, pattern(miB, "dense", 5), ibmKey(t)))
	_, err := disk.OpenFile(p)
	if !errors.Is(err, disk.ErrEncrypted) || !strings.Contains(err.Error(), "e.vhd") {
		t.Fatalf("OpenFile: %v", err)
	}
	if _, err := os.Stat(p); err != nil {
		t.Fatal(err)
	}
}
