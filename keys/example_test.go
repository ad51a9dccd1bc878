package keys_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/e2eimage/e2e/e2etest"
	"github.com/e2eimage/e2e/keys"
)

// Make the data key of an encrypted image: ensure a root key, let the
// service generate and wrap a DEK, keep the WDEK, use the DEK, destroy it.
func ExampleClient_GenerateDEK() {
	cloud, err := e2etest.Start()
	if err != nil {
		log.Fatal(err)
	}
	defer cloud.Close()
	ctx := context.Background()

	kms, err := keys.NewClient(keys.Config{Endpoint: cloud.KMSURL, InstanceID: cloud.KPInstanceID,
		APIKey: cloud.APIKey, IAMURL: cloud.IAMURL})
	if err != nil {
		log.Fatal(err)
	}
	root, err := kms.EnsureRootKey(ctx, "image-root-key")
	if err != nil {
		log.Fatal(err)
	}
	dek, wdek, err := kms.GenerateDEK(ctx, root.ID)
	if err != nil {
		log.Fatal(err)
	}
	defer dek.Destroy()
	passphrase := dek.LUKSPassphrase() // the LUKS passphrase of a classic 2018 image
	defer clear(passphrase)

	// Persist wdek.String() and root.CRN for the import; never the DEK.
	fmt.Println(dek.Len(), len(passphrase), len(wdek.String()) > 0)

	// Later (or in another process): get the DEK back from the WDEK.
	again, _, err := kms.UnwrapDEK(ctx, root.ID, wdek)
	if err != nil {
		log.Fatal(err)
	}
	defer again.Destroy()
	fmt.Println(again.Len())
	// Output:
	// 32 44 true
	// 32
}

// After a rotation, UnwrapDEK hands back the WDEK rewrapped under the new
// key version: persist it in place of the old one.
func ExampleClient_UnwrapDEK() {
	cloud, err := e2etest.Start()
	if err != nil {
		log.Fatal(err)
	}
	defer cloud.Close()
	ctx := context.Background()
	kms, err := keys.NewClient(keys.Config{Endpoint: cloud.KMSURL, InstanceID: cloud.KPInstanceID,
		APIKey: cloud.APIKey, IAMURL: cloud.IAMURL})
	if err != nil {
		log.Fatal(err)
	}
	root, _ := kms.CreateRootKey(ctx, "rotating")
	dek, _ := keys.NewDEK(64) // AES-256-XTS key of an encrypted VHD
	defer dek.Destroy()
	wdek, err := kms.WrapDEK(ctx, root.ID, dek)
	if err != nil {
		log.Fatal(err)
	}
	if err := kms.Rotate(ctx, root.ID); err != nil {
		log.Fatal(err)
	}
	got, rewrapped, err := kms.UnwrapDEK(ctx, root.ID, wdek)
	if err != nil {
		log.Fatal(err)
	}
	defer got.Destroy()
	fmt.Println("rewrapped:", rewrapped.String() != wdek.String())

	if err := kms.Disable(ctx, root.ID); err != nil {
		log.Fatal(err)
	}
	_, _, err = kms.UnwrapDEK(ctx, root.ID, rewrapped)
	var state *keys.KeyStateError
	fmt.Println(errors.Is(err, keys.ErrKeyNotActive), errors.As(err, &state) && state.State == keys.Suspended)
	// Output:
	// rewrapped: true
	// true true
}

// A DEK prints and marshals without its plaintext.
func ExampleDEK_String() {
	dek, _ := keys.DEKFromBytes([]byte("0123456789abcdef0123456789abcdef"))
	defer dek.Destroy()
	fmt.Println(dek)
	fmt.Printf("%x\n", dek)
	fmt.Println(string(dek.LUKSPassphrase()))
	// Output:
	// keys.DEK{32 bytes, REDACTED}
	// keys.DEK{32 bytes, REDACTED}
	// MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=
}
