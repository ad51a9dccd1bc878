package e2e_test

// The bad-input catalogue (issue 11): one subtest per row of
// docs/bad-inputs.md. Each feeds one kind of bad input through the public
// API and asserts the exact typed error, and, where the cloud is involved,
// that nothing was left behind (no object, no multipart upload, no template).

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"testing/iotest"
	"time"

	"github.com/IBM/go-sdk-core/v5/core"

	"github.com/e2eimage/e2e"
	"github.com/e2eimage/e2e/disk"
	"github.com/e2eimage/e2e/e2etest"
	"github.com/e2eimage/e2e/iam"
	"github.com/e2eimage/e2e/image"
	"github.com/e2eimage/e2e/internal/demo"
	"github.com/e2eimage/e2e/internal/testtool"
	"github.com/e2eimage/e2e/keys"
	"github.com/e2eimage/e2e/luks"
	"github.com/e2eimage/e2e/storage"
)

// catPass is a valid IBM-convention passphrase (base64 of 33 bytes).
var catPass = []byte("c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0MTI=")

// errBoom is the failure injected by the failing readers below.
var errBoom = errors.New("catalogue: injected read failure")

// catLUKS encrypts payload into a LUKS image quickly (1000 PBKDF2 rounds).
func catLUKS(t *testing.T, payload []byte, opts ...luks.Option) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := luks.NewWriter(&buf, catPass, append([]luks.Option{luks.WithIterations(1000), luks.WithWorkers(2)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(payload); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// catRawDisk opens b as a raw disk.
func catRawDisk(t *testing.T, b []byte) disk.Disk {
	t.Helper()
	d, err := disk.Open(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// catConvert writes raw as a plain VHD or qcow2 container.
func catConvert(t *testing.T, raw []byte, to disk.Format) []byte {
	t.Helper()
	var buf bytes.Buffer
	if _, err := disk.Convert(context.Background(), &buf, catRawDisk(t, raw), to); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// catOpenDisk opens an image with disk.Open and closes what it got.
func catOpenDisk(b []byte) error {
	d, err := disk.Open(bytes.NewReader(b), int64(len(b)))
	if err == nil {
		d.Close()
	}
	return err
}

// fullDisk is a writer that accepts limit bytes and then fails like a
// full file system.
type fullDisk struct {
	limit   int64
	written int64
}

var errNoSpace = &fs.PathError{Op: "write", Path: "/mnt/full/image", Err: syscall.ENOSPC}

func (w *fullDisk) Write(p []byte) (int, error) {
	if w.written+int64(len(p)) <= w.limit {
		w.written += int64(len(p))
		return len(p), nil
	}
	n := int(w.limit - w.written)
	w.written = w.limit
	return n, errNoSpace
}

// catCloud starts a cloud and a config with audit and the server off,
// since the rows stop before those steps.
func catCloud(t *testing.T, opts ...e2etest.Options) (*e2etest.Cloud, e2e.Config) {
	t.Helper()
	cloud, err := e2etest.Start(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cloud.Close() })
	cfg := testConfig(cloud)
	cfg.Audit = false
	cfg.Server = nil
	cfg.COS.Object = "quickstart-ubuntu.luks" // named, so the rows can inspect it
	return cloud, cfg
}

func catPipeline(t *testing.T, cfg e2e.Config, store e2e.StateStore) *e2e.Pipeline {
	t.Helper()
	if store == nil {
		store = &e2e.MemoryStore{}
	}
	p, err := e2e.New(cfg, e2e.WithStateStore(store))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// catUpload runs the steps up to and including EncryptUpload, without
// Authorize (which no row here needs before the import).
func catUpload(ctx context.Context, p *e2e.Pipeline, src e2e.Source) error {
	if err := p.EnsureRootKey(ctx); err != nil {
		return err
	}
	dek, err := p.DataKey(ctx)
	if err != nil {
		return err
	}
	defer dek.Destroy()
	if err := p.EnsureBucket(ctx); err != nil {
		return err
	}
	return p.EncryptUpload(ctx, src, dek)
}

// catVerify runs Verify with a freshly unwrapped DEK.
func catVerify(ctx context.Context, p *e2e.Pipeline) error {
	dek, err := p.DataKey(ctx)
	if err != nil {
		return err
	}
	defer dek.Destroy()
	return p.Verify(ctx, dek)
}

// catStepError asserts err is a *e2e.StepError of stage.
func catStepError(t *testing.T, err error, stage e2e.Stage) *e2e.StepError {
	t.Helper()
	var se *e2e.StepError
	if !errors.As(err, &se) {
		t.Fatalf("err = %v (%T), want an *e2e.StepError at %s", err, err, stage)
	}
	if se.Stage != stage {
		t.Fatalf("failed at %s, want %s: %v", se.Stage, stage, err)
	}
	return se
}

// catNothingLeft asserts the bucket holds no object and no multipart
// upload, and the account no template.
func catNothingLeft(t *testing.T, cloud *e2etest.Cloud, bucket string) {
	t.Helper()
	if objs := cloud.Objects(bucket); len(objs) != 0 {
		t.Errorf("objects left in %s: %+v", bucket, objs)
	}
	if ups := cloud.MultipartUploads(bucket); len(ups) != 0 {
		t.Errorf("multipart uploads left in %s: %+v", bucket, ups)
	}
	if tpls := cloud.Templates(); len(tpls) != 0 {
		t.Errorf("templates left: %+v", tpls)
	}
}

func catKeys(t *testing.T, cloud *e2etest.Cloud) *keys.Client {
	t.Helper()
	kc, err := keys.NewClient(keys.Config{Endpoint: cloud.KMSURL, InstanceID: cloud.KPInstanceID, APIKey: cloud.APIKey, IAMURL: cloud.IAMURL})
	if err != nil {
		t.Fatal(err)
	}
	return kc
}

func catImages(t *testing.T, cloud *e2etest.Cloud) *image.Client {
	t.Helper()
	ic, err := image.NewClient(image.Config{Endpoint: cloud.SoftLayerURL, APIKey: cloud.APIKey})
	if err != nil {
		t.Fatal(err)
	}
	return ic
}

// catNoSecret fails if the error text contains the secret.
func catNoSecret(t *testing.T, err error, secret []byte) {
	t.Helper()
	if err != nil && len(secret) > 0 && strings.Contains(err.Error(), string(secret)) {
		t.Errorf("the error reveals the secret: %v", err)
	}
}

func TestCatalogue(t *testing.T) {
	ctx := context.Background()

	// --- LUKS headers ---------------------------------------------------

	t.Run("luks/truncated-header", func(t *testing.T) {
		img := catLUKS(t, make([]byte, 4096))
		for _, n := range []int{0, 5} {
			if _, err := luks.ReadHeader(bytes.NewReader(img[:n])); !errors.Is(err, luks.ErrNotLUKS) {
				t.Errorf("ReadHeader(%d bytes) = %v, want ErrNotLUKS", n, err)
			}
		}
		for _, n := range []int{100, 591} {
			_, err := luks.ReadHeader(bytes.NewReader(img[:n]))
			var ce *luks.CorruptError
			if !errors.As(err, &ce) || !errors.Is(err, luks.ErrCorrupt) {
				t.Errorf("ReadHeader(%d bytes) = %v, want a *luks.CorruptError", n, err)
			}
		}
	})
	t.Run("luks/truncated-key-material", func(t *testing.T) {
		img := catLUKS(t, make([]byte, 4096))
		for _, n := range []int{592, 4096, 100 << 10} {
			_, err := luks.Open(bytes.NewReader(img[:n]), catPass)
			if !errors.Is(err, luks.ErrCorrupt) {
				t.Errorf("Open(%d bytes) = %v, want ErrCorrupt", n, err)
			}
		}
	})
	t.Run("luks/truncated-payload", func(t *testing.T) {
		img := catLUKS(t, make([]byte, 4096))
		h, err := luks.ReadHeader(bytes.NewReader(img))
		if err != nil {
			t.Fatal(err)
		}
		n := h.PayloadOffset - 1
		_, err = luks.Open(bytes.NewReader(img[:n]), catPass)
		if !errors.Is(err, luks.ErrCorrupt) || !strings.Contains(err.Error(), "payload") {
			t.Errorf("Open(image cut before its payload) = %v, want ErrCorrupt naming the payload", err)
		}
		// A cut inside the payload loses whole sectors: the volume is
		// shorter, never padded with garbage.
		cut := img[:h.PayloadOffset+1024+100]
		v, err := luks.Open(bytes.NewReader(cut), catPass)
		if err != nil {
			t.Fatal(err)
		}
		defer v.Close()
		if v.Size() != 1024 {
			t.Errorf("volume of a payload cut at 1124 bytes has %d bytes, want 1024 (whole sectors)", v.Size())
		}
	})
	t.Run("luks/corrupted-magic", func(t *testing.T) {
		img := catLUKS(t, make([]byte, 4096))
		img[0] ^= 0xff
		if _, err := luks.ReadHeader(bytes.NewReader(img)); !errors.Is(err, luks.ErrNotLUKS) {
			t.Errorf("ReadHeader = %v, want ErrNotLUKS", err)
		}
		if _, err := luks.Open(bytes.NewReader(img), catPass); !errors.Is(err, luks.ErrNotLUKS) {
			t.Errorf("Open = %v, want ErrNotLUKS", err)
		}
		if _, err := luks.Decrypt(io.Discard, bytes.NewReader(img), catPass); !errors.Is(err, luks.ErrNotLUKS) {
			t.Errorf("Decrypt = %v, want ErrNotLUKS", err)
		}
	})
	t.Run("luks/corrupted-key-size-field", func(t *testing.T) {
		img := catLUKS(t, make([]byte, 4096))
		binary.BigEndian.PutUint32(img[108:], 1<<20) // LUKS1 key-bytes
		_, err := luks.ReadHeader(bytes.NewReader(img))
		var ce *luks.CorruptError
		if !errors.As(err, &ce) {
			t.Errorf("ReadHeader = %v, want a *luks.CorruptError", err)
		}
	})
	t.Run("luks/corrupted-key-slot-material", func(t *testing.T) {
		// Key material is not authenticated on its own: damage shows as a
		// passphrase that no longer opens the slot.
		img := catLUKS(t, make([]byte, 4096))
		h, err := luks.ReadHeader(bytes.NewReader(img))
		if err != nil {
			t.Fatal(err)
		}
		ks := h.KeySlots[0]
		img[ks.Offset+ks.Size/2] ^= 0x01
		if _, err := luks.Open(bytes.NewReader(img), catPass); !errors.Is(err, luks.ErrWrongPassphrase) {
			t.Errorf("Open = %v, want ErrWrongPassphrase", err)
		}
	})
	t.Run("luks2/corrupted-both-header-copies", func(t *testing.T) {
		img := catLUKS(t, make([]byte, 4096), luks.WithVersion(2), luks.WithPBKDF("pbkdf2"))
		h, err := luks.ReadHeader(bytes.NewReader(img))
		if err != nil {
			t.Fatal(err)
		}
		// One damaged copy is survivable, as with cryptsetup.
		img[4096+10] ^= 1
		v, err := luks.Open(bytes.NewReader(img), catPass)
		if err != nil {
			t.Fatalf("Open with the primary JSON area damaged = %v, want the secondary header used", err)
		}
		v.Close()
		img[h.MetadataSize+4096+10] ^= 1
		if _, err := luks.Open(bytes.NewReader(img), catPass); !errors.Is(err, luks.ErrCorrupt) {
			t.Errorf("Open with both copies damaged = %v, want ErrCorrupt", err)
		}
	})

	// --- wrong passphrase or key -----------------------------------------

	t.Run("luks/wrong-passphrase", func(t *testing.T) {
		img := catLUKS(t, make([]byte, 4096))
		wrong := bytes.Clone(catPass)
		wrong[3] ^= 1
		_, err := luks.Open(bytes.NewReader(img), wrong)
		if !errors.Is(err, luks.ErrWrongPassphrase) {
			t.Errorf("Open = %v, want ErrWrongPassphrase", err)
		}
		catNoSecret(t, err, wrong)
		_, err = luks.Decrypt(io.Discard, bytes.NewReader(img), wrong)
		if !errors.Is(err, luks.ErrWrongPassphrase) {
			t.Errorf("Decrypt = %v, want ErrWrongPassphrase", err)
		}
		catNoSecret(t, err, wrong)
	})
	t.Run("encrypted-vhd/wrong-key", func(t *testing.T) {
		key := bytes.Repeat([]byte{7}, 64)
		var buf bytes.Buffer
		if _, err := disk.WriteEncryptedVHD(ctx, &buf, catRawDisk(t, demo.Image(2<<20, 1)), key); err != nil {
			t.Fatal(err)
		}
		wrong := bytes.Repeat([]byte{8}, 64)
		_, err := disk.OpenEncryptedVHD(bytes.NewReader(buf.Bytes()), int64(buf.Len()), wrong)
		if !errors.Is(err, disk.ErrWrongKey) {
			t.Errorf("OpenEncryptedVHD = %v, want disk.ErrWrongKey", err)
		}
		if err := catOpenDisk(buf.Bytes()); !errors.Is(err, disk.ErrEncrypted) {
			t.Errorf("disk.Open without a key = %v, want disk.ErrEncrypted", err)
		}
	})
	t.Run("qcow2-luks/wrong-passphrase", func(t *testing.T) {
		var buf bytes.Buffer
		_, err := disk.WriteQCOW2LUKS(ctx, &buf, catRawDisk(t, demo.Image(2<<20, 1)), catPass,
			disk.WithLUKSOptions(luks.WithIterations(1000)))
		if err != nil {
			t.Fatal(err)
		}
		_, err = disk.OpenQCOW2LUKS(bytes.NewReader(buf.Bytes()), int64(buf.Len()), []byte("wrong-passphrase-wrong-passphrase"))
		if !errors.Is(err, luks.ErrWrongPassphrase) {
			t.Errorf("OpenQCOW2LUKS = %v, want luks.ErrWrongPassphrase", err)
		}
	})
	t.Run("kms/wdek-under-another-root-key", func(t *testing.T) {
		t.Parallel()
		cloud, _ := catCloud(t)
		kc := catKeys(t, cloud)
		k1, err := kc.CreateRootKey(ctx, "one")
		if err != nil {
			t.Fatal(err)
		}
		k2, err := kc.CreateRootKey(ctx, "two")
		if err != nil {
			t.Fatal(err)
		}
		dek, w, err := kc.GenerateDEK(ctx, k1.ID)
		if err != nil {
			t.Fatal(err)
		}
		dek.Destroy()
		if _, _, err := kc.UnwrapDEK(ctx, k2.ID, w); !errors.Is(err, keys.ErrWrongKey) {
			t.Errorf("UnwrapDEK with another root key = %v, want keys.ErrWrongKey", err)
		}
	})
	t.Run("pipeline/tampered-wdek-in-state", func(t *testing.T) {
		t.Parallel()
		_, cfg := catCloud(t)
		store := &e2e.MemoryStore{}
		p := catPipeline(t, cfg, store)
		if err := p.EnsureRootKey(ctx); err != nil {
			t.Fatal(err)
		}
		dek, err := p.DataKey(ctx)
		if err != nil {
			t.Fatal(err)
		}
		dek.Destroy()
		st, _ := store.Load(ctx)
		st.WDEK[len(st.WDEK)/2] ^= 0x40
		if err := store.Save(ctx, st); err != nil {
			t.Fatal(err)
		}
		_, err = catPipeline(t, cfg, store).DataKey(ctx)
		catStepError(t, err, e2e.StageDataKey)
		if !errors.Is(err, keys.ErrWrongKey) {
			t.Errorf("DataKey from a tampered WDEK = %v, want keys.ErrWrongKey", err)
		}
	})

	// --- VHD and qcow2 headers -------------------------------------------

	raw := demo.Image(4<<20, 2)
	t.Run("vhd/truncated", func(t *testing.T) {
		vhd := catConvert(t, raw, disk.VHDDynamic)
		for _, n := range []int{len(vhd) / 2, 1024, 511} {
			err := catOpenDisk(vhd[:n])
			var ce *disk.CorruptError
			if !errors.As(err, &ce) || !errors.Is(err, disk.ErrCorrupt) {
				t.Errorf("Open(VHD cut to %d bytes) = %v, want a *disk.CorruptError", n, err)
			}
		}
	})
	t.Run("vhd/corrupted-footers", func(t *testing.T) {
		vhd := catConvert(t, raw, disk.VHDDynamic)
		// The footer copy at offset 0 stands in for a damaged last one.
		vhd[len(vhd)-512+64] ^= 1
		if err := catOpenDisk(vhd); err != nil {
			t.Errorf("Open with only the last footer damaged = %v, want the copy used", err)
		}
		vhd[64] ^= 1
		if err := catOpenDisk(vhd); !errors.Is(err, disk.ErrCorrupt) || !strings.Contains(err.Error(), "checksum") {
			t.Errorf("Open with both footers damaged = %v, want ErrCorrupt naming the checksum", err)
		}
	})
	t.Run("vhd/corrupted-dynamic-header", func(t *testing.T) {
		vhd := catConvert(t, raw, disk.VHDDynamic)
		vhd[512] ^= 1 // "cxsparse" cookie
		if err := catOpenDisk(vhd); !errors.Is(err, disk.ErrCorrupt) {
			t.Errorf("Open = %v, want disk.ErrCorrupt", err)
		}
	})
	t.Run("qcow2/truncated", func(t *testing.T) {
		qc := catConvert(t, raw, disk.QCOW2)
		for _, n := range []int{100, 4096} {
			err := catOpenDisk(qc[:n])
			var ce *disk.CorruptError
			if !errors.As(err, &ce) || !errors.Is(err, disk.ErrCorrupt) {
				t.Errorf("Open(qcow2 cut to %d bytes) = %v, want a *disk.CorruptError", n, err)
			}
		}
	})
	t.Run("qcow2/corrupted-header", func(t *testing.T) {
		qc := catConvert(t, raw, disk.QCOW2)
		bad := bytes.Clone(qc)
		binary.BigEndian.PutUint64(bad[40:], 65536+3) // L1 table offset
		if err := catOpenDisk(bad); !errors.Is(err, disk.ErrCorrupt) {
			t.Errorf("Open(unaligned L1 offset) = %v, want disk.ErrCorrupt", err)
		}
		bad = bytes.Clone(qc)
		binary.BigEndian.PutUint32(bad[4:], 4) // version
		var ue *disk.UnsupportedError
		if err := catOpenDisk(bad); !errors.As(err, &ue) || !errors.Is(err, disk.ErrUnsupported) {
			t.Errorf("Open(qcow2 version 4) = %v, want a *disk.UnsupportedError", err)
		}
		bad = bytes.Clone(qc)
		binary.BigEndian.PutUint64(bad[8:], 1000) // backing file
		binary.BigEndian.PutUint32(bad[16:], 4)
		if err := catOpenDisk(bad); !errors.Is(err, disk.ErrUnsupported) && !errors.Is(err, disk.ErrNoParent) {
			t.Errorf("Open(qcow2 with a backing file, no parent opener) = %v, want disk.ErrNoParent or disk.ErrUnsupported", err)
		}
	})

	// --- keys of the wrong length ----------------------------------------

	t.Run("keys/wrong-length", func(t *testing.T) {
		src := catRawDisk(t, demo.Image(2<<20, 3))
		for _, n := range []int{0, 31, 48, 65} {
			key := bytes.Repeat([]byte{1}, n)
			if _, err := disk.WriteEncryptedVHD(ctx, io.Discard, src, key); !errors.Is(err, disk.ErrKeySize) {
				t.Errorf("WriteEncryptedVHD with a %d-byte key = %v, want disk.ErrKeySize", n, err)
			}
		}
		var enc bytes.Buffer
		if _, err := disk.WriteEncryptedVHD(ctx, &enc, src, bytes.Repeat([]byte{1}, 64)); err != nil {
			t.Fatal(err)
		}
		if _, err := disk.OpenEncryptedVHD(bytes.NewReader(enc.Bytes()), int64(enc.Len()), make([]byte, 31)); !errors.Is(err, disk.ErrKeySize) {
			t.Errorf("OpenEncryptedVHD with a 31-byte key = %v, want disk.ErrKeySize", err)
		}
		for _, n := range []int{0, 7169} {
			if _, err := keys.DEKFromBytes(make([]byte, n)); !errors.Is(err, keys.ErrBadRequest) {
				t.Errorf("DEKFromBytes(%d bytes) = %v, want keys.ErrBadRequest", n, err)
			}
		}
		for _, n := range []int{0, 31, 48} {
			if _, err := keys.NewDEK(n); !errors.Is(err, keys.ErrBadRequest) {
				t.Errorf("NewDEK(%d) = %v, want keys.ErrBadRequest", n, err)
			}
		}
		d, err := keys.DEKFromBytes(make([]byte, 31))
		if err != nil {
			t.Fatal(err)
		}
		defer d.Destroy()
		if _, err := d.VHDKey(); !errors.Is(err, keys.ErrNotVHDKey) {
			t.Errorf("VHDKey of a 31-byte DEK = %v, want keys.ErrNotVHDKey", err)
		}
		if _, err := luks.NewWriter(io.Discard, catPass, luks.WithVolumeKey(make([]byte, 31))); err == nil {
			t.Error("luks.NewWriter with a 31-byte volume key succeeded")
		}
	})
	t.Run("keys/import-wrong-length", func(t *testing.T) {
		t.Parallel()
		cloud, _ := catCloud(t)
		kc := catKeys(t, cloud)
		for _, n := range []int{0, 15, 33} {
			if _, err := kc.ImportRootKey(ctx, "imported", make([]byte, n)); !errors.Is(err, keys.ErrBadRequest) {
				t.Errorf("ImportRootKey(%d bytes) = %v, want keys.ErrBadRequest", n, err)
			}
		}
		if ks := cloud.Keys(); len(ks) != 0 {
			t.Errorf("refused imports left keys behind: %+v", ks)
		}
	})

	// --- DEK text (LUKS passphrase) --------------------------------------

	t.Run("passphrase/ibm-convention", func(t *testing.T) {
		long := strings.Repeat("QUJD", 129) // 516 characters
		cases := []struct{ name, p, mention string }{
			{"trailing newline", string(catPass) + "\n", "newline"},
			{"trailing CRLF", string(catPass) + "\r\n", ""},
			{"newline inside", string(catPass[:20]) + "\n" + string(catPass[20:]), ""},
			{"31 characters", string(catPass[:31]), "31"},
			{"empty", "", ""},
			{"516 characters", long, "516"},
			{"not base64", "!!!!" + string(catPass[4:]), "base64"},
		}
		for _, c := range cases {
			err := luks.ValidatePassphrase([]byte(c.p))
			if !errors.Is(err, luks.ErrInvalidPassphrase) {
				t.Errorf("%s: ValidatePassphrase = %v, want luks.ErrInvalidPassphrase", c.name, err)
				continue
			}
			if c.mention != "" && !strings.Contains(err.Error(), c.mention) {
				t.Errorf("%s: %q does not say %q", c.name, err, c.mention)
			}
			if len(c.p) > 8 {
				catNoSecret(t, err, []byte(strings.TrimSpace(c.p)))
			}
		}
		// The boundaries themselves are valid.
		for _, n := range []int{32, 512} {
			if err := luks.ValidatePassphrase([]byte(strings.Repeat("QUJD", n/4))); err != nil {
				t.Errorf("%d characters: %v, want valid", n, err)
			}
		}
		if _, err := luks.PassphraseFromDEK(make([]byte, 16)); !errors.Is(err, luks.ErrInvalidPassphrase) {
			t.Errorf("PassphraseFromDEK(16 bytes) = %v, want ErrInvalidPassphrase (24 characters)", err)
		}
		for _, n := range []int{31, 513} {
			if _, err := keys.NewPassphraseDEK(n); !errors.Is(err, keys.ErrBadRequest) {
				t.Errorf("NewPassphraseDEK(%d) = %v, want keys.ErrBadRequest", n, err)
			}
		}
	})

	// --- unaligned and zero-length images --------------------------------

	t.Run("image/unaligned-luks", func(t *testing.T) {
		payload := bytes.Repeat([]byte("unaligned"), 111) // 999 bytes
		v, err := luks.Open(bytes.NewReader(catLUKS(t, payload)), catPass)
		if err != nil {
			t.Fatal(err)
		}
		defer v.Close()
		got := make([]byte, v.Size())
		if _, err := v.ReadAt(got, 0); err != nil {
			t.Fatal(err)
		}
		if len(got) != 1024 || !bytes.Equal(got[:999], payload) || !bytes.Equal(got[999:], make([]byte, 25)) {
			t.Errorf("999-byte payload reads back as %d bytes, want it zero-padded to 1024", len(got))
		}
	})
	t.Run("image/unaligned-vhd", func(t *testing.T) {
		in := demo.Image(2<<20, 4)
		in = append(in, bytes.Repeat([]byte{0xa5}, 100)...)
		key := bytes.Repeat([]byte{9}, 64)
		var buf bytes.Buffer
		if _, err := disk.WriteEncryptedVHD(ctx, &buf, catRawDisk(t, in), key); err != nil {
			t.Fatal(err)
		}
		d, err := disk.OpenEncryptedVHD(bytes.NewReader(buf.Bytes()), int64(buf.Len()), key)
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		got, err := io.ReadAll(io.NewSectionReader(d, 0, d.Size()))
		if err != nil {
			t.Fatal(err)
		}
		if d.Size() != 4<<20 || !bytes.Equal(got[:len(in)], in) || strings.Trim(string(got[len(in):]), "\x00") != "" {
			t.Errorf("a %d-byte image reads back as %d bytes, want the input zero-padded to 4 MiB", len(in), d.Size())
		}
	})
	t.Run("image/unaligned-pipeline", func(t *testing.T) {
		t.Parallel()
		cloud, cfg := catCloud(t)
		cfg.FullVerify = true
		in := append(demo.Image(2<<20, 5), bytes.Repeat([]byte{0x5a}, 100)...)
		p := catPipeline(t, cfg, nil)
		if err := catUpload(ctx, p, e2e.FromReader(bytes.NewReader(in), int64(len(in)))); err != nil {
			t.Fatal(err)
		}
		if err := catVerify(ctx, p); err != nil {
			t.Fatal(err)
		}
		got := objectPlaintext(t, cloud, cfg, p.State())
		if len(got)%512 != 0 || len(got) < len(in) || !bytes.Equal(got[:len(in)], in) || strings.Trim(string(got[len(in):]), "\x00") != "" {
			t.Errorf("object decrypts to %d bytes, want the %d input bytes zero-padded to a sector", len(got), len(in))
		}
	})
	t.Run("image/zero-length-disk", func(t *testing.T) {
		empty := catRawDisk(t, nil)
		if _, err := disk.WriteEncryptedVHD(ctx, io.Discard, empty, make([]byte, 64)); !errors.Is(err, disk.ErrEmpty) {
			t.Errorf("WriteEncryptedVHD(empty) = %v, want disk.ErrEmpty", err)
		}
		if _, err := disk.WriteQCOW2LUKS(ctx, io.Discard, empty, catPass); !errors.Is(err, disk.ErrEmpty) {
			t.Errorf("WriteQCOW2LUKS(empty) = %v, want disk.ErrEmpty", err)
		}
		if _, err := disk.Convert(ctx, io.Discard, empty, disk.QCOW2); !errors.Is(err, disk.ErrEmpty) {
			t.Errorf("Convert(empty) = %v, want disk.ErrEmpty", err)
		}
	})
	t.Run("image/zero-length-pipeline", func(t *testing.T) {
		t.Parallel()
		cloud, cfg := catCloud(t)
		srcs := map[string]e2e.Source{
			"reader":         e2e.FromReader(bytes.NewReader(nil), 0),
			"reader-unknown": e2e.FromReader(bytes.NewReader(nil), -1),
			"file":           e2e.FromFile(writeTemp(t, nil)),
		}
		for name, src := range srcs {
			err := catUpload(ctx, catPipeline(t, cfg, nil), src)
			if err == nil {
				t.Fatalf("an empty %s source was encrypted and uploaded; EncryptUpload must refuse it", name)
			}
			catStepError(t, err, e2e.StageEncrypt)
			if !strings.Contains(err.Error(), "empty") {
				t.Errorf("%s: %v does not say the image is empty", name, err)
			}
		}
		catNothingLeft(t, cloud, cfg.COS.Bucket)
	})

	// --- images over 100 GB ----------------------------------------------

	t.Run("image/over-100GB-stream", func(t *testing.T) {
		t.Parallel()
		cloud, cfg := catCloud(t)
		// The reader holds nothing: the refusal must come from the declared
		// size, before a byte is read or uploaded.
		err := catUpload(ctx, catPipeline(t, cfg, nil), e2e.FromReader(iotest.ErrReader(errBoom), e2e.MaxImageSize+1))
		catStepError(t, err, e2e.StageEncrypt)
		if errors.Is(err, errBoom) || !strings.Contains(err.Error(), "100 GB") {
			t.Errorf("err = %v, want the 100 GB limit named before any read", err)
		}
		catNothingLeft(t, cloud, cfg.COS.Bucket)
	})
	t.Run("image/over-100GB-file", func(t *testing.T) {
		t.Parallel()
		cloud, cfg := catCloud(t)
		path := filepath.Join(t.TempDir(), "huge.raw")
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		// Sparse: no disk space is used.
		if err := f.Truncate(e2e.MaxImageSize + 512); err != nil {
			f.Close()
			testtool.Unavailable(t, "a sparse 100 GB file in the temp dir", err)
		}
		f.Close()
		err = catUpload(ctx, catPipeline(t, cfg, nil), e2e.FromFile(path))
		catStepError(t, err, e2e.StageEncrypt)
		if !strings.Contains(err.Error(), "100 GB") {
			t.Errorf("err = %v, want the 100 GB limit named", err)
		}
		catNothingLeft(t, cloud, cfg.COS.Bucket)
	})
	t.Run("image/over-100GB-import-request", func(t *testing.T) {
		t.Parallel()
		cloud, _ := catCloud(t)
		req := catImportRequest(cloud)
		req.Size = image.MaxImageSize + 1
		_, err := catImages(t, cloud).ImportEncrypted(ctx, req)
		var ve *image.ValidationError
		if !errors.Is(err, image.ErrInvalidRequest) || !errors.As(err, &ve) || ve.Field != "Size" {
			t.Errorf("ImportEncrypted(%d bytes) = %v, want an image.ValidationError on Size", req.Size, err)
		}
		if n := len(cloud.Templates()); n != 0 {
			t.Errorf("%d templates created by a refused import", n)
		}
	})

	// --- URIs that are not cos:// ----------------------------------------

	t.Run("uri/not-cos", func(t *testing.T) {
		bad := []string{
			"", "s3://bucket/object", "https://s3.us-south.cloud-object-storage.appdomain.cloud/bucket/object",
			"file:///etc/passwd", "cos://", "cos://us-south", "cos://us-south/bucket", "cos://us-south/bucket/",
			"cos:///bucket/object", "cos://us-south/Bad_Bucket/object", "cos://us-south/b/object", "COS://us-south/bucket/object",
		}
		for _, s := range bad {
			if _, err := storage.ParseURI(s); !errors.Is(err, storage.ErrInvalidURI) {
				t.Errorf("storage.ParseURI(%q) = %v, want storage.ErrInvalidURI", s, err)
			}
			var ve *image.ValidationError
			if _, err := image.ParseCOSURI(s); !errors.Is(err, image.ErrInvalidRequest) || !errors.As(err, &ve) || ve.Field != "URI" {
				t.Errorf("image.ParseCOSURI(%q) = %v, want an image.ValidationError on URI", s, err)
			}
		}
	})
	t.Run("uri/not-cos-import", func(t *testing.T) {
		t.Parallel()
		cloud, _ := catCloud(t)
		req := catImportRequest(cloud)
		req.URI = "s3://quickstart-images/image.luks"
		_, err := catImages(t, cloud).ImportEncrypted(ctx, req)
		var ve *image.ValidationError
		if !errors.As(err, &ve) || ve.Field != "URI" {
			t.Errorf("ImportEncrypted(s3:// URI) = %v, want an image.ValidationError on URI", err)
		}
		if n := len(cloud.Templates()); n != 0 {
			t.Errorf("%d templates created by a refused import", n)
		}
	})
	t.Run("uri/not-cos-source", func(t *testing.T) {
		t.Parallel()
		cloud, cfg := catCloud(t)
		err := catUpload(ctx, catPipeline(t, cfg, nil), e2e.FromCOS("s3://quickstart-images/plain.raw"))
		catStepError(t, err, e2e.StageEncrypt)
		if !errors.Is(err, storage.ErrInvalidURI) {
			t.Errorf("FromCOS(s3://…) = %v, want storage.ErrInvalidURI", err)
		}
		catNothingLeft(t, cloud, cfg.COS.Bucket)
	})
	t.Run("uri/missing-cos-source", func(t *testing.T) {
		t.Parallel()
		cloud, cfg := catCloud(t)
		err := catUpload(ctx, catPipeline(t, cfg, nil), e2e.FromCOS("cos://us-south/quickstart-images/missing.raw"))
		catStepError(t, err, e2e.StageEncrypt)
		if !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("FromCOS(missing object) = %v, want storage.ErrNotFound", err)
		}
		catNothingLeft(t, cloud, cfg.COS.Bucket)
	})

	// --- wrong region ----------------------------------------------------

	t.Run("region/bucket-in-another-region", func(t *testing.T) {
		t.Parallel()
		cloud, cfg := catCloud(t)
		if err := cloud.CreateBucket(cfg.COS.Bucket, "eu-de-standard"); err != nil {
			t.Fatal(err)
		}
		p := catPipeline(t, cfg, nil)
		err := catUpload(ctx, p, e2e.FromReader(bytes.NewReader(demo.Image(2<<20, 6)), 2<<20))
		catStepError(t, err, e2e.StageBucket)
		var rm *storage.RegionMismatchError
		if !errors.As(err, &rm) || rm.Want != cfg.Region || !strings.HasPrefix(rm.Got, "eu-de") {
			t.Errorf("err = %v, want a *storage.RegionMismatchError (want %s, got eu-de)", err, cfg.Region)
		}
		if p.State().Bucket != "" {
			t.Errorf("state records bucket %q although it was refused", p.State().Bucket)
		}
		catNothingLeft(t, cloud, cfg.COS.Bucket)
	})
	t.Run("region/key-and-bucket-differ", func(t *testing.T) {
		t.Parallel()
		cloud, _ := catCloud(t)
		req := catImportRequest(cloud)
		req.URI = "cos://eu-de/quickstart-images/image.luks"
		_, err := catImages(t, cloud).ImportEncrypted(ctx, req)
		var ve *image.ValidationError
		if !errors.As(err, &ve) || ve.Field != "RootKeyCRN" {
			t.Errorf("ImportEncrypted(key in us-south, bucket in eu-de) = %v, want an image.ValidationError on RootKeyCRN", err)
		}
	})

	// --- root key states -------------------------------------------------

	for _, c := range []struct {
		name  string
		state int
		want  keys.KeyState
	}{
		{"suspended", e2etest.KeySuspended, keys.Suspended},
		{"deactivated", e2etest.KeyDeactivated, keys.Deactivated},
		{"destroyed", e2etest.KeyDestroyed, keys.Destroyed},
	} {
		t.Run("kms/root-key-"+c.name, func(t *testing.T) {
			t.Parallel()
			cloud, cfg := catCloud(t)
			k, err := catKeys(t, cloud).CreateRootKey(ctx, "rk")
			if err != nil {
				t.Fatal(err)
			}
			if err := cloud.SetKeyState(k.ID, c.state); err != nil {
				t.Fatal(err)
			}
			cfg.KMS.RootKeyID = k.ID
			p := catPipeline(t, cfg, nil)
			err = p.EnsureRootKey(ctx)
			catStepError(t, err, e2e.StageRootKey)
			var kse *keys.KeyStateError
			if !errors.Is(err, keys.ErrKeyNotActive) || !errors.As(err, &kse) || kse.State != c.want {
				t.Errorf("EnsureRootKey(%s key) = %v, want a *keys.KeyStateError in state %v", c.name, err, c.want)
			}
			if p.State().RootKeyCRN != "" {
				t.Error("the refused key was recorded in the state")
			}
		})
	}
	for _, c := range []struct {
		name  string
		state int
	}{
		{"suspended", e2etest.KeySuspended},
		{"destroyed", e2etest.KeyDestroyed},
	} {
		t.Run("kms/root-key-"+c.name+"-after-wrap", func(t *testing.T) {
			t.Parallel()
			cloud, cfg := catCloud(t)
			store := &e2e.MemoryStore{}
			p := catPipeline(t, cfg, store)
			if err := p.EnsureRootKey(ctx); err != nil {
				t.Fatal(err)
			}
			dek, err := p.DataKey(ctx)
			if err != nil {
				t.Fatal(err)
			}
			dek.Destroy()
			if err := cloud.SetKeyState(p.State().RootKeyID, c.state); err != nil {
				t.Fatal(err)
			}
			_, err = catPipeline(t, cfg, store).DataKey(ctx)
			catStepError(t, err, e2e.StageDataKey)
			if !errors.Is(err, keys.ErrKeyNotActive) && !errors.Is(err, keys.ErrKeyNotFound) {
				t.Errorf("DataKey with a %s root key = %v, want keys.ErrKeyNotActive", c.name, err)
			}
		})
	}

	// --- credentials -----------------------------------------------------

	t.Run("iam/missing-authorization", func(t *testing.T) {
		t.Parallel()
		cloud, cfg := catCloud(t)
		p := catPipeline(t, cfg, nil)
		// Every step but Authorize: the server-protect → kms policy is missing.
		if err := catUpload(ctx, p, e2e.FromReader(bytes.NewReader(demo.Image(2<<20, 7)), 2<<20)); err != nil {
			t.Fatal(err)
		}
		err := p.Import(ctx)
		catStepError(t, err, e2e.StageImport)
		var ie *image.ImportError
		if !errors.As(err, &ie) || !errors.Is(err, image.ErrImportFailed) {
			t.Fatalf("Import without the authorization = %v, want an *image.ImportError", err)
		}
		if !strings.Contains(strings.ToLower(ie.Message), "authoriz") {
			t.Errorf("the import error %q does not name the missing authorization", ie.Message)
		}
		if st := p.State(); st.TemplateID != 0 || st.TemplateReady {
			t.Errorf("state after a failed import: template %d ready %v, want cleared for a fresh import", st.TemplateID, st.TemplateReady)
		}
		// The failed template is visible as such, never left pending.
		for _, tpl := range cloud.Templates() {
			if tpl.Status != "ERROR" {
				t.Errorf("template %d is %s after a failed import, want ERROR", tpl.ID, tpl.Status)
			}
		}
	})
	t.Run("iam/invalid-api-key", func(t *testing.T) {
		t.Parallel()
		cloud, cfg := catCloud(t)
		cfg.APIKey = "not-a-key-of-this-account"
		err := catPipeline(t, cfg, nil).EnsureRootKey(ctx)
		catStepError(t, err, e2e.StageRootKey)
		if !errors.Is(err, iam.ErrInvalidAPIKey) && !errors.Is(err, keys.ErrUnauthorized) {
			t.Errorf("err = %v, want iam.ErrInvalidAPIKey or keys.ErrUnauthorized", err)
		}
		catNoSecret(t, err, []byte(cfg.APIKey))
		if ks := cloud.Keys(); len(ks) != 0 {
			t.Errorf("keys created with a refused API key: %+v", ks)
		}
	})
	t.Run("iam/revoked-api-key", func(t *testing.T) {
		t.Parallel()
		cloud, cfg := catCloud(t)
		cloud.RevokeAPIKey(cloud.APIKey)
		err := catPipeline(t, cfg, nil).EnsureRootKey(ctx)
		catStepError(t, err, e2e.StageRootKey)
		if !errors.Is(err, iam.ErrInvalidAPIKey) && !errors.Is(err, keys.ErrUnauthorized) {
			t.Errorf("err = %v, want iam.ErrInvalidAPIKey or keys.ErrUnauthorized", err)
		}
		catNoSecret(t, err, []byte(cloud.APIKey))
	})
	t.Run("iam/expired-token", func(t *testing.T) {
		t.Parallel()
		cloud, _ := catCloud(t, e2etest.Options{TokenLifetime: time.Second})
		tok := cloud.NewToken()
		time.Sleep(1100 * time.Millisecond)
		auth := &core.BearerTokenAuthenticator{BearerToken: tok}
		kc, err := keys.NewClient(keys.Config{Endpoint: cloud.KMSURL, InstanceID: cloud.KPInstanceID, Authenticator: auth})
		if err != nil {
			t.Fatal(err)
		}
		_, err = kc.CreateRootKey(ctx, "late")
		if !errors.Is(err, keys.ErrUnauthorized) {
			t.Errorf("Key Protect with an expired token = %v, want keys.ErrUnauthorized", err)
		}
		catNoSecret(t, err, []byte(tok))
		sc, err := storage.NewClient(storage.Config{Endpoint: cloud.COSURL, Region: cloud.Region, Authenticator: auth,
			ServiceInstanceID: cloud.COSInstanceID, PathStyle: true, MaxRetries: -1})
		if err != nil {
			t.Fatal(err)
		}
		err = sc.EnsureBucket(ctx, "late-bucket")
		if !errors.Is(err, storage.ErrAccessDenied) {
			t.Errorf("COS with an expired token = %v, want storage.ErrAccessDenied", err)
		}
		catNoSecret(t, err, []byte(tok))
		ic, err := iam.NewClient(iam.Config{URL: cloud.IAMURL, Authenticator: auth, AccountID: cloud.AccountID})
		if err != nil {
			t.Fatal(err)
		}
		_, _, err = ic.EnsureAuthorization(ctx, iam.ServerProtectToKMS(cloud.KPInstanceID, false))
		if !errors.Is(err, iam.ErrUnauthorized) {
			t.Errorf("IAM with an expired token = %v, want iam.ErrUnauthorized", err)
		}
		catNoSecret(t, err, []byte(tok))
		if ks, bs := cloud.Keys(), cloud.Buckets(); len(ks) != 0 || len(bs) != 0 {
			t.Errorf("created with an expired token: keys %+v, buckets %+v", ks, bs)
		}
	})
	t.Run("iam/token-expires-mid-run", func(t *testing.T) {
		t.Parallel()
		// Tokens live one second; the run outlives several and must
		// refresh them on its own.
		cloud, cfg := catCloud(t, e2etest.Options{TokenLifetime: time.Second})
		cfg.FullVerify = true
		p := catPipeline(t, cfg, nil)
		if err := p.EnsureRootKey(ctx); err != nil {
			t.Fatal(err)
		}
		time.Sleep(1100 * time.Millisecond)
		in := demo.Image(2<<20, 8)
		if err := catUpload(ctx, p, e2e.FromReader(bytes.NewReader(in), int64(len(in)))); err != nil {
			t.Fatalf("upload after the first token expired: %v", err)
		}
		time.Sleep(1100 * time.Millisecond)
		if err := catVerify(ctx, p); err != nil {
			t.Fatalf("verify after the second token expired: %v", err)
		}
		if got := objectPlaintext(t, cloud, cfg, p.State()); !bytes.Equal(got, in) {
			t.Error("the object does not decrypt to the input")
		}
	})

	// --- state and config ------------------------------------------------

	t.Run("state/corrupt-file", func(t *testing.T) {
		t.Parallel()
		cloud, cfg := catCloud(t)
		path := filepath.Join(t.TempDir(), "state.json")
		if err := os.WriteFile(path, []byte(`{"rootKeyId": "abc", "wdek": `), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := catPipeline(t, cfg, e2e.FileStore{Path: path}).Run(ctx, e2e.FromReader(bytes.NewReader(demo.Image(2<<20, 9)), 2<<20))
		var se *json.SyntaxError
		if !errors.As(err, &se) || !strings.Contains(err.Error(), path) {
			t.Errorf("Run with a corrupt state file = %v, want a *json.SyntaxError naming the file", err)
		}
		if ks := cloud.Keys(); len(ks) != 0 {
			t.Errorf("a run with an unreadable state created keys: %+v", ks)
		}
	})
	t.Run("config/incomplete", func(t *testing.T) {
		_, err := e2e.New(e2e.Config{Image: e2e.ImageConfig{Format: "iso"}})
		var ce *e2e.ConfigError
		if !errors.As(err, &ce) {
			t.Fatalf("New(empty config) = %v, want an *e2e.ConfigError", err)
		}
		for _, want := range []string{"API key", "kms.instanceId", "cos.bucket", "image.name", "image.os", "image.format"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%v does not name %s", err, want)
			}
		}
	})
	t.Run("cos/object-replaced-before-verify", func(t *testing.T) {
		t.Parallel()
		cloud, cfg := catCloud(t)
		p := catPipeline(t, cfg, nil)
		if err := catUpload(ctx, p, e2e.FromReader(bytes.NewReader(demo.Image(2<<20, 10)), 2<<20)); err != nil {
			t.Fatal(err)
		}
		st := p.State()
		if err := cloud.PutObject(cfg.COS.Bucket, cfg.COS.Object, make([]byte, st.ObjectSize)); err != nil {
			t.Fatal(err)
		}
		err := catVerify(ctx, p)
		catStepError(t, err, e2e.StageVerify)
		if !errors.Is(err, luks.ErrNotLUKS) {
			t.Errorf("Verify of a zeroed object = %v, want luks.ErrNotLUKS", err)
		}
		if err := cloud.PutObject(cfg.COS.Bucket, cfg.COS.Object, make([]byte, 4096)); err != nil {
			t.Fatal(err)
		}
		err = catVerify(ctx, p)
		catStepError(t, err, e2e.StageVerify)
		if !errors.Is(err, storage.ErrSizeMismatch) {
			t.Errorf("Verify of a shorter object = %v, want storage.ErrSizeMismatch", err)
		}
		if p.State().Verified {
			t.Error("state says verified after a failed verification")
		}
	})

	// --- writers that run out of space -----------------------------------

	t.Run("writer/out-of-space-luks", func(t *testing.T) {
		if _, err := luks.NewWriter(&fullDisk{limit: 100}, catPass, luks.WithIterations(1000)); !errors.Is(err, syscall.ENOSPC) {
			t.Errorf("NewWriter into a full disk = %v, want ENOSPC", err)
		}
		w, err := luks.NewWriter(&fullDisk{limit: (2 << 20) + 300<<10}, catPass, luks.WithIterations(1000), luks.WithWorkers(2))
		if err != nil {
			t.Fatal(err)
		}
		chunk := make([]byte, 256<<10)
		var first error
		for i := 0; i < 16 && first == nil; i++ {
			_, first = w.Write(chunk)
		}
		if first == nil {
			first = w.Close()
		}
		if !errors.Is(first, syscall.ENOSPC) {
			t.Fatalf("writing 4 MiB into 300 KiB of space: %v, want ENOSPC", first)
		}
		if _, err := w.Write(chunk); !errors.Is(err, syscall.ENOSPC) {
			t.Errorf("Write after the failure = %v, want the same (sticky) error", err)
		}
		if _, err := w.ReadFrom(bytes.NewReader(chunk)); !errors.Is(err, syscall.ENOSPC) {
			t.Errorf("ReadFrom after the failure = %v, want the same (sticky) error", err)
		}
		if err := w.Close(); !errors.Is(err, syscall.ENOSPC) {
			t.Errorf("Close after the failure = %v, want the same (sticky) error", err)
		}
		if err := w.Close(); !errors.Is(err, syscall.ENOSPC) {
			t.Errorf("second Close = %v, want the same error", err)
		}
	})
	t.Run("writer/out-of-space-disk", func(t *testing.T) {
		src := catRawDisk(t, demo.Image(4<<20, 11))
		for _, limit := range []int64{0, 1000, 3 << 20} {
			if _, err := disk.WriteEncryptedVHD(ctx, &fullDisk{limit: limit}, src, bytes.Repeat([]byte{3}, 64)); !errors.Is(err, syscall.ENOSPC) {
				t.Errorf("WriteEncryptedVHD into %d bytes = %v, want ENOSPC", limit, err)
			}
			if _, err := disk.WriteQCOW2LUKS(ctx, &fullDisk{limit: limit}, src, catPass, disk.WithLUKSOptions(luks.WithIterations(1000))); !errors.Is(err, syscall.ENOSPC) {
				t.Errorf("WriteQCOW2LUKS into %d bytes = %v, want ENOSPC", limit, err)
			}
			if _, err := disk.Convert(ctx, &fullDisk{limit: limit}, src, disk.VHDDynamic); !errors.Is(err, syscall.ENOSPC) {
				t.Errorf("Convert into %d bytes = %v, want ENOSPC", limit, err)
			}
		}
	})

	// --- answers lost on the way back -------------------------------------

	t.Run("softlayer/import-answer-lost", func(t *testing.T) {
		t.Parallel()
		cloud, cfg := catCloud(t)
		cfg.Server = nil
		// The template is created, but its answer is cut after 10 bytes.
		cloud.InjectFault(e2etest.ServiceSoftLayer, "SoftLayer_Virtual_Guest_Block_Device_Template_Group::createFromIcos",
			e2etest.Fault{Drop: true, DropAfter: 10})
		store := &e2e.MemoryStore{}
		src := func() e2e.Source { return e2e.FromReader(bytes.NewReader(demo.Image(2<<20, 18)), 2<<20) }
		_, err := catPipeline(t, cfg, store).Run(ctx, src())
		catStepError(t, err, e2e.StageImport)
		if !errors.Is(err, image.ErrTransport) {
			t.Errorf("lost createFromIcos answer = %v, want image.ErrTransport", err)
		}
		if _, err := catPipeline(t, cfg, store).Run(ctx, src()); err != nil {
			t.Fatalf("rerun: %v", err)
		}
		if n := len(cloud.Templates()); n != 1 {
			t.Errorf("the rerun imported again: %d templates for one image, want 1 (adopted by its import token)", n)
		}
	})
	t.Run("kms/wrap-answer-cut", func(t *testing.T) {
		t.Parallel()
		cloud, cfg := catCloud(t)
		cloud.InjectFault(e2etest.ServiceKMS, "wrap", e2etest.Fault{Drop: true, DropAfter: 20})
		p := catPipeline(t, cfg, nil)
		if err := p.EnsureRootKey(ctx); err != nil {
			t.Fatal(err)
		}
		dek, err := p.DataKey(ctx)
		if err == nil {
			dek.Destroy() // retried: fine
			return
		}
		catStepError(t, err, e2e.StageDataKey)
		if chaosCause(err) == "" {
			t.Errorf("a Key Protect answer cut mid-body must be retried or fail with a typed error (keys.ErrTransport): %v", err)
		}
	})

	// --- cancelled contexts ------------------------------------------------

	t.Run("ctx/cancelled", func(t *testing.T) {
		t.Parallel()
		cloud, cfg := catCloud(t)
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		_, err := catPipeline(t, cfg, nil).Run(cctx, e2e.FromReader(bytes.NewReader(demo.Image(2<<20, 16)), 2<<20))
		catStepError(t, err, e2e.StageRootKey)
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Run(cancelled ctx) = %v, want context.Canceled", err)
		}
		if ks := cloud.Keys(); len(ks) != 0 {
			t.Errorf("a cancelled run created keys: %+v", ks)
		}
		src := catRawDisk(t, demo.Image(4<<20, 17))
		if _, err := disk.WriteEncryptedVHD(cctx, io.Discard, src, bytes.Repeat([]byte{5}, 64)); !errors.Is(err, context.Canceled) {
			t.Errorf("WriteEncryptedVHD(cancelled ctx) = %v, want context.Canceled", err)
		}
		img := catLUKS(t, make([]byte, 4096))
		if _, err := luks.OpenContext(cctx, bytes.NewReader(img), catPass); !errors.Is(err, context.Canceled) {
			t.Errorf("luks.OpenContext(cancelled ctx) = %v, want context.Canceled", err)
		}
		if _, err := luks.DecryptContext(cctx, io.Discard, bytes.NewReader(img), catPass); !errors.Is(err, context.Canceled) {
			t.Errorf("luks.DecryptContext(cancelled ctx) = %v, want context.Canceled", err)
		}
	})

	// --- readers that return short reads and errors ----------------------

	t.Run("reader/short-reads-luks", func(t *testing.T) {
		in := append(demo.Image(2<<20, 12)[:300<<10], 1, 2, 3) // not a whole sector
		readers := map[string]func(io.Reader) io.Reader{
			"HalfReader":    iotest.HalfReader,
			"OneByteReader": iotest.OneByteReader,
			"DataErrReader": iotest.DataErrReader,
		}
		for name, wrap := range readers {
			var buf bytes.Buffer
			w, err := luks.NewWriter(&buf, catPass, luks.WithIterations(1000), luks.WithWorkers(2))
			if err != nil {
				t.Fatal(err)
			}
			// A struct hides bytes.Reader's WriterTo so io.Copy takes ReadFrom.
			if _, err := io.Copy(w, struct{ io.Reader }{wrap(bytes.NewReader(in))}); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if err := w.Close(); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			var out bytes.Buffer
			if _, err := luks.Decrypt(&out, &buf, catPass); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if got := out.Bytes(); len(got) < len(in) || !bytes.Equal(got[:len(in)], in) {
				t.Errorf("%s: the image does not decrypt to the input", name)
			}
		}
	})
	t.Run("reader/errors-luks", func(t *testing.T) {
		in := demo.Image(2<<20, 13)
		readers := map[string]struct {
			r    io.Reader
			want error
		}{
			"ErrReader":     {io.MultiReader(bytes.NewReader(in[:100<<10]), iotest.ErrReader(errBoom)), errBoom},
			"TimeoutReader": {iotest.TimeoutReader(bytes.NewReader(in)), iotest.ErrTimeout},
		}
		for name, c := range readers {
			w, err := luks.NewWriter(io.Discard, catPass, luks.WithIterations(1000), luks.WithWorkers(2))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := w.ReadFrom(c.r); !errors.Is(err, c.want) {
				t.Errorf("%s: ReadFrom = %v, want %v", name, err, c.want)
			}
			w.Close()
		}
	})
	t.Run("reader/short-reads-pipeline", func(t *testing.T) {
		t.Parallel()
		cloud, cfg := catCloud(t)
		cfg.FullVerify = true
		in := demo.Image(2<<20, 14)
		p := catPipeline(t, cfg, nil)
		if err := catUpload(ctx, p, e2e.FromReader(iotest.HalfReader(bytes.NewReader(in)), int64(len(in)))); err != nil {
			t.Fatal(err)
		}
		if err := catVerify(ctx, p); err != nil {
			t.Fatal(err)
		}
		if got := objectPlaintext(t, cloud, cfg, p.State()); !bytes.Equal(got, in) {
			t.Error("the object does not decrypt to the input")
		}
	})
	t.Run("reader/errors-pipeline", func(t *testing.T) {
		t.Parallel()
		cloud, cfg := catCloud(t)
		cfg.COS.PartSize = 5 << 20
		in := demo.Image(12<<20, 15)
		// The failure comes after the first part is stored: the multipart
		// upload must be aborted.
		for name, c := range map[string]struct {
			r    io.Reader
			want error
		}{
			"ErrReader":     {io.MultiReader(bytes.NewReader(in[:9<<20]), iotest.ErrReader(errBoom)), errBoom},
			"TimeoutReader": {iotest.TimeoutReader(bytes.NewReader(in)), iotest.ErrTimeout},
		} {
			p := catPipeline(t, cfg, nil)
			err := catUpload(ctx, p, e2e.FromReader(c.r, int64(len(in))))
			catStepError(t, err, e2e.StageEncrypt)
			if !errors.Is(err, c.want) {
				t.Errorf("%s: err = %v, want %v", name, err, c.want)
			}
			if p.State().ObjectURI != "" {
				t.Errorf("%s: state records object %s after a failed upload", name, p.State().ObjectURI)
			}
		}
		catNothingLeft(t, cloud, cfg.COS.Bucket)
	})
}

// catImportRequest is a valid encrypted import request for the cloud,
// which rows spoil one field at a time.
func catImportRequest(cloud *e2etest.Cloud) image.ImportRequest {
	return image.ImportRequest{
		Name:            "catalogue",
		OSReferenceCode: "UBUNTU_22_64",
		URI:             "cos://" + cloud.Region + "/quickstart-images/image.luks",
		IBMAPIKey:       cloud.APIKey,
		RootKeyCRN:      "crn:v1:bluemix:public:kms:" + cloud.Region + ":a/" + cloud.AccountID + ":" + cloud.KPInstanceID + ":key:0f3ad8e1-6a55-4a3b-9c1e-2f5d3c8b7a10",
		WrappedDEK:      "eyJjaXBoZXJ0ZXh0IjoiYWJjIn0=",
		Format:          image.LUKSRaw,
	}
}

// FuzzCOSURIParsersAgree: the pipeline names its upload with storage.URI
// and the import parses that name with image.ParseCOSURI, so both parsers
// must accept the same URIs and read the same parts; otherwise an upload
// can succeed under a name the import refuses.
func FuzzCOSURIParsersAgree(f *testing.F) {
	for _, s := range []string{
		"cos://us-south/quickstart-images/quickstart-ubuntu.luks", "cos://eu-de/b-1.x/dir/obj.vhd-0.vhd",
		"cos://us-south/bucket/a%20b", "cos://us-south/bucket//double", "cos://us-south/bucket/obj?x=1",
		"s3://bucket/object", "cos://us-south/bucket", "cos://us-south/Bad_Bucket/object", "cos:///bucket/object",
		"cos://us-south/b/object", "cos://us-south/192.168.1.1/o", "cos://us-south/a..b/o", "cos://US-SOUTH/bucket/o",
		"cos://us/bucket/o", "cos://ams03/bucket/o", "cos://us-south/bucket/folder/",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		su, serr := storage.ParseURI(s)
		iu, ierr := image.ParseCOSURI(s)
		if serr == nil && ierr != nil {
			t.Fatalf("storage accepts %q (%+v) but the import refuses it: %v", s, su, ierr)
		}
		if serr == nil && (su.Region != iu.Region || su.Bucket != iu.Bucket || su.Object != iu.Object) {
			t.Fatalf("%q: storage reads %+v, the import %+v", s, su, iu)
		}
		if serr == nil {
			again, err := storage.ParseURI(su.String())
			if err != nil || again != su {
				t.Fatalf("%q: String %q does not parse back (%+v, %v)", s, su.String(), again, err)
			}
		}
	})
}

// FuzzStateFile: a damaged state file is an error, never a panic, and what
// loads saves and loads back the same.
func FuzzStateFile(f *testing.F) {
	seed, err := json.Marshal(e2e.State{RootKeyID: "0f3ad8e1", RootKeyCRN: "crn:v1:bluemix:public:kms:us-south:a/acct:inst:key:0f3ad8e1",
		WDEK: []byte{1, 2, 3}, AuthorizationPolicyID: "p-1", Bucket: "b", ObjectURI: "cos://us-south/b/o.luks", ObjectSize: 4 << 20,
		ObjectSHA256: strings.Repeat("ab", 32), Verified: true, TemplateID: 3100004, TemplateGUID: "guid", TemplateReady: true,
		OrderRequested: true, ServerID: 7, ServerHostname: "h", ServerReady: true, StartedAt: time.Unix(1e9, 0).UTC()})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add([]byte(`{"wdek": "not base64"}`))
	f.Add([]byte(`{"templateId": 1e99}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, b []byte) {
		path := filepath.Join(t.TempDir(), "state.json")
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		st := e2e.FileStore{Path: path}
		s, err := st.Load(context.Background())
		if err != nil {
			return
		}
		if err := st.Save(context.Background(), s); err != nil {
			t.Fatal(err)
		}
		again, err := st.Load(context.Background())
		if err != nil {
			t.Fatalf("a saved state does not load: %v", err)
		}
		a, _ := json.Marshal(s)
		c, _ := json.Marshal(again)
		if !bytes.Equal(a, c) {
			t.Fatalf("state changed through save and load:\n%s\n%s", a, c)
		}
	})
}
