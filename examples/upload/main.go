// Command upload encrypts a disk image straight into Cloud Object Storage:
// luks.NewWriter writes into storage's ObjectWriter, a streaming multipart
// upload, so there is no temporary file and encryption overlaps the upload.
// A failure aborts the upload (no orphan parts). It then reads the object
// back at random with ranged GETs and unlocks it.
//
//	go run ./examples/upload
//
// Without IBMCLOUD_API_KEY it runs against an emulated IBM Cloud (package
// e2etest). With it, against IBM Cloud: COS_INSTANCE_ID (the COS instance
// CRN), E2E_BUCKET (default "e2e-example-images", created in the region when
// missing), E2E_OBJECT (default "example.luks"), IBMCLOUD_REGION (default
// us-south); E2E_COS_URL, E2E_KMS_URL and E2E_IAM_URL override the endpoints
// (a custom COS endpoint is addressed path-style). The DEK is E2E_WDEK
// unwrapped by the root key E2E_ROOT_KEY_ID of KP_INSTANCE_ID (see
// ../wrap-dek), or a local one when E2E_WDEK is not set. E2E_SOURCE is the
// raw image to upload (default: a generated 4 MiB disk); E2E_ITER_TIME the
// LUKS key-slot time (default 2s).
package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"time"

	"github.com/e2eimage/e2e/internal/demo"
	"github.com/e2eimage/e2e/luks"
	"github.com/e2eimage/e2e/storage"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Stdout, os.Getenv); err != nil {
		fmt.Fprintln(os.Stderr, "upload:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, out io.Writer, env func(string) string) error {
	env, done, err := cloudEnv(ctx, out, env)
	if err != nil {
		return err
	}
	defer done()
	iterTime, err := time.ParseDuration(or(env("E2E_ITER_TIME"), "2s"))
	if err != nil {
		return fmt.Errorf("E2E_ITER_TIME: %w", err)
	}
	src := io.Reader(bytes.NewReader(demo.Image(4<<20, 1)))
	if path := env("E2E_SOURCE"); path != "" {
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		src = f
	}
	region := or(env("IBMCLOUD_REGION"), "us-south")
	cos, err := storage.NewClient(storage.Config{
		Endpoint:          or(env("E2E_COS_URL"), "https://s3."+region+".cloud-object-storage.appdomain.cloud"),
		Region:            region,
		APIKey:            env("IBMCLOUD_API_KEY"),
		IAMURL:            env("E2E_IAM_URL"),
		ServiceInstanceID: env("COS_INSTANCE_ID"),
		PathStyle:         env("E2E_COS_URL") != "",
	})
	if err != nil {
		return err
	}
	bucket, object := or(env("E2E_BUCKET"), "e2e-example-images"), or(env("E2E_OBJECT"), "example.luks")
	// The import needs the bucket in the key's region: EnsureBucket creates
	// it there or fails with a *storage.RegionMismatchError.
	if err := cos.EnsureBucket(ctx, bucket); err != nil {
		return err
	}

	dek, err := dataKey(ctx, out, env)
	if err != nil {
		return err
	}
	defer dek.Destroy()
	pass := dek.LUKSPassphrase()
	defer clear(pass)

	obj := cos.NewObjectWriter(ctx, bucket, object, storage.WithProgress(func(p storage.Progress) {
		fmt.Fprintf(out, "  part %d stored, %d bytes at %.1f MB/s\n", p.Parts, p.Bytes, p.Rate()/1e6)
	}))
	if err := encrypt(obj, src, pass, iterTime); err != nil {
		_ = obj.CloseWithError(err) // aborts the multipart upload
		return err
	}
	if err := obj.Close(); err != nil {
		var ue *storage.UploadError
		if errors.As(err, &ue) && !ue.Aborted {
			return fmt.Errorf("%w (abort the orphan upload %s later: %v)", err, ue.UploadID, ue.AbortErr)
		}
		return err
	}
	res := obj.Result()
	fmt.Fprintf(out, "stored %s: %d bytes in %d part(s), sha256 %x\n", res.URI, res.Size, res.Parts, res.SHA256[:8])

	// Read it back at random, as an image import does, and unlock it.
	ra, err := cos.NewReaderAt(ctx, bucket, object)
	if err != nil {
		return err
	}
	defer ra.Close()
	vol, err := luks.OpenContext(ctx, ra, pass)
	if err != nil {
		return err
	}
	defer vol.Close()
	fmt.Fprintf(out, "read back: %s unlocks with the DEK, %d-byte volume, %s\n", res.URI, vol.Size(), vol.Header().CipherSpec())
	return nil
}

// encrypt streams src through a LUKS writer into w.
func encrypt(w io.Writer, src io.Reader, pass []byte, iterTime time.Duration) error {
	lw, err := luks.NewWriter(w, pass, luks.WithIterTime(iterTime))
	if err != nil {
		return err
	}
	if _, err := io.Copy(lw, src); err != nil {
		return err
	}
	return lw.Close()
}

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
