package luks_test

import (
	"bytes"
	"fmt"
	"io"
	"log"
	"strings"

	"github.com/e2eimage/e2e/luks"
)

func ExampleNewWriter() {
	var img bytes.Buffer
	// WithIterations keeps the example fast; real images should keep the
	// calibrated default (2 s per unlock).
	w, err := luks.NewWriter(&img, []byte("my passphrase"), luks.WithIterations(1000))
	if err != nil {
		log.Fatal(err)
	}
	if _, err := io.Copy(w, strings.NewReader("a disk image")); err != nil {
		log.Fatal(err)
	}
	if err := w.Close(); err != nil { // pads to a whole sector
		log.Fatal(err)
	}
	h, err := luks.ReadHeader(bytes.NewReader(img.Bytes()))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(h.Version, h.CipherSpec(), h.KeyBytes*8, h.PayloadOffset, img.Len()-int(h.PayloadOffset))
	// Output: 1 aes-xts-plain64 512 2097152 512
}

func ExampleOpen() {
	var img bytes.Buffer
	w, _ := luks.NewWriter(&img, []byte("my passphrase"), luks.WithVersion(2),
		luks.WithArgon2(4, 1024, 1), luks.WithSectorSize(4096))
	w.Write([]byte("hello, LUKS2"))
	w.Close()

	v, err := luks.Open(bytes.NewReader(img.Bytes()), []byte("my passphrase"))
	if err != nil {
		log.Fatal(err)
	}
	defer v.Close()
	buf := make([]byte, 12)
	if _, err := v.ReadAt(buf, 0); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s (%d-byte volume)\n", buf, v.Size())

	_, err = luks.Open(bytes.NewReader(img.Bytes()), []byte("guess"))
	fmt.Println(err)
	// Output:
	// hello, LUKS2 (4096-byte volume)
	// luks: wrong passphrase
}

func ExampleDecrypt() {
	var img, out bytes.Buffer
	w, _ := luks.NewWriter(&img, []byte("pw"), luks.WithIterations(1000))
	w.Write([]byte("streamed"))
	w.Close()
	n, err := luks.Decrypt(&out, &img, []byte("pw"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(n, strings.TrimRight(out.String(), "\x00"))
	// Output: 512 streamed
}

func ExamplePassphraseFromDEK() {
	dek := bytes.Repeat([]byte{0x42}, 32) // from Key Protect in real use
	pass, err := luks.PassphraseFromDEK(dek)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(pass), luks.ValidatePassphrase(pass))
	fmt.Println(luks.ValidatePassphrase(append(pass, '\n')))
	// Output:
	// 44 <nil>
	// luks: invalid passphrase: ends with a newline (write it with printf, not echo)
}

func ExampleAddKey() {
	img := newMemFile()
	w, _ := luks.NewWriter(img, []byte("old"), luks.WithIterations(1000))
	w.Close()
	slot, err := luks.AddKey(img, []byte("old"), []byte("new"), luks.WithIterations(1000))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("added slot", slot, luks.RemoveKey(img, []byte("old")))
	// Output: added slot 1 <nil>
}
