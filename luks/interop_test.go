package luks_test

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/crypto/xts"

	"github.com/e2eimage/e2e/luks"
)

// dumpVolumeKey asks cryptsetup for the volume key of an image.
func dumpVolumeKey(t *testing.T, img, keyFile string) []byte {
	t.Helper()
	out := run(t, "cryptsetup", "luksDump", "-q", "--dump-volume-key", "--key-file", keyFile, img)
	bits := 0
	for _, line := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(line, "MK bits:"); ok {
			bits, _ = strconv.Atoi(strings.TrimSpace(v))
		}
	}
	_, rest, ok := strings.Cut(out, "MK dump:")
	if !ok || bits == 0 {
		t.Fatalf("no volume key in cryptsetup output:\n%s", out)
	}
	var key []byte
	for _, f := range strings.Fields(rest) {
		if len(key) == bits/8 {
			break
		}
		b, err := hex.DecodeString(f)
		if err != nil || len(b) != 1 {
			t.Fatalf("bad volume key dump field %q", f)
		}
		key = append(key, b[0])
	}
	return key
}

// refCrypt is an independent dm-crypt for the modes the tests use, built
// from x/crypto/xts and crypto/cipher only. Sector n of the payload uses
// IV number n*(sectorSize/512).
func refCrypt(t *testing.T, spec string, key []byte, sector int, data []byte, encrypt bool) []byte {
	t.Helper()
	out := make([]byte, len(data))
	step := uint64(sector / 512)
	for i := 0; i < len(data); i += sector {
		n := uint64(i/sector) * step
		src, dst := data[i:i+sector], out[i:i+sector]
		switch spec {
		case "aes-xts-plain64", "aes-xts-plain":
			if spec == "aes-xts-plain" {
				n &= 0xffffffff
			}
			c, err := xts.NewCipher(aes.NewCipher, key)
			if err != nil {
				t.Fatal(err)
			}
			if encrypt {
				c.Encrypt(dst, src, n)
			} else {
				c.Decrypt(dst, src, n)
			}
		case "aes-cbc-essiv:sha256", "aes-cbc-plain64", "aes-cbc-plain":
			b, _ := aes.NewCipher(key)
			iv := make([]byte, 16)
			binary.LittleEndian.PutUint64(iv, n)
			if spec == "aes-cbc-plain" {
				binary.LittleEndian.PutUint64(iv, n&0xffffffff)
			}
			if spec == "aes-cbc-essiv:sha256" {
				s := sha256.Sum256(key)
				e, _ := aes.NewCipher(s[:])
				e.Encrypt(iv, iv)
			}
			if encrypt {
				cipher.NewCBCEncrypter(b, iv).CryptBlocks(dst, src)
			} else {
				cipher.NewCBCDecrypter(b, iv).CryptBlocks(dst, src)
			}
		default:
			t.Fatalf("refCrypt: no reference for %s", spec)
		}
	}
	return out
}

