package disk_test

import (
	"bytes"
	"context"
	"fmt"
	"log"

	"github.com/e2eimage/e2e/disk"
	"github.com/e2eimage/e2e/luks"
)

// Encrypt a disk image for IBM Cloud classic infrastructure and check the
// result opens with the key.
func ExampleWriteEncryptedVHD() {
	// A 3 MiB raw disk with a little data; disk.OpenFile("in.qcow2") would
	// detect any supported format instead.
	raw := make([]byte, 3<<20)
	copy(raw, "bootloader")
	src, err := disk.Open(bytes.NewReader(raw), int64(len(raw)))
	if err != nil {
		log.Fatal(err)
	}
	defer src.Close()

	key := bytes.Repeat([]byte{0x42}, 64) // the unwrapped DEK: AES-256-XTS
	var out bytes.Buffer                  // or an upload stream
	if _, err := disk.WriteEncryptedVHD(context.Background(), &out, src, key); err != nil {
		log.Fatal(err)
	}

	d, err := disk.OpenEncryptedVHD(bytes.NewReader(out.Bytes()), int64(out.Len()), key)
	if err != nil {
		log.Fatal(err)
	}
	defer d.Close()
	buf := make([]byte, 10)
	d.ReadAt(buf, 0)
	fmt.Println(d.Format(), d.Size(), string(buf))
	// Output: vhd-encrypted 4194304 bootloader
}

// Encrypt a disk image for IBM Cloud VPC as qcow2 with LUKS.
func ExampleWriteQCOW2LUKS() {
	raw := make([]byte, 1<<20)
	copy(raw[4096:], "root filesystem")
	src, _ := disk.Open(bytes.NewReader(raw), int64(len(raw)))
	defer src.Close()

	pass := []byte("a long random passphrase")
	var out bytes.Buffer
	// A low PBKDF2 cost keeps the example fast; leave the option out in real
	// use (the luks default tunes the cost to wall time).
	cheap := disk.WithLUKSOptions(luks.WithIterations(1000))
	if _, err := disk.WriteQCOW2LUKS(context.Background(), &out, src, pass, cheap); err != nil {
		log.Fatal(err)
	}
	d, err := disk.OpenQCOW2LUKS(bytes.NewReader(out.Bytes()), int64(out.Len()), pass)
	if err != nil {
		log.Fatal(err)
	}
	defer d.Close()
	exts, _ := d.Extents(context.Background())
	buf := make([]byte, 15)
	d.ReadAt(buf, 4096)
	fmt.Println(d.Format(), string(buf), len(exts), "extents")
	// Output: qcow2-luks root filesystem 2 extents
}

// Open detects the container format.
func ExampleOpen() {
	var img bytes.Buffer
	raw := make([]byte, 1<<20)
	src, _ := disk.Open(bytes.NewReader(raw), int64(len(raw)))
	disk.Convert(context.Background(), &img, src, disk.QCOW2)

	d, err := disk.Open(bytes.NewReader(img.Bytes()), int64(img.Len()))
	if err != nil {
		log.Fatal(err)
	}
	defer d.Close()
	exts, _ := d.Extents(context.Background())
	fmt.Println(d.Format(), d.Size(), exts)
	// Output: qcow2 1048576 [{0 1048576 true}]
}
