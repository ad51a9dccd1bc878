package storage

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/IBM/ibm-cos-sdk-go/aws"
	"github.com/IBM/ibm-cos-sdk-go/service/s3"
)

// BucketOption configures EnsureBucket.
type BucketOption func(*bucketOptions) error

type bucketOptions struct {
	class      string
	constraint string
}

// WithStorageClass sets the storage class of a bucket EnsureBucket
// creates: "standard", "vault", "cold", "smart" or "onerate_active".
// The default is "standard" (regional resiliency, as image import requires).
func WithStorageClass(class string) BucketOption {
	return func(o *bucketOptions) error {
		if !isStorageClass(class) {
			return fmt.Errorf("%w: storage class %q", ErrInvalidOption, class)
		}
		o.class = class
		return nil
	}
}

// WithLocationConstraint sets the exact LocationConstraint of a bucket
// EnsureBucket creates, for S3-compatible servers that expect a plain
// region ("us-south"). The default is "<region>-<storage class>", IBM's form.
func WithLocationConstraint(c string) BucketOption {
	return func(o *bucketOptions) error {
		if c == "" {
			return fmt.Errorf("%w: empty location constraint", ErrInvalidOption)
		}
		o.constraint = c
		return nil
	}
}

var storageClasses = []string{"standard", "vault", "cold", "smart", "onerate_active", "flex"}

func isStorageClass(s string) bool {
	for _, c := range storageClasses {
		if s == c {
			return true
		}
	}
	return false
}

// LocationRegion returns the region of a LocationConstraint: "us-south" for
// "us-south-standard" (IBM's form) or for a plain "us-south".
func LocationRegion(constraint string) string {
	for _, c := range storageClasses {
		if r, ok := strings.CutSuffix(constraint, "-"+c); ok {
			return r
		}
	}
	return constraint
}

// EnsureBucket makes sure a bucket exists in the client's region: it
// creates it when missing, or verifies the location of an existing one
// (a *RegionMismatchError when it lives elsewhere; IBM's image import needs
// the bucket in the region of the key). Concurrent creation is tolerated.
func (c *Client) EnsureBucket(ctx context.Context, name string, opts ...BucketOption) error {
	o := bucketOptions{class: "standard"}
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return err
		}
	}
	if err := ValidateBucketName(name); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidOption, err)
	}
	loc, err := c.BucketLocation(ctx, name)
	if errors.Is(err, ErrNoSuchBucket) {
		constraint := o.constraint
		if constraint == "" {
			constraint = c.region + "-" + o.class
		}
		_, err = c.s3.CreateBucketWithContext(ctx, &s3.CreateBucketInput{
			Bucket:                    aws.String(name),
			CreateBucketConfiguration: &s3.CreateBucketConfiguration{LocationConstraint: aws.String(constraint)},
		})
		err = wrapErr(ctx.Err(), "CreateBucket", name, "", err)
		var re *RequestError
		if errors.As(err, &re) && (re.Code == "BucketAlreadyOwnedByYou" || re.Code == "BucketAlreadyExists") {
			loc, err = c.BucketLocation(ctx, name) // created meanwhile: verify it
		} else if err != nil {
			return err
		} else {
			return nil
		}
	}
	if err != nil {
		return err
	}
	if LocationRegion(loc) != c.region {
		return &RegionMismatchError{Bucket: name, Want: c.region, Got: loc}
	}
	return nil
}

// BucketLocation returns a bucket's LocationConstraint, e.g. "us-south-standard".
func (c *Client) BucketLocation(ctx context.Context, bucket string) (string, error) {
	out, err := c.s3.GetBucketLocationWithContext(ctx, &s3.GetBucketLocationInput{Bucket: aws.String(bucket)})
	if err != nil {
		return "", wrapErr(ctx.Err(), "GetBucketLocation", bucket, "", err)
	}
	return aws.StringValue(out.LocationConstraint), nil
}
