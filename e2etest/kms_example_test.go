package e2etest_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log"

	kp "github.com/IBM/keyprotect-go-client"

	"github.com/e2eimage/e2e/e2etest"
)

// Point IBM's own Key Protect client at the emulator, then simulate IBM
// Cloud destroying the key: the WDEK no longer unwraps.
func ExampleCloud_SetKeyState() {
	cloud, err := e2etest.Start()
	if err != nil {
		log.Fatal(err)
	}
	defer cloud.Close()
	ctx := context.Background()

	client, err := kp.New(kp.ClientConfig{
		BaseURL:    cloud.KMSURL,
		APIKey:     cloud.APIKey,
		TokenURL:   cloud.OIDCTokenURL(),
		InstanceID: cloud.KPInstanceID,
	}, kp.DefaultTransport())
	if err != nil {
		log.Fatal(err)
	}
	root, err := client.CreateRootKey(ctx, "example", nil)
	if err != nil {
		log.Fatal(err)
	}
	dek := base64.StdEncoding.EncodeToString(make([]byte, 32))
	wdek, err := client.Wrap(ctx, root.ID, []byte(dek), nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(cloud.Keys()), cloud.Keys()[0].State == e2etest.KeyActive)

	if err := cloud.SetKeyState(root.ID, e2etest.KeyDestroyed); err != nil {
		log.Fatal(err)
	}
	_, err = client.Unwrap(ctx, root.ID, wdek, nil)
	var kerr *kp.Error
	fmt.Println(errors.As(err, &kerr), kerr.StatusCode, kerr.Reasons[0].Code)
	// Output:
	// 1 true
	// true 410 KEY_DELETED_ERR
}