func TestOursWithCryptsetup(t *testing.T) {
	pass := []byte("correct horse battery staple")
	plain := randBytes(t, 64<<10+512)
	cases := []struct {
		name   string
		sector int
		o      []luks.Option
	}{
		{"luks1", 512, opts()},
		{"luks1-256-sha1", 512, opts(luks.WithKeySize(256), luks.WithHash("sha1"))},
		{"luks1-sha512-qemu", 512, opts(luks.WithHash("sha512"), luks.WithLayout(luks.LayoutQEMU))},
		{"luks2-pbkdf2", 512, opts(luks.WithVersion(2), luks.WithPBKDF("pbkdf2"))},
		{"luks2-pbkdf2-4096", 4096, opts(luks.WithVersion(2), luks.WithPBKDF("pbkdf2"), luks.WithSectorSize(4096))},
		{"luks2-argon2id", 512, append(fastArgon, luks.WithLabel("e2e <image>"))},
		{"luks2-argon2id-4096", 4096, append(fastArgon, luks.WithSectorSize(4096))},
		{"luks2-argon2i-256-sha512", 512, append(fastArgon, luks.WithPBKDF("argon2i"), luks.WithKeySize(256), luks.WithHash("sha512"))},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel() // mostly waiting on the external tool
			raw := encrypt(t, pass, plain, c.o...)
			img := writeFile(t, "img", raw)
			key := writeFile(t, "key", pass)
			run(t, "cryptsetup", "isLuks", img)
			run(t, "cryptsetup", "luksDump", img)
			run(t, "cryptsetup", "open", "--test-passphrase", "--key-file", key, img)
			bad := writeFile(t, "bad", []byte("wrong"))
			if err := execErr(t, "cryptsetup", "open", "--test-passphrase", "--key-file", bad, img); err == nil {
				t.Fatal("cryptsetup accepted a wrong passphrase")
			}
			// The volume key cryptsetup recovers decrypts the payload with
			// an independent XTS.
			vk := dumpVolumeKey(t, img, key)
			h, err := luks.ReadHeader(bytes.NewReader(raw))
			if err != nil {
				t.Fatal(err)
			}
			got := refCrypt(t, h.CipherSpec(), vk, c.sector, raw[h.PayloadOffset:], false)
			if !bytes.Equal(got, padded(plain, c.sector)) {
				t.Fatal("payload decrypted with cryptsetup's volume key differs from the input")
			}
		})
	}
}

func TestOursWithQEMU(t *testing.T) {
	pass := []byte("qemu passphrase")
	plain := randBytes(t, 1<<20+3*512)
	for _, l := range []luks.Layout{luks.LayoutCryptsetup, luks.LayoutQEMU} {
		t.Run(fmt.Sprint("layout", l), func(t *testing.T) {
			img := writeFile(t, "img", encrypt(t, pass, plain, opts(luks.WithLayout(l))...))
			key := writeFile(t, "key", pass)
			out := writeFile(t, "out", nil)
			run(t, "qemu-img", "convert", "--object", "secret,id=s0,file="+key, "--image-opts",
				"driver=luks,key-secret=s0,file.filename="+img, "-O", "raw", out)
			got, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, plain) {
				t.Fatalf("qemu-img decrypted %d bytes that differ from the %d-byte input", len(got), len(plain))
			}
		})
	}
}

func TestTheirsFromQEMU(t *testing.T) {
	pass := []byte("qemu passphrase")
	plain := randBytes(t, 64<<10+512)
	for _, alg := range []string{"aes-256", "aes-128"} {
		t.Run(alg, func(t *testing.T) {
			t.Parallel() // mostly waiting on the external tool
			in := writeFile(t, "in", plain)
			key := writeFile(t, "key", pass)
			img := writeFile(t, "img", nil)
			runRetry(t, "qemu-img", "convert", "-f", "raw", "-O", "luks", "--object", "secret,id=s0,file="+key,
				"-o", "key-secret=s0,iter-time=10,cipher-alg="+alg, in, img)
			f, err := os.Open(img)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			v, err := luks.Open(f, pass)
			if err != nil {
				t.Fatal(err)
			}
			defer v.Close()
			if v.Header().PayloadOffset != 4040*512 && v.Header().PayloadOffset != 2056*512 {
				t.Errorf("payload offset %d is not QEMU's", v.Header().PayloadOffset)
			}
			got := make([]byte, v.Size())
			if _, err := v.ReadAt(got, 0); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, plain) {
				t.Fatal("plaintext of the qemu-img image differs")
			}
			if _, err := luks.Open(f, []byte("not it")); err == nil {
				t.Fatal("opened with a wrong passphrase")
			}
		})
	}
}

