package e2etest

// Multipart uploads for the emulated COS. gofakes3's built-in uploader
// answers NoSuchUpload when listing the uploads of a bucket that never had
// one, accepts parts of any size and cannot be inspected; this one follows
// S3: empty lists, 5 MiB minimum for every part but the last, 5 GiB maximum,
// at most 10,000 parts, opaque upload IDs.

import (
	"bytes"
	"cmp"
	"crypto/md5"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/johannesboyne/gofakes3"
)

// S3's multipart limits.
const (
	minPartSize = 5 << 20 // every part but the last
	maxPartSize = 5 << 30
	maxParts    = 10000
)

// S3 error codes gofakes3 does not define.
const (
	errEntityTooSmall gofakes3.ErrorCode = "EntityTooSmall"
	errEntityTooLarge gofakes3.ErrorCode = "EntityTooLarge"
)

type cosPart struct {
	body     []byte
	etag     string
	modified time.Time
}

type cosUpload struct {
	id          gofakes3.UploadID
	bucket, key string
	meta        map[string]string
	initiated   time.Time
	parts       map[int]*cosPart
}

// cosUploads holds the in-progress multipart uploads. Its lock is its own:
// part bodies never sit under Cloud.mu.
type cosUploads struct {
	backend gofakes3.Backend
	mu      sync.Mutex
	uploads map[gofakes3.UploadID]*cosUpload
}

func newCOSUploads(b gofakes3.Backend) *cosUploads {
	return &cosUploads{backend: b, uploads: map[gofakes3.UploadID]*cosUpload{}}
}

var _ gofakes3.MultipartBackend = (*cosUploads)(nil)

func (u *cosUploads) CreateMultipartUpload(bucket, object string, meta map[string]string) (gofakes3.UploadID, error) {
	up := &cosUpload{id: gofakes3.UploadID(newUUID()), bucket: bucket, key: object, meta: meta,
		initiated: time.Now().UTC(), parts: map[int]*cosPart{}}
	u.mu.Lock()
	defer u.mu.Unlock()
	u.uploads[up.id] = up
	return up.id, nil
}

// get returns an upload; u.mu must be held.
func (u *cosUploads) get(bucket, object string, id gofakes3.UploadID) (*cosUpload, error) {
	up, ok := u.uploads[id]
	if !ok || up.bucket != bucket || up.key != object {
		return nil, gofakes3.ErrorMessage(gofakes3.ErrNoSuchUpload,
			"The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.")
	}
	return up, nil
}

func (u *cosUploads) UploadPart(bucket, object string, id gofakes3.UploadID, partNumber int, contentLength int64, input io.Reader) (string, error) {
	if partNumber < 1 || partNumber > maxParts {
		return "", gofakes3.ErrorMessagef(gofakes3.ErrInvalidArgument, "Part number must be an integer between 1 and %d, inclusive.", maxParts)
	}
	if contentLength > maxPartSize {
		return "", gofakes3.ErrorMessage(errEntityTooLarge, "Your proposed upload exceeds the maximum allowed size.")
	}
	u.mu.Lock()
	_, err := u.get(bucket, object, id)
	u.mu.Unlock()
	if err != nil {
		return "", err
	}
	// Read outside the lock: parts of one upload arrive concurrently.
	body, err := io.ReadAll(io.LimitReader(input, contentLength+1))
	if err != nil {
		return "", err
	}
	if int64(len(body)) != contentLength {
		return "", gofakes3.ErrorMessage(gofakes3.ErrIncompleteBody, "You did not provide the number of bytes specified by the Content-Length HTTP header.")
	}
	sum := md5.Sum(body)
	etag := fmt.Sprintf(`"%x"`, sum)
	u.mu.Lock()
	defer u.mu.Unlock()
	up, err := u.get(bucket, object, id) // it may have been aborted meanwhile
	if err != nil {
		return "", err
	}
	up.parts[partNumber] = &cosPart{body: body, etag: etag, modified: time.Now().UTC()}
	return etag, nil
}

func (u *cosUploads) ListMultipartUploads(bucket string, marker *gofakes3.UploadListMarker, prefix gofakes3.Prefix, limit int64) (*gofakes3.ListMultipartUploadsResult, error) {
	u.mu.Lock()
	var ups []*cosUpload
	for _, up := range u.uploads {
		if up.bucket == bucket {
			ups = append(ups, up)
		}
	}
	u.mu.Unlock()
	slices.SortFunc(ups, func(a, b *cosUpload) int {
		return cmp.Or(strings.Compare(a.key, b.key), a.initiated.Compare(b.initiated), strings.Compare(string(a.id), string(b.id)))
	})
	res := &gofakes3.ListMultipartUploadsResult{Bucket: bucket, MaxUploads: limit,
		Prefix: prefix.Prefix, Delimiter: prefix.Delimiter}
	if marker != nil {
		res.KeyMarker, res.UploadIDMarker = marker.Object, marker.UploadID
	}
	seen := map[string]bool{}
	var n int64
	for _, up := range ups {
		if marker != nil && (up.key < marker.Object ||
			up.key == marker.Object && (marker.UploadID == "" || up.id <= marker.UploadID)) {
			continue
		}
		var m gofakes3.PrefixMatch
		if !prefix.Match(up.key, &m) {
			continue
		}
		if n >= limit {
			res.IsTruncated = true
			break
		}
		if m.CommonPrefix {
			if !seen[m.MatchedPart] {
				seen[m.MatchedPart] = true
				res.CommonPrefixes = append(res.CommonPrefixes, m.AsCommonPrefix())
				n++
			}
			continue
		}
		res.Uploads = append(res.Uploads, gofakes3.ListMultipartUploadItem{Key: up.key, UploadID: up.id,
			StorageClass: "STANDARD", Initiated: gofakes3.NewContentTime(up.initiated)})
		res.NextKeyMarker, res.NextUploadIDMarker = up.key, up.id
		n++
	}
	if !res.IsTruncated {
		res.NextKeyMarker, res.NextUploadIDMarker = "", ""
	}
	return res, nil
}

