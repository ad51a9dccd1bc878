package disk_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/e2eimage/e2e/disk"
)

// TestCrossFormatRoundTrip: any input format → each encrypted format →
// back to the same bytes.
func TestCrossFormatRoundTrip(t *testing.T) {
	key := ibmKey(t)[:32]
	for _, size := range []int64{2*miB + 64*kiB + 1536, 1*miB - 512} {
		src := pattern(size, "sparse", uint64(size))
		for _, in := range []disk.Format{disk.Raw, disk.VHDFixed, disk.VHDDynamic, disk.QCOW2} {
			img := src
			if in != disk.Raw {
				img = convert(t, src, in)
			}
			t.Run(fmt.Sprintf("%d/%s", size, in), func(t *testing.T) {
				d := openBytes(t, img)
				if d.Format() != in {
					t.Fatalf("opened as %v", d.Format())
				}
				var v, q bytes.Buffer
				if _, err := disk.WriteEncryptedVHD(context.Background(), &v, d, key, disk.WithWorkers(2)); err != nil {
					t.Fatal(err)
				}
				if _, err := disk.WriteQCOW2LUKS(context.Background(), &q, d, testPassphrase, fastLUKS, disk.WithWorkers(2)); err != nil {
					t.Fatal(err)
				}
				dv, err := disk.Open(bytes.NewReader(v.Bytes()), int64(v.Len()), disk.WithKey(key))
				if err != nil {
					t.Fatal(err)
				}
				sameDisk(t, readAll(t, dv), src)
				dq, err := disk.Open(bytes.NewReader(q.Bytes()), int64(q.Len()), disk.WithPassphrase(testPassphrase))
				if err != nil {
					t.Fatal(err)
				}
				sameDisk(t, readAll(t, dq), src)
			})
		}
	}
}
