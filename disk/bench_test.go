package disk_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/e2eimage/e2e/disk"
)

// benchSize is small so `go test -bench . -benchtime 1x` stays quick; the
// script scripts/bench-disk.sh measures larger images against qemu-img.
const benchSize = 32 * miB

func benchWriters(b *testing.B, write func(ctx context.Context, dst io.Writer, src disk.Disk, opts ...disk.WriteOption) (int64, error)) {
	for _, kind := range []string{"dense", "sparse"} {
		src := pattern(benchSize, kind, 1)
		for _, w := range []int{1, runtime.GOMAXPROCS(0)} {
			b.Run(fmt.Sprintf("%s/workers=%d", kind, w), func(b *testing.B) {
				d, _ := disk.Open(bytes.NewReader(src), int64(len(src)))
				b.SetBytes(benchSize)
				for b.Loop() {
					if _, err := write(context.Background(), io.Discard, d, disk.WithWorkers(w)); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

func BenchmarkWriteEncryptedVHD(b *testing.B) {
	key := bytes.Repeat([]byte{7}, 64)
	benchWriters(b, func(ctx context.Context, dst io.Writer, src disk.Disk, opts ...disk.WriteOption) (int64, error) {
		return disk.WriteEncryptedVHD(ctx, dst, src, key, opts...)
	})
}

func BenchmarkWriteQCOW2LUKS(b *testing.B) {
	benchWriters(b, func(ctx context.Context, dst io.Writer, src disk.Disk, opts ...disk.WriteOption) (int64, error) {
		return disk.WriteQCOW2LUKS(ctx, dst, src, testPassphrase, append(opts, fastLUKS)...)
	})
}

func BenchmarkReadQCOW2(b *testing.B) {
	src := pattern(benchSize, "dense", 1)
	var img bytes.Buffer
	disk.Convert(context.Background(), &img, openRawBytes(src), disk.QCOW2)
	d, _ := disk.Open(bytes.NewReader(img.Bytes()), int64(img.Len()))
	buf := make([]byte, miB)
	b.SetBytes(benchSize)
	for b.Loop() {
		for off := int64(0); off < benchSize; off += miB {
			d.ReadAt(buf, off)
		}
	}
}

// BenchmarkFile encrypts the image named by E2E_BENCH_DISK (any supported
// format) to io.Discard; scripts/bench-disk.sh sets it to compare with
// qemu-img on the same input.
func BenchmarkFile(b *testing.B) {
	path := os.Getenv("E2E_BENCH_DISK")
	if path == "" {
		b.Skip("E2E_BENCH_DISK not set")
	}
	for _, f := range []disk.Format{disk.QCOW2LUKS, disk.EncryptedVHD} {
		for _, toFile := range []bool{false, true} {
			name := f.String() + "/discard"
			if toFile {
				name = f.String() + "/file"
			}
			b.Run(name, func(b *testing.B) {
				d, err := disk.OpenFile(path)
				if err != nil {
					b.Fatal(err)
				}
				defer d.Close()
				b.SetBytes(d.Size())
				for b.Loop() {
					var dst io.Writer = io.Discard
					if toFile {
						out, err := os.Create(filepath.Join(b.TempDir(), "out"))
						if err != nil {
							b.Fatal(err)
						}
						defer out.Close()
						dst = out
					}
					if f == disk.QCOW2LUKS {
						_, err = disk.WriteQCOW2LUKS(context.Background(), dst, d, testPassphrase, fastLUKS)
					} else {
						_, err = disk.WriteEncryptedVHD(context.Background(), dst, d, bytes.Repeat([]byte{7}, 64))
					}
					if err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
