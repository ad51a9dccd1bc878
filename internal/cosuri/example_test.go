package cosuri_test

import (
	"errors"
	"fmt"

	"github.com/e2eimage/e2e/internal/cosuri"
)

func ExampleParse() {
	u, err := cosuri.Parse("cos://ams03/images/ubuntu.vhd-0.vhd")
	fmt.Println(u.Region, u.Bucket, u.Object, err)

	_, err = cosuri.Parse("cos://us-south/images/ubuntu/")
	fmt.Println(errors.Is(err, cosuri.ErrObject))
	fmt.Println(err)
	// Output:
	// ams03 images ubuntu.vhd-0.vhd <nil>
	// true
	// "cos://us-south/images/ubuntu/": object key "ubuntu/" ends in "/": it names a folder, not an image file
}
