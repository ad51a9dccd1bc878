package image_test

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/IBM/go-sdk-core/v5/core"

	"github.com/e2eimage/e2e/image"
)

// FuzzVPCImportRequest: validation never panics, and whatever it lets
// through to the API meets VPC's rules. The client points at a closed
// loopback port, so requests that pass fail with ErrTransport.
func FuzzVPCImportRequest(f *testing.F) {
	c, err := image.NewVPCClient(image.VPCConfig{Endpoint: "http://127.0.0.1:1/v1", Authenticator: &core.NoAuthAuthenticator{}, Retries: -1})
	if err != nil {
		f.Fatal(err)
	}
	crn := "crn:v1:bluemix:public:kms:us-south:a/0123abcd:6f1b7c2e-0000-4000-8000-000000000000:key:0b5a7a6e-1111-4111-8111-111111111111"
	f.Add("encrypted-ubuntu", "cos://us-south/vpc-images/ubuntu.qcow2", "ubuntu-24-04-amd64", crn, "ZXhhbXBsZSB3ZGVr")
	f.Add("a", "cos://eu-de/b.c/d/e.QCOW2", "debian-12-s390x", strings.Replace(crn, ":kms:", ":hs-crypto:", 1), "")
	f.Add("Bad_Name", "cos://us-south/x/y.vhd", "UBUNTU_22_64", "crn:v1", "not base64")
	name := regexp.MustCompile(`^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$`)
	f.Fuzz(func(t *testing.T, n, uri, osName, keyCRN, wdek string) {
		_, err := c.ImportEncrypted(context.Background(), image.VPCImportRequest{Name: n, URI: uri, OSName: osName, RootKeyCRN: keyCRN, WrappedDEK: wdek})
		var ve *image.ValidationError
		if errors.As(err, &ve) {
			if !errors.Is(err, image.ErrInvalidRequest) || ve.Field == "" {
				t.Fatalf("validation error without field or sentinel: %v", err)
			}
			return
		}
		if !errors.Is(err, image.ErrTransport) {
			t.Fatalf("a request that passed validation: %v; want ErrTransport from the closed port", err)
		}
		if !name.MatchString(n) || !strings.HasPrefix(uri, "cos://") || !strings.HasSuffix(strings.ToLower(uri), ".qcow2") ||
			!strings.HasPrefix(keyCRN, "crn:v1:") || wdek == "" {
			t.Fatalf("validation let through name %q uri %q key %q wdek %q", n, uri, keyCRN, wdek)
		}
	})
}
