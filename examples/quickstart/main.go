// Command quickstart runs the whole encrypted-image workflow against an
// emulated IBM Cloud (package e2etest) and shows each step: it builds a
// small bootable-looking disk image, wraps a data key with Key Protect,
// authorizes Cloud Block Storage, encrypts the image straight into a Cloud
// Object Storage upload, imports it as an encrypted image template, orders a
// virtual server from it, reads the audit trail, and finally proves that
// the template's object decrypts back to the input with the unwrapped key.
//
//	go run ./examples/quickstart                # LUKS, classic template and server (IBM's 2018 design)
//	go run ./examples/quickstart -format vhd    # blktap encrypted VHD, classic (today's classic docs)
//	go run ./examples/quickstart -format qcow2  # qcow2+LUKS, VPC custom image and VPC instance
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/e2eimage/e2e"
	"github.com/e2eimage/e2e/disk"
	"github.com/e2eimage/e2e/e2etest"
	"github.com/e2eimage/e2e/internal/demo"
	"github.com/e2eimage/e2e/keys"
	"github.com/e2eimage/e2e/luks"
	"github.com/e2eimage/e2e/storage"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	format := flag.String("format", string(e2e.LUKSRaw), "encrypted image format: luks, vhd or qcow2 (VPC)")
	flag.Parse()
	if err := run(ctx, os.Stdout, e2e.Format(*format)); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, out io.Writer, format e2e.Format) error {
	switch format {
	case e2e.LUKSRaw, e2e.EncryptedVHD, e2e.QCOW2LUKS:
	default:
		return fmt.Errorf("unknown -format %q (want luks, vhd or qcow2)", format)
	}
	cloud, err := e2etest.Start()
	if err != nil {
		return err
	}
	defer cloud.Close()
	fmt.Fprintf(out, "emulated IBM Cloud (%s) up: IAM %s, Key Protect %s, COS %s, SoftLayer %s, VPC %s, Logs %s\n\n",
		cloud.Region, cloud.IAMURL, cloud.KMSURL, cloud.COSURL, cloud.SoftLayerURL, cloud.VPCURL, cloud.LogsURL)

	img := demo.Image(16<<20, 1)
	fmt.Fprintf(out, "source image: %d MiB raw disk (MBR, one Linux partition)\n\n", len(img)>>20)

	cfg := demo.ConfigFor(cloud, format)
	p, err := e2e.New(cfg, e2e.WithStateStore(&e2e.MemoryStore{}), e2e.WithProgress(printProgress(out)))
	if err != nil {
		return err
	}
	res, err := p.Run(ctx, e2e.FromReaderAt(bytes.NewReader(img), int64(len(img))))
	if err != nil {
		return err
	}
	st := res.State
	fmt.Fprintf(out, "\nresult:\n  root key  %s\n  WDEK      %s… (%d bytes, safe to store; the DEK never left memory)\n  object    %s (%d bytes, sha256 %s)\n",
		st.RootKeyCRN, keys.WDEK(st.WDEK).String()[:16], len(st.WDEK), st.ObjectURI, st.ObjectSize, st.ObjectSHA256[:16])
	if st.VPCImageID != "" {
		fmt.Fprintf(out, "  VPC image %s\n", st.VPCImageID)
	} else {
		fmt.Fprintf(out, "  template  %d (%s)\n", st.TemplateID, st.TemplateGUID)
	}
	if s := res.Server; s != nil && s.VPCInstanceID != "" {
		fmt.Fprintf(out, "  instance  %s %s in %s, status %s, private IP %s\n", s.VPCInstanceID, s.Hostname, s.Zone, s.PowerState, s.PrivateIP)
	} else if s != nil {
		fmt.Fprintf(out, "  server    %d %s.%s, power %s, public IP %s, private IP %s\n", s.ID, s.Hostname, s.Domain, s.PowerState, s.PublicIP, s.PrivateIP)
	}
	fmt.Fprintf(out, "\naudit trail (%d events):\n", len(res.Events))
	for _, ev := range res.Events {
		fmt.Fprintf(out, "  %s  %-38s %-8s by %-18s on %s\n", ev.Time.Format(time.TimeOnly), ev.Action, ev.Outcome, ev.Initiator.Name, ev.Target.ID)
	}

	if err := prove(ctx, out, cfg, st, img); err != nil {
		return err
	}
	fmt.Fprintln(out, "\nquickstart: OK")
	return nil
}

