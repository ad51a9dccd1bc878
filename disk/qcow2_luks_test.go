package disk_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/e2eimage/e2e/disk"
	"github.com/e2eimage/e2e/luks"
)

var testPassphrase = []byte("correct horse battery staple")

// fastLUKS keeps PBKDF2 cheap in tests; the defaults tune to real time.
var fastLUKS = disk.WithLUKSOptions(luks.WithIterations(1000))

func encryptQCOW2(t testing.TB, src []byte, opts ...disk.WriteOption) []byte {
	t.Helper()
	var out bytes.Buffer
	n, err := disk.WriteQCOW2LUKS(context.Background(), &out, openBytes(t, src), testPassphrase, append([]disk.WriteOption{fastLUKS}, opts...)...)
	if err != nil {
		t.Fatalf("WriteQCOW2LUKS: %v", err)
	}
	if n != int64(out.Len()) {
		t.Fatalf("returned %d, wrote %d", n, out.Len())
	}
	return out.Bytes()
}

func TestQCOW2LUKSRoundTrip(t *testing.T) {
	for _, size := range []int64{512, 64 * kiB, 3*miB + 64*kiB + 512, 4*miB - 512} {
		for _, kind := range []string{"sparse", "dense", "zero"} {
			t.Run(fmt.Sprintf("%d/%s", size, kind), func(t *testing.T) {
				src := pattern(size, kind, uint64(size)+2)
				img := encryptQCOW2(t, src, disk.WithWorkers(3))
				d, err := disk.OpenQCOW2LUKS(bytes.NewReader(img), int64(len(img)), testPassphrase)
				if err != nil {
					t.Fatal(err)
				}
				defer d.Close()
				if d.Format() != disk.QCOW2LUKS || d.Size() != (size+511)/512*512 {
					t.Errorf("Format %v Size %d", d.Format(), d.Size())
				}
				got := readAll(t, d)
				sameDisk(t, got, src)
				checkExtents(t, d, got)
				if size > 1000 {
					p := make([]byte, 1000)
					if _, err := d.ReadAt(p, 17); err != nil || !bytes.Equal(p, src[17:1017]) {
						t.Errorf("unaligned read: %v", err)
					}
				}
				// No plaintext leaks into the file.
				if kind == "dense" && size >= 4096 && bytes.Contains(img, src[:4096]) {
					t.Error("plaintext found in the encrypted image")
				}
			})
		}
	}
}

func TestQCOW2LUKSErrors(t *testing.T) {
	src := pattern(miB, "sparse", 3)
	img := encryptQCOW2(t, src)
	r := bytes.NewReader(img)
	if _, err := disk.OpenQCOW2LUKS(r, int64(len(img)), []byte("wrong")); !errors.Is(err, luks.ErrWrongPassphrase) {
		t.Errorf("wrong passphrase: %v", err)
	}
	if _, err := disk.Open(r, int64(len(img))); !errors.Is(err, disk.ErrEncrypted) {
		t.Errorf("Open without passphrase: %v", err)
	}
	plain := convert(t, src, disk.QCOW2)
	if _, err := disk.OpenQCOW2LUKS(bytes.NewReader(plain), int64(len(plain)), testPassphrase); !errors.Is(err, disk.ErrNotEncrypted) {
		t.Errorf("plain qcow2: %v", err)
	}
	if _, err := disk.OpenQCOW2LUKS(bytes.NewReader(src), int64(len(src)), testPassphrase); !errors.Is(err, disk.ErrNotEncrypted) {
		t.Errorf("raw: %v", err)
	}
	if _, err := disk.WriteQCOW2LUKS(context.Background(), &bytes.Buffer{}, openBytes(t, nil), testPassphrase, fastLUKS); !errors.Is(err, disk.ErrEmpty) {
		t.Errorf("empty source: %v", err)
	}
	// Truncated: the data clusters are gone.
	cut := img[:len(img)-64*kiB]
	if d, err := disk.OpenQCOW2LUKS(bytes.NewReader(cut), int64(len(cut)), testPassphrase); err == nil {
		_, err = d.ReadAt(make([]byte, d.Size()), 0)
		if !errors.Is(err, disk.ErrCorrupt) {
			t.Errorf("truncated image read: %v, want ErrCorrupt", err)
		}
	} else if !errors.Is(err, disk.ErrCorrupt) {
		t.Errorf("truncated image: %v", err)
	}
}

func secretArgs(dir string) (file string, obj string) {
	return filepath.Join(dir, "pass"), "secret,id=s0,file=" + filepath.Join(dir, "pass")
}

// TestQCOW2LUKSQemu: qemu-img checks and decrypts our images, and we
// decrypt qemu-img's.
func TestQCOW2LUKSQemu(t *testing.T) {
	qi := qemuImg(t)
	dir := t.TempDir()
	_, obj := secretArgs(dir)
	writeFile(t, dir, "pass", testPassphrase)
	for _, kind := range []string{"sparse", "dense"} {
		src := pattern(3*miB+64*kiB+512, kind, 4)
		t.Run("ours/"+kind, func(t *testing.T) {
			p := writeFile(t, dir, "ours-"+kind+".qcow2", encryptQCOW2(t, src))
			opts := "driver=qcow2,encrypt.key-secret=s0,file.filename=" + p
			out := run(t, qi, "check", "--object", obj, "--image-opts", opts)
			if !strings.Contains(out, "No errors were found") {
				t.Errorf("qemu-img check: %s", out)
			}
			info := run(t, qi, "info", p)
			if !strings.Contains(info, "encrypted: yes") || !strings.Contains(info, "format: luks") {
				t.Errorf("qemu-img info: %s", info)
			}
			back := filepath.Join(dir, "back.raw")
			run(t, qi, "convert", "--object", obj, "--image-opts", opts, "-O", "raw", back)
			sameDisk(t, readFile(t, back), src)
		})
		if kind != "sparse" {
			continue // QEMU's LUKS creation is slow here (PBKDF2 timing); one image is enough
		}
		t.Run("qemu/"+kind, func(t *testing.T) {
			in := writeFile(t, dir, "src.raw", src)
			p := filepath.Join(dir, "qemu-"+kind+".qcow2")
			qemuLUKS(t, qi, "convert", "-f", "raw", "-O", "qcow2", "--object", obj,
				"-o", "encrypt.format=luks,encrypt.key-secret=s0,encrypt.iter-time=10", in, p)
			img := readFile(t, p)
			d, err := disk.OpenQCOW2LUKS(bytes.NewReader(img), int64(len(img)), testPassphrase)
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			sameDisk(t, readAll(t, d), src)
		})
	}
}

// qemuLUKS runs a qemu-img command that creates a LUKS header. QEMU times
// PBKDF2 with the thread CPU clock, which is coarse in some sandboxes and
// then fails with "Unable to get accurate CPU usage": retry that case.
func qemuLUKS(t *testing.T, qi string, args ...string) {
	t.Helper()
	var out []byte
	var err error
	for range 20 {
		out, err = exec.Command(qi, args...).CombinedOutput()
		if err == nil || !strings.Contains(string(out), "accurate CPU usage") {
			break
		}
	}
	if err != nil {
		t.Fatalf("qemu-img %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}
