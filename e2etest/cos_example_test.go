package e2etest_test

import (
	"bytes"
	"fmt"
	"log"

	"github.com/IBM/ibm-cos-sdk-go/aws"
	"github.com/IBM/ibm-cos-sdk-go/aws/credentials/ibmiam"
	"github.com/IBM/ibm-cos-sdk-go/aws/session"
	"github.com/IBM/ibm-cos-sdk-go/service/s3"

	"github.com/e2eimage/e2e/e2etest"
)

// The official COS SDK talks to the emulated COS with IAM credentials
// (or HMAC: credentials.NewStaticCredentials(cloud.HMACAccessKeyID, …)).
func ExampleCloud_cos() {
	cloud, err := e2etest.Start()
	if err != nil {
		log.Fatal(err)
	}
	defer cloud.Close()

	sess := session.Must(session.NewSession(&aws.Config{
		Endpoint:         aws.String(cloud.COSURL),
		Region:           aws.String(cloud.Region),
		S3ForcePathStyle: aws.Bool(true),
		Credentials:      ibmiam.NewStaticCredentials(aws.NewConfig(), cloud.TokenURL(), cloud.APIKey, cloud.COSInstanceID),
	}))
	cos := s3.New(sess)
	if _, err := cos.CreateBucket(&s3.CreateBucketInput{
		Bucket:                    aws.String("images"),
		CreateBucketConfiguration: &s3.CreateBucketConfiguration{LocationConstraint: aws.String("us-south-standard")},
	}); err != nil {
		log.Fatal(err)
	}
	if _, err := cos.PutObject(&s3.PutObjectInput{Bucket: aws.String("images"), Key: aws.String("disk.img"),
		Body: bytes.NewReader([]byte("image bytes"))}); err != nil {
		log.Fatal(err)
	}
	// Tests inspect the cloud from Go.
	fmt.Println(cloud.Buckets())
	for _, o := range cloud.Objects("images") {
		fmt.Println(o.Key, o.Size)
	}
	fmt.Println(len(cloud.MultipartUploads("images")), "unfinished uploads")
	// Output:
	// [{images us-south-standard}]
	// disk.img 11
	// 0 unfinished uploads
}