// prove reads the template's object back with the SDK's own primitives,
// unwraps the saved WDEK and checks that the image decrypts to the input.
func prove(ctx context.Context, out io.Writer, cfg e2e.Config, st e2e.State, want []byte) error {
	kc, err := keys.NewClient(keys.Config{Endpoint: cfg.Endpoints.KMS, InstanceID: cfg.KMS.InstanceID, APIKey: cfg.APIKey, IAMURL: cfg.Endpoints.IAM})
	if err != nil {
		return err
	}
	dek, _, err := kc.UnwrapDEK(ctx, st.RootKeyID, keys.WDEK(st.WDEK))
	if err != nil {
		return err
	}
	defer dek.Destroy()
	cos, err := storage.NewClient(storage.Config{Endpoint: cfg.Endpoints.COS, Region: cfg.Region, APIKey: cfg.APIKey, IAMURL: cfg.Endpoints.IAM, PathStyle: cfg.COS.PathStyle})
	if err != nil {
		return err
	}
	u, err := storage.ParseURI(st.ObjectURI)
	if err != nil {
		return err
	}
	ra, err := cos.NewReaderAt(ctx, u.Bucket, u.Object)
	if err != nil {
		return err
	}
	defer ra.Close()
	img, how, err := openImage(cfg.Image.Format, ra, dek)
	if err != nil {
		return err
	}
	defer img.Close()
	got := make([]byte, len(want))
	if _, err := img.ReadAt(got, 0); err != nil && err != io.EOF {
		return err
	}
	if !bytes.Equal(got, want) {
		return fmt.Errorf("the imported object does not decrypt to the input image")
	}
	fmt.Fprintf(out, "\nproof: %s unlocked with the unwrapped DEK (%s) and decrypts to the %d input bytes exactly\n",
		u, how, len(want))
	return nil
}

// image is what the proof reads: a LUKS volume or an encrypted disk.
type image interface {
	io.ReaderAt
	io.Closer
}

// openImage opens the object with the secret its format derives from the
// DEK: the LUKS passphrase (base64 text), the raw XTS key of an encrypted
// VHD, or the qcow2 LUKS passphrase. The secret is wiped once opened.
func openImage(f e2e.Format, ra *storage.ObjectReaderAt, dek *keys.DEK) (image, string, error) {
	switch f {
	case e2e.EncryptedVHD:
		key, err := dek.VHDKey()
		if err != nil {
			return nil, "", err
		}
		defer clear(key)
		d, err := disk.OpenEncryptedVHD(ra, ra.Size(), key)
		return d, "blktap encrypted VHD, AES-XTS", err
	case e2e.QCOW2LUKS:
		pass, err := dek.QCOW2Passphrase()
		if err != nil {
			return nil, "", err
		}
		defer clear(pass)
		d, err := disk.OpenQCOW2LUKS(ra, ra.Size(), pass)
		return d, "qcow2 + LUKS1 aes-xts-plain64", err
	default:
		pass := dek.LUKSPassphrase()
		defer clear(pass)
		vol, err := luks.Open(ra, pass)
		if err != nil {
			return nil, "", err
		}
		return vol, vol.Header().CipherSpec(), nil
	}
}

// printProgress prints one line per finished step and a throttled line
// while bytes move.
func printProgress(out io.Writer) e2e.ProgressFunc {
	var last time.Time
	return func(u e2e.Update) {
		switch {
		case u.Skipped:
			fmt.Fprintf(out, "  %-15s skipped (done in an earlier run)\n", u.Stage)
		case u.Finished:
			fmt.Fprintf(out, "✓ %-15s %s (%s)\n", u.Stage, u.Message, u.Elapsed.Round(time.Millisecond))
		case u.Done > 0 && time.Since(last) > 200*time.Millisecond:
			last = time.Now()
			fmt.Fprintf(out, "  %-15s %s uploaded at %.1f MB/s\n", u.Stage, mib(u.Done), u.Rate/1e6)
		case u.Done == 0 && u.Message != "" && !strings.HasPrefix(u.Message, "CREATE") && u.Elapsed == 0:
			fmt.Fprintf(out, "… %-15s %s\n", u.Stage, u.Message)
		}
	}
}

func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }
