package e2etest

// Inspection and setup of the emulated COS from Go, for tests: what
// buckets, objects and unfinished multipart uploads the cloud holds.

import (
	"bytes"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/johannesboyne/gofakes3"
)

// BucketInfo describes a bucket of the emulated COS.
type BucketInfo struct {
	Name string
	// Location is the bucket's LocationConstraint, e.g. "us-south-standard".
	Location string
}

// ObjectInfo describes an object of the emulated COS.
type ObjectInfo struct {
	Key          string
	Size         int64
	ETag         string // quoted, as S3 answers it
	LastModified time.Time
}

// MultipartUploadInfo describes a multipart upload that was neither
// completed nor aborted.
type MultipartUploadInfo struct {
	Key       string
	UploadID  string
	Parts     int   // parts received so far
	Size      int64 // bytes received so far
	Initiated time.Time
}

// CreateBucket creates a bucket directly, without a request, for test
// setup. An empty location means "<Region>-standard"; unlike the S3 API,
// which only accepts the endpoint's region, any "<region>-<class>" is
// accepted, so tests can plant a bucket of another region.
func (c *Cloud) CreateBucket(name, location string) error {
	if location == "" {
		location = c.Region + "-standard"
	}
	if _, ok := locationRegion(location); !ok {
		return fmt.Errorf("e2etest: cos: location %q is not <region>-<storage class>", location)
	}
	if err := c.createBucket(name, location); err != nil {
		return fmt.Errorf("e2etest: cos: create bucket %q: %w", name, err)
	}
	return nil
}

// Buckets lists the buckets and their locations, sorted by name.
func (c *Cloud) Buckets() []BucketInfo {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]BucketInfo, 0, len(c.cos.locations))
	for name, loc := range c.cos.locations {
		out = append(out, BucketInfo{Name: name, Location: loc})
	}
	slices.SortFunc(out, func(a, b BucketInfo) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// PutObject stores an object directly, for test setup. The bucket must exist.
func (c *Cloud) PutObject(bucket, key string, data []byte) error {
	if exists, _ := c.cos.backend.BucketExists(bucket); !exists {
		return fmt.Errorf("e2etest: cos: bucket %q does not exist", bucket)
	}
	if _, err := c.cos.backend.PutObject(bucket, key, map[string]string{
		"Last-Modified": time.Now().UTC().Format("Mon, 02 Jan 2006 15:04:05 GMT"),
	}, bytes.NewReader(data), int64(len(data)), nil); err != nil {
		return fmt.Errorf("e2etest: cos: put %s/%s: %w", bucket, key, err)
	}
	return nil
}

// Object returns a copy of an object's bytes.
func (c *Cloud) Object(bucket, key string) ([]byte, error) {
	obj, err := c.cos.backend.GetObject(bucket, key, nil)
	if err != nil {
		return nil, fmt.Errorf("e2etest: cos: get %s/%s: %w", bucket, key, err)
	}
	defer obj.Contents.Close()
	return io.ReadAll(obj.Contents)
}

// Objects lists the objects of a bucket, sorted by key; nil when the
// bucket does not exist.
func (c *Cloud) Objects(bucket string) []ObjectInfo {
	list, err := c.cos.backend.ListBucket(bucket, nil, gofakes3.ListBucketPage{})
	if err != nil {
		return nil
	}
	out := make([]ObjectInfo, 0, len(list.Contents))
	for _, o := range list.Contents {
		out = append(out, ObjectInfo{Key: o.Key, Size: o.Size, ETag: o.ETag, LastModified: o.LastModified.Time})
	}
	return out
}

// MultipartUploads lists the unfinished multipart uploads of a bucket,
// sorted by key; tests assert it is empty after an aborted upload.
func (c *Cloud) MultipartUploads(bucket string) []MultipartUploadInfo {
	u := c.cos.uploads
	u.mu.Lock()
	defer u.mu.Unlock()
	var out []MultipartUploadInfo
	for _, up := range u.uploads {
		if up.bucket != bucket {
			continue
		}
		info := MultipartUploadInfo{Key: up.key, UploadID: string(up.id), Parts: len(up.parts), Initiated: up.initiated}
		for _, p := range up.parts {
			info.Size += int64(len(p.body))
		}
		out = append(out, info)
	}
	slices.SortFunc(out, func(a, b MultipartUploadInfo) int {
		return strings.Compare(a.Key+"\x00"+a.UploadID, b.Key+"\x00"+b.UploadID)
	})
	return out
}
