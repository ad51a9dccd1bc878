package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/e2eimage/e2e/disk"
)

// diskTestImage is a raw disk that is not a whole number of VHD blocks or
// qcow2 clusters, with data at both ends and zeros between.
func diskTestImage() []byte {
	data := make([]byte, 3<<20+512)
	copy(data[1<<20:], "some data in the second MiB")
	copy(data[len(data)-512:], "last sector")
	return data
}

func TestEncryptDecryptDiskFormats(t *testing.T) {
	dir := t.TempDir()
	data := diskTestImage()
	in := writeFile(t, dir, "in.raw", data)
	key := bytes.Repeat([]byte{0x5a}, 64)
	keyFile := writeFile(t, dir, "key", key)
	wrongKey := writeFile(t, dir, "wrong-key", bytes.Repeat([]byte{0xa5}, 64))
	pass := writeFile(t, dir, "pass", []byte("passphrase"))
	wrongPass := writeFile(t, dir, "wrong-pass", []byte("passphrasf"))

	// checkPlain checks a decrypted image: the input, then zeros up to the
	// container's rounded-up virtual size.
	checkPlain := func(t *testing.T, got []byte) {
		t.Helper()
		if len(got) < len(data) || !bytes.Equal(got[:len(data)], data) || bytes.Count(got[len(data):], []byte{0}) != len(got)-len(data) {
			t.Fatalf("decrypted image (%d bytes) is not the %d-byte input followed by zeros", len(got), len(data))
		}
	}
	for _, tc := range []struct {
		format, secretFlag, secret, wrong, wantErr string
		extra                                      []string
		open                                       func(img []byte) (disk.Disk, error)
	}{
		{"vhd", "--key-file", keyFile, wrongKey, "disk: wrong key", nil, func(img []byte) (disk.Disk, error) {
			return disk.OpenEncryptedVHD(bytes.NewReader(img), int64(len(img)), key)
		}},
		{"qcow2", "--passphrase-file", pass, wrongPass, "luks: wrong passphrase", []string{"--iter-time", "10ms"}, func(img []byte) (disk.Disk, error) {
			return disk.OpenQCOW2LUKS(bytes.NewReader(img), int64(len(img)), []byte("passphrase"))
		}},
	} {
		t.Run(tc.format, func(t *testing.T) {
			out := filepath.Join(dir, "out."+tc.format)
			args := append([]string{"encrypt", "--format", tc.format, "--in", in, "--out", out, tc.secretFlag, tc.secret, "--workers", "2", "--progress"}, tc.extra...)
			code, _, stderr := runCLI(t, nil, args...)
			if code != 0 {
				t.Fatalf("encrypt: exit %d: %s", code, stderr)
			}
			// Every pass of the disk writers shows a bar that ends full: a
			// regular-file output like this one is written in one pass (the
			// qcow2 writer), or after a zero scan (the VHD writer).
			lines := strings.Split(strings.TrimSuffix(stderr, "\n"), "\n")
			last := lines[len(lines)-1]
			if len(lines) > 2 || !strings.Contains(last, "encrypt [") || !strings.Contains(last, "100.0%") ||
				(len(lines) == 2 && (!strings.Contains(lines[0], "scan [") ||
					!strings.HasSuffix(strings.TrimSpace(lines[0][:strings.Index(lines[0], "%")+1]), "100.0%"))) {
				t.Errorf("progress should show a full encrypt bar, after a full scan bar if any:\n%q", stderr)
			}
			img, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			d, err := tc.open(img)
			if err != nil {
				t.Fatal(err)
			}
			got := make([]byte, len(data))
			_, err = d.ReadAt(got, 0)
			d.Close()
			if err != nil || !bytes.Equal(got, data) {
				t.Fatalf("the image does not open to the input (%v)", err)
			}

			plain := filepath.Join(dir, tc.format+".raw")
			code, _, stderr = runCLI(t, nil, "decrypt", "--in", out, "--out", plain, tc.secretFlag, tc.secret, "--progress")
			if code != 0 {
				t.Fatalf("decrypt: exit %d: %s", code, stderr)
			}
			if !strings.Contains(stderr, "decrypt [") || !strings.Contains(stderr, "100.0%") {
				t.Errorf("decrypt progress: %q", stderr)
			}
			got, _ = os.ReadFile(plain)
			checkPlain(t, got)
			if fi, err := os.Stat(plain); err != nil || fi.Mode().Perm() != 0o600 {
				t.Errorf("plaintext output mode %v, want 0600 (%v)", fi.Mode().Perm(), err)
			}

			code, stdout, stderr := runCLI(t, nil, "decrypt", "--in", out, "--out", "-", tc.secretFlag, tc.secret)
			if code != 0 {
				t.Fatalf("decrypt to stdout: exit %d: %s", code, stderr)
			}
			checkPlain(t, []byte(stdout))

			bad := filepath.Join(dir, "bad.raw")
			code, stdout, stderr = runCLI(t, nil, "decrypt", "--in", out, "--out", bad, tc.secretFlag, tc.wrong)
			if code != 1 || stdout != "" {
				t.Errorf("wrong secret: exit %d, stdout %d bytes", code, len(stdout))
			}
			checkOneLineError(t, stderr, tc.wantErr)
			if _, err := os.Stat(bad); !os.IsNotExist(err) {
				t.Error("a failed decrypt left its output behind")
			}
		})
	}
}

