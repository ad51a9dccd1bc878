package luks_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/e2eimage/e2e/luks"
)

func TestOursOpenWithCryptsetup(t *testing.T) {
	pass := []byte("correct horse battery staple")
	plain := randBytes(t, 64<<10)
	cases := []struct {
		name string
		o    []luks.Option
	}{
		{"luks1", opts()},
		{"luks1-256-sha1", opts(luks.WithKeySize(256), luks.WithHash("sha1"))},
		{"luks1-sha512-qemu", opts(luks.WithHash("sha512"), luks.WithLayout(luks.LayoutQEMU))},
		{"luks2-pbkdf2", opts(luks.WithVersion(2), luks.WithPBKDF("pbkdf2"))},
		{"luks2-argon2id-4096", append(fastArgon, luks.WithSectorSize(4096), luks.WithLabel("e2e"))},
		{"luks2-argon2i-256", append(fastArgon, luks.WithPBKDF("argon2i"), luks.WithKeySize(256))},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			img := writeFile(t, "img", encrypt(t, pass, plain, c.o...))
			key := writeFile(t, "key", pass)
			run(t, "cryptsetup", "isLuks", img)
			dump := run(t, "cryptsetup", "luksDump", img)
			t.Log(dump)
			run(t, "cryptsetup", "open", "--test-passphrase", "--key-file", key, img)
			bad := writeFile(t, "bad", []byte("wrong"))
			if err := execErr(t, "cryptsetup", "open", "--test-passphrase", "--key-file", bad, img); err == nil {
				t.Fatal("cryptsetup accepted a wrong passphrase")
			}
			_ = os.Remove
			_ = filepath.Join
			_ = bytes.Equal
		})
	}
}
