package luks_test

import (
	"bytes"
	"crypto/aes"
	"io"
	"strings"
	"testing"

	"golang.org/x/crypto/xts"

	"github.com/e2eimage/e2e/luks"
)

// TestLUKS2SegmentFields exercises LUKS2 segment fields our writer never
// sets but other tools do: a fixed size and a non-zero iv_tweak.
func TestLUKS2SegmentFields(t *testing.T) {
	pass := []byte("segment")
	vk := bytes.Repeat([]byte{9, 8, 7, 6}, 16)
	plain := randBytes(t, 8*4096)
	img := encrypt(t, pass, plain, append(fastArgon, luks.WithVolumeKey(vk), luks.WithSectorSize(4096))...)
	js := jsonOf(img)

	t.Run("fixed size", func(t *testing.T) {
		b := bytes.Clone(img)
		setJSON(b, strings.Replace(js, `"size":"dynamic"`, `"size":"12288"`, 1))
		v, err := luks.Open(bytes.NewReader(b), pass)
		if err != nil {
			t.Fatal(err)
		}
		if v.Size() != 12288 || v.Header().PayloadSize != 12288 {
			t.Fatalf("size %d, header %d; want 12288", v.Size(), v.Header().PayloadSize)
		}
		var out bytes.Buffer
		if n, err := luks.Decrypt(&out, bytes.NewReader(b), pass); err != nil || n != 12288 || !bytes.Equal(out.Bytes(), plain[:12288]) {
			t.Fatalf("Decrypt = %d, %v", n, err)
		}
		setJSON(b, strings.Replace(js, `"size":"dynamic"`, `"size":"1048576"`, 1))
		if _, err := luks.Open(bytes.NewReader(b), pass); err == nil {
			t.Fatal("opened a segment larger than the image")
		}
		if _, err := luks.Decrypt(io.Discard, bytes.NewReader(b), pass); err == nil {
			t.Fatal("Decrypt accepted a segment larger than the image")
		}
	})

	t.Run("iv_tweak", func(t *testing.T) {
		const tweak = 1000
		b := bytes.Clone(img)
		setJSON(b, strings.Replace(js, `"iv_tweak":"0"`, `"iv_tweak":"1000"`, 1))
		// Re-encrypt the payload the way dm-crypt would with the tweak:
		// 4096-byte sector k uses IV tweak + 8k.
		c, err := xts.NewCipher(aes.NewCipher, vk)
		if err != nil {
			t.Fatal(err)
		}
		payload := b[16<<20:]
		for k := 0; k*4096 < len(payload); k++ {
			c.Encrypt(payload[k*4096:(k+1)*4096], plain[k*4096:(k+1)*4096], uint64(tweak+8*k))
		}
		v, err := luks.Open(bytes.NewReader(b), pass)
		if err != nil {
			t.Fatal(err)
		}
		got := make([]byte, 5000)
		if _, err := v.ReadAt(got, 4000); err != nil || !bytes.Equal(got, plain[4000:9000]) {
			t.Fatalf("ReadAt with iv_tweak: %v", err)
		}
		var out bytes.Buffer
		if _, err := luks.Decrypt(&out, bytes.NewReader(b), pass); err != nil || !bytes.Equal(out.Bytes(), plain) {
			t.Fatalf("Decrypt with iv_tweak: %v", err)
		}
	})
}