func (u *cosUploads) ListParts(bucket, object string, id gofakes3.UploadID, marker int, limit int64) (*gofakes3.ListMultipartUploadPartsResult, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	up, err := u.get(bucket, object, id)
	if err != nil {
		return nil, err
	}
	res := &gofakes3.ListMultipartUploadPartsResult{Bucket: bucket, Key: object, UploadID: id,
		StorageClass: "STANDARD", PartNumberMarker: marker, MaxParts: limit}
	nums := make([]int, 0, len(up.parts))
	for n := range up.parts {
		if n > marker {
			nums = append(nums, n)
		}
	}
	sort.Ints(nums)
	for _, n := range nums {
		if int64(len(res.Parts)) >= limit {
			res.IsTruncated = true
			break
		}
		p := up.parts[n]
		res.Parts = append(res.Parts, gofakes3.ListMultipartUploadPartItem{PartNumber: n,
			LastModified: gofakes3.NewContentTime(p.modified), ETag: p.etag, Size: int64(len(p.body))})
		res.NextPartNumberMarker = n
	}
	return res, nil
}

func (u *cosUploads) AbortMultipartUpload(bucket, object string, id gofakes3.UploadID) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	if _, err := u.get(bucket, object, id); err != nil {
		return err
	}
	delete(u.uploads, id)
	return nil
}

// CompleteMultipartUpload satisfies gofakes3's interface; serveCOS calls
// complete directly so S3's own error codes reach the client.
func (u *cosUploads) CompleteMultipartUpload(bucket, object string, id gofakes3.UploadID, in *gofakes3.CompleteMultipartUploadRequest) (gofakes3.VersionID, string, error) {
	etag, err := u.complete(bucket, object, id, in)
	return "", etag, err
}

// complete checks the part list as S3 does, stores the object and returns
// its ETag. The ETag is the object's MD5, the same HEAD and GET answer
// (S3's "md5-of-md5s-N" form cannot be represented by the memory backend).
func (u *cosUploads) complete(bucket, object string, id gofakes3.UploadID, in *gofakes3.CompleteMultipartUploadRequest) (string, error) {
	u.mu.Lock()
	up, err := u.get(bucket, object, id)
	if err != nil {
		u.mu.Unlock()
		return "", err
	}
	if len(in.Parts) == 0 {
		u.mu.Unlock()
		return "", gofakes3.ErrorMessage(gofakes3.ErrMalformedXML, "The XML you provided was not well-formed or did not validate against our published schema: no parts.")
	}
	readers := make([]io.Reader, 0, len(in.Parts))
	var size int64
	for i, p := range in.Parts {
		if i > 0 && p.PartNumber <= in.Parts[i-1].PartNumber {
			u.mu.Unlock()
			return "", gofakes3.ErrorMessage(gofakes3.ErrInvalidPartOrder, "The list of parts was not in ascending order. The parts list must be specified in order by part number.")
		}
		part, ok := up.parts[p.PartNumber]
		if !ok || strings.Trim(p.ETag, `"`) != strings.Trim(part.etag, `"`) {
			u.mu.Unlock()
			return "", gofakes3.ErrorMessagef(gofakes3.ErrInvalidPart, "One or more of the specified parts could not be found or its entity tag did not match: part %d.", p.PartNumber)
		}
		if i < len(in.Parts)-1 && len(part.body) < minPartSize {
			u.mu.Unlock()
			return "", gofakes3.ErrorMessagef(errEntityTooSmall, "Your proposed upload is smaller than the minimum allowed object size: part %d has %d bytes, the minimum is %d.", p.PartNumber, len(part.body), minPartSize)
		}
		readers = append(readers, bytes.NewReader(part.body))
		size += int64(len(part.body))
	}
	delete(u.uploads, id) // claim it; a failed store puts it back
	u.mu.Unlock()

	if _, err := u.backend.PutObject(bucket, object, up.meta, io.MultiReader(readers...), size, nil); err != nil {
		u.mu.Lock()
		u.uploads[id] = up
		u.mu.Unlock()
		return "", err
	}
	obj, err := u.backend.HeadObject(bucket, object)
	if err != nil {
		return "", err
	}
	_ = obj.Contents.Close()
	return gofakes3.FormatETag(obj.Hash), nil
}

// dropBucket forgets the uploads of a deleted bucket.
func (u *cosUploads) dropBucket(bucket string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	for id, up := range u.uploads {
		if up.bucket == bucket {
			delete(u.uploads, id)
		}
	}
}
