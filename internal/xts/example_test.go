package xts_test

import (
	"bytes"
	"fmt"

	"github.com/e2eimage/e2e/internal/xts"
)

// A LUKS2 volume with 4096-byte sectors: each sector is one XTS data unit,
// and its IV counts 512-byte sectors, so the tweak advances by 8.
func ExampleCipher_EncryptUnits() {
	key := bytes.Repeat([]byte{0x42}, 64) // AES-256-XTS; a real key comes from the key slot
	c, err := xts.NewCipher(key)
	if err != nil {
		panic(err)
	}
	defer c.Zero()

	plain := make([]byte, 4*4096) // four sectors
	copy(plain, "hello, sector zero")
	enc := make([]byte, len(plain))
	c.EncryptUnits(enc, plain, 4096, 0, 8)

	// Sector 2 alone, as a reader would fetch it: tweak 2*8.
	sector2 := make([]byte, 4096)
	c.Decrypt(sector2, enc[2*4096:3*4096], 16)
	fmt.Println(bytes.Equal(sector2, plain[2*4096:3*4096]))

	c.DecryptUnits(enc, enc, 4096, 0, 8) // in place
	fmt.Printf("%s\n", enc[:18])
	// Output:
	// true
	// hello, sector zero
}

func ExampleNewCipher() {
	_, err := xts.NewCipher(make([]byte, 48))
	fmt.Println(err)
	// Output: xts: key must be 32 bytes (AES-128-XTS) or 64 bytes (AES-256-XTS), got 48
}
