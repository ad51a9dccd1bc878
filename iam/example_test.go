package iam_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/e2eimage/e2e/e2etest"
	"github.com/e2eimage/e2e/iam"
)

// Authorize Cloud Block Storage to read the Key Protect instance's root
// keys, as an encrypted image import requires, sharing one token source.
func ExampleClient_EnsureAuthorization() {
	cloud, err := e2etest.Start()
	if err != nil {
		log.Fatal(err)
	}
	defer cloud.Close()
	ctx := context.Background()

	tokens, err := iam.NewTokenSource(cloud.APIKey, cloud.IAMURL)
	if err != nil {
		log.Fatal(err)
	}
	client, err := iam.NewClient(iam.Config{Authenticator: tokens, URL: cloud.IAMURL})
	if err != nil {
		log.Fatal(err)
	}
	need := iam.ServerProtectToKMS(cloud.KPInstanceID, false)
	if err := client.VerifyAuthorizations(ctx, need); errors.Is(err, iam.ErrMissingAuthorization) {
		fmt.Println("missing before")
	}
	_, created, err := client.EnsureAuthorization(ctx, need)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("created:", created)
	_, created, _ = client.EnsureAuthorization(ctx, need)
	fmt.Println("created again:", created)
	fmt.Println("verified:", client.VerifyAuthorizations(ctx, need) == nil)
	// Output:
	// missing before
	// created: true
	// created again: false
	// verified: true
}

// Give an import its own identity: a service ID with an API key that may
// read one bucket and use the KMS instance.
func ExampleClient_CreateAPIKey() {
	cloud, err := e2etest.Start()
	if err != nil {
		log.Fatal(err)
	}
	defer cloud.Close()
	ctx := context.Background()
	client, err := iam.NewClient(iam.Config{APIKey: cloud.APIKey, IAMURL: cloud.IAMURL})
	if err != nil {
		log.Fatal(err)
	}
	sid, err := client.CreateServiceID(ctx, "image-import", "reads images and root keys")
	if err != nil {
		log.Fatal(err)
	}
	for _, a := range []iam.Access{iam.BucketAccess(cloud.COSInstanceID, "images"), iam.KMSAccess(cloud.KPInstanceID, false)} {
		if _, _, err := client.GrantAccess(ctx, sid.IAMID, a); err != nil {
			log.Fatal(err)
		}
	}
	key, err := client.CreateAPIKey(ctx, sid.IAMID, "image-import-key")
	if err != nil {
		log.Fatal(err)
	}
	defer key.Destroy()
	fmt.Println(key.Secret() != "") // hand key.Secret() to the import; never log it
	fmt.Printf("%v\n", key.Name)
	// Output:
	// true
	// image-import-key
}
