package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"time"

	"github.com/e2eimage/e2e/disk"
	"github.com/e2eimage/e2e/e2etest"
	"github.com/e2eimage/e2e/iam"
	"github.com/e2eimage/e2e/internal/demo"
	"github.com/e2eimage/e2e/keys"
	"github.com/e2eimage/e2e/luks"
	"github.com/e2eimage/e2e/storage"
)

// cloudEnv returns env when IBMCLOUD_API_KEY is set. Otherwise it starts an
// emulated IBM Cloud, makes in it what the earlier examples make, and returns
// the settings that name it all; done stops the cloud.
func cloudEnv(ctx context.Context, out io.Writer, env func(string) string) (_ func(string) string, done func(), _ error) {
	return demo.Env(ctx, out, env, func(ctx context.Context, cloud *e2etest.Cloud) (map[string]string, error) {
		m, err := prepare(ctx, cloud, env("E2E_FORMAT"))
		if err == nil {
			fmt.Fprintf(out, "prepared root key %s, a WDEK and cos://%s/%s/%s\n", m["E2E_ROOT_KEY_ID"], cloud.Region, m["E2E_BUCKET"], m["E2E_OBJECT"])
		}
		return m, err
	})
}

// prepare does, with the primitives, what a real user did with the earlier
// examples: a root key and a WDEK (../wrap-dek), the server-protect → kms
// authorization (../authorize), and a small image encrypted with the DEK in
// COS (../upload). format is "luks" (or empty) or "vhd".
func prepare(ctx context.Context, cloud *e2etest.Cloud, format string) (map[string]string, error) {
	kc, err := keys.NewClient(keys.Config{Endpoint: cloud.KMSURL, InstanceID: cloud.KPInstanceID, APIKey: cloud.APIKey, IAMURL: cloud.IAMURL})
	if err != nil {
		return nil, err
	}
	root, err := kc.EnsureRootKey(ctx, "e2e-example-root-key")
	if err != nil {
		return nil, err
	}
	ic, err := iam.NewClient(iam.Config{APIKey: cloud.APIKey, IAMURL: cloud.IAMURL})
	if err != nil {
		return nil, err
	}
	if _, _, err := ic.EnsureAuthorization(ctx, iam.ServerProtectToKMS(cloud.KPInstanceID, false)); err != nil {
		return nil, err
	}
	cos, err := storage.NewClient(storage.Config{Endpoint: cloud.COSURL, Region: cloud.Region, APIKey: cloud.APIKey,
		IAMURL: cloud.IAMURL, ServiceInstanceID: cloud.COSInstanceID, PathStyle: true})
	if err != nil {
		return nil, err
	}
	bucket, object := "e2e-example-images", "e2e-example-image.luks"
	if format == "vhd" {
		object = "e2e-example-image.vhd-0.vhd" // the name IBM expects of a VHD
	}
	if err := cos.EnsureBucket(ctx, bucket); err != nil {
		return nil, err
	}
	img := demo.Image(2<<20, 1)
	var dek *keys.DEK
	var wdek keys.WDEK
	var enc bytes.Buffer
	if format == "vhd" {
		if dek, err = keys.NewDEK(64); err != nil {
			return nil, err
		}
		defer dek.Destroy()
		if wdek, err = kc.WrapDEK(ctx, root.ID, dek); err != nil {
			return nil, err
		}
		src, err := disk.Open(bytes.NewReader(img), int64(len(img)))
		if err != nil {
			return nil, err
		}
		key, _ := dek.VHDKey()
		defer clear(key)
		if _, err := disk.WriteEncryptedVHD(ctx, &enc, src, key); err != nil {
			return nil, err
		}
	} else {
		if dek, wdek, err = kc.GenerateDEK(ctx, root.ID); err != nil {
			return nil, err
		}
		defer dek.Destroy()
		pass := dek.LUKSPassphrase()
		defer clear(pass)
		lw, err := luks.NewWriter(&enc, pass, luks.WithIterTime(10*time.Millisecond))
		if err != nil {
			return nil, err
		}
		lw.Write(img) // errors are sticky: Close reports them
		if err := lw.Close(); err != nil {
			return nil, err
		}
	}
	if _, err := cos.Upload(ctx, bucket, object, &enc); err != nil {
		return nil, err
	}
	return map[string]string{
		"IBMCLOUD_API_KEY": cloud.APIKey, "IBMCLOUD_REGION": cloud.Region, "E2E_IAM_URL": cloud.IAMURL,
		"E2E_KMS_URL": cloud.KMSURL, "KP_INSTANCE_ID": cloud.KPInstanceID, "E2E_SOFTLAYER_URL": cloud.SoftLayerURL,
		"E2E_ROOT_KEY_ID": root.ID, "E2E_WDEK": wdek.String(), "E2E_BUCKET": bucket, "E2E_OBJECT": object,
		"E2E_FORMAT": format, "E2E_POLL_INTERVAL": "50ms", // the emulator imports in scaled time
	}, nil
}