func TestDiskFormatsBadInput(t *testing.T) {
	dir := t.TempDir()
	data := diskTestImage()
	in := writeFile(t, dir, "in.raw", data)
	key := writeFile(t, dir, "key", bytes.Repeat([]byte{1}, 32))
	pass := writeFile(t, dir, "pass", []byte("pw"))
	vhd := filepath.Join(dir, "enc.vhd")
	if code, _, stderr := runCLI(t, nil, "encrypt", "--format", "vhd", "--in", in, "--out", vhd, "--key-file", key); code != 0 {
		t.Fatalf("encrypt: exit %d: %s", code, stderr)
	}
	img, _ := os.ReadFile(vhd)
	damaged := append([]byte(nil), img...)
	damaged[64] ^= 0xff // both copies of the footer checksum
	damaged[len(damaged)-512+64] ^= 0xff
	corrupt := writeFile(t, dir, "corrupt.vhd", damaged)
	out := filepath.Join(dir, "out")
	runBadCases(t, out, []badCase{
		{"vhd without key file", []string{"encrypt", "--format", "vhd", "--in", in, "--out", out}, 2, "--key-file is required for --format vhd"},
		{"vhd with passphrase file", []string{"encrypt", "--format", "vhd", "--in", in, "--out", out, "--passphrase-file", pass}, 2, "--format vhd takes --key-file, not --passphrase-file"},
		{"qcow2 with key file", []string{"encrypt", "--format", "qcow2", "--in", in, "--out", out, "--key-file", key}, 2, "--format qcow2 takes --passphrase-file, not --key-file"},
		{"short key", []string{"encrypt", "--format", "vhd", "--in", in, "--out", out, "--key-file", pass}, 1, "holds 2 bytes; an encrypted VHD key is exactly 32 or 64 raw bytes"},
		{"key with newline", []string{"encrypt", "--format", "vhd", "--in", in, "--out", out, "--key-file", writeFile(t, dir, "nl", append(bytes.Repeat([]byte{1}, 32), '\n'))}, 1, "a trailing newline?"},
		{"hex key", []string{"encrypt", "--format", "vhd", "--in", in, "--out", out, "--key-file", writeFile(t, dir, "hex", bytes.Repeat([]byte("ab"), 64))}, 1, "hex text?"},
		{"huge key file", []string{"encrypt", "--format", "vhd", "--in", in, "--out", out, "--key-file", writeFile(t, dir, "huge", make([]byte, 4096))}, 1, "larger than"},
		{"missing key file", []string{"encrypt", "--format", "vhd", "--in", in, "--out", out, "--key-file", out + ".nope"}, 1, "no such file"},
		{"qcow2 from stdin", []string{"encrypt", "--format", "qcow2", "--in", "-", "--out", out, "--passphrase-file", pass}, 2, "regular file"},
		{"vhd pbkdf", []string{"encrypt", "--format", "vhd", "--in", in, "--out", out, "--key-file", key, "--pbkdf", "pbkdf2"}, 2, "--pbkdf does not apply to --format vhd"},
		{"decrypt vhd with passphrase", []string{"decrypt", "--in", vhd, "--out", out, "--passphrase-file", pass}, 2, "(encrypted VHD) needs --key-file, not --passphrase-file"},
		{"decrypt vhd short key", []string{"decrypt", "--in", vhd, "--out", out, "--key-file", pass}, 1, "32 or 64 raw bytes"},
		{"decrypt vhd other key size", []string{"decrypt", "--in", vhd, "--out", out, "--key-file", writeFile(t, dir, "k64", bytes.Repeat([]byte{1}, 64))}, 1, "disk: wrong key"},
		{"decrypt corrupt vhd", []string{"decrypt", "--in", corrupt, "--out", out, "--key-file", key}, 1, "footer checksum"},
		{"decrypt truncated vhd", []string{"decrypt", "--in", writeFile(t, dir, "trunc.vhd", img[:len(img)/2]), "--out", out, "--key-file", key}, 1, "disk: corrupt vhd-dynamic image"},
		{"decrypt vhd from stdin", []string{"decrypt", "--in", "-", "--out", out, "--key-file", key}, 2, "standard input needs --passphrase-file"},
	})
}