// TestTheirsFromCryptsetup opens headers made by cryptsetup luksFormat,
// with a payload encrypted by the reference cipher under the volume key
// cryptsetup dumps (cryptsetup open needs device-mapper).
func TestTheirsFromCryptsetup(t *testing.T) {
	pass := []byte("cryptsetup passphrase")
	plain := randBytes(t, 256<<10)
	pb := []string{"--pbkdf", "pbkdf2", "--pbkdf-force-iterations", "1000"}
	// Tiny Argon2 memory keeps the -race run fast; the KDF code path is
	// the same at any size.
	ar := []string{"--pbkdf", "argon2id", "--pbkdf-force-iterations", "4", "--pbkdf-memory", "64", "--pbkdf-parallel", "2"}
	ai := []string{"--pbkdf", "argon2i", "--pbkdf-force-iterations", "4", "--pbkdf-memory", "32", "--pbkdf-parallel", "1"}
	cases := []struct {
		name, typ, spec string
		sector          int
		args            []string
	}{
		{"luks1-xts", "luks1", "aes-xts-plain64", 512, pb},
		{"luks1-essiv-sha1", "luks1", "aes-cbc-essiv:sha256", 512, append([]string{"--key-size", "256", "--hash", "sha1"}, pb...)},
		{"luks1-xts-plain-sha512", "luks1", "aes-xts-plain", 512, append([]string{"--hash", "sha512"}, pb...)},
		{"luks1-cbc-plain64", "luks1", "aes-cbc-plain64", 512, append([]string{"--key-size", "128"}, pb...)},
		{"luks1-cbc-plain-sha1", "luks1", "aes-cbc-plain", 512, append([]string{"--key-size", "256", "--hash", "sha1"}, pb...)},
		{"luks1-ripemd160", "luks1", "aes-xts-plain64", 512, append([]string{"--hash", "ripemd160"}, pb...)},
		{"luks2-pbkdf2", "luks2", "aes-xts-plain64", 512, pb},
		{"luks2-pbkdf2-4096", "luks2", "aes-xts-plain64", 4096, pb},
		{"luks2-argon2id", "luks2", "aes-xts-plain64", 512, ar},
		{"luks2-argon2id-4096-256", "luks2", "aes-xts-plain64", 4096, append([]string{"--key-size", "256"}, ar...)},
		{"luks2-argon2i-essiv", "luks2", "aes-cbc-essiv:sha256", 512, append([]string{"--key-size", "256", "--hash", "sha512"}, ai...)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel() // mostly waiting on the external tool
			key := writeFile(t, "key", pass)
			img := writeFile(t, "img", nil)
			if err := os.Truncate(img, 17<<20+int64(len(plain))); err != nil {
				t.Fatal(err)
			}
			args := append([]string{"luksFormat", "-q", "--type", c.typ, "--key-file", key, "--cipher", c.spec}, c.args...)
			if c.typ == "luks2" {
				args = append(args, "--sector-size", strconv.Itoa(c.sector))
			}
			run(t, "cryptsetup", append(args, img)...)
			vk := dumpVolumeKey(t, img, key)
			f, err := os.OpenFile(img, os.O_RDWR, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			h, err := luks.ReadHeader(f)
			if err != nil {
				t.Fatal(err)
			}
			if h.CipherSpec() != c.spec || h.SectorSize != c.sector || h.KeyBytes != len(vk) {
				t.Fatalf("header %s, %d-byte sectors, %d-byte key; want %s, %d, %d", h.CipherSpec(), h.SectorSize, h.KeyBytes, c.spec, c.sector, len(vk))
			}
			fi, _ := f.Stat()
			payload := make([]byte, fi.Size()-h.PayloadOffset)
			copy(payload, plain)
			if _, err := f.WriteAt(refCrypt(t, c.spec, vk, c.sector, payload, true), h.PayloadOffset); err != nil {
				t.Fatal(err)
			}
			gotKey, _, err := luks.UnlockHeader(f, pass)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(gotKey, vk) {
				t.Fatal("UnlockHeader found another volume key than cryptsetup")
			}
			v, err := luks.Open(f, pass)
			if err != nil {
				t.Fatal(err)
			}
			defer v.Close()
			got := make([]byte, len(payload))
			if _, err := v.ReadAt(got, 0); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, payload) {
				t.Fatal("Volume plaintext differs")
			}
			var out bytes.Buffer
			if _, err := f.Seek(0, 0); err != nil {
				t.Fatal(err)
			}
			if _, err := luks.Decrypt(&out, f, pass); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(out.Bytes(), payload) {
				t.Fatal("Decrypt plaintext differs")
			}
		})
	}
}
