package disk_test

import (
	"bytes"
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/e2eimage/e2e/disk"
	"github.com/e2eimage/e2e/luks"
)

// A regular file as the output is written in one pass: data clusters go
// out as they are read and encrypted, while the LUKS key slot's PBKDF2 runs
// alongside; the tables and headers follow.
func ExampleWriteQCOW2LUKS_file() {
	dir, err := os.MkdirTemp("", "example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	raw := make([]byte, 3<<20) // 3 MiB: one cluster of data, zeros elsewhere
	copy(raw[1<<20:], "a boot sector, say")
	src, err := disk.Open(bytes.NewReader(raw), int64(len(raw)))
	if err != nil {
		log.Fatal(err)
	}
	defer src.Close()

	out, err := os.Create(filepath.Join(dir, "image.qcow2"))
	if err != nil {
		log.Fatal(err)
	}
	defer out.Close()
	pass := []byte("a passphrase Key Protect wraps")
	n, err := disk.WriteQCOW2LUKS(context.Background(), out, src, pass,
		disk.WithLUKSOptions(luks.WithIterTime(10*time.Millisecond)))
	if err != nil {
		log.Fatal(err)
	}

	img, err := disk.OpenQCOW2LUKS(out, n, pass)
	if err != nil {
		log.Fatal(err)
	}
	defer img.Close()
	got := make([]byte, 18)
	if _, err := img.ReadAt(got, 1<<20); err != nil {
		log.Fatal(err)
	}
	// 38 clusters: header, LUKS (2 MiB), data, L2, L1, refcount table and block.
	fmt.Printf("%d bytes, reads %q\n", n, got)
	// Output: 2490368 bytes, reads "a boot sector, say"
}
