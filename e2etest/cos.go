package e2etest

// Cloud Object Storage: a real S3 protocol server (gofakes3 over its memory
// backend) behind IBM's two ways in: IAM bearer tokens and HMAC keys (AWS
// Signature Version 4, verified for real). The wrapper adds what gofakes3
// lacks and COS has: bucket locations (LocationConstraint), the
// ibm-service-instance-id header, a multipart backend that enforces S3's part
// rules, conditional ranged reads (If-Match), fault injection and audit events.

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// cosState is the COS part of the cloud. Object bytes live in backend and
// uploads (they have their own locks); only locations is guarded by Cloud.mu.
type cosState struct {
	backend   *s3mem.Backend
	uploads   *cosUploads
	s3        http.Handler
	locations map[string]string // bucket → LocationConstraint, e.g. "us-south-standard"
}

// cosStorageClasses are the storage classes IBM accepts in a regional
// LocationConstraint ("<region>-<class>").
var cosStorageClasses = []string{"standard", "vault", "cold", "smart", "onerate_active"}

func (c *Cloud) cosHandler() http.Handler {
	c.cos.backend = s3mem.New()
	c.cos.uploads = newCOSUploads(c.cos.backend)
	c.cos.locations = map[string]string{}
	// gofakes3 uses a MultipartBackend when its storage backend is one, so
	// hand it the memory backend and our uploads as one value.
	faker := gofakes3.New(cosBackend{c.cos.backend, c.cos.uploads},
		gofakes3.WithoutVersioning(),
		gofakes3.WithLogger(gofakes3.DiscardLog()),
	)
	c.cos.s3 = faker.Server()
	return http.HandlerFunc(c.serveCOS)
}

// cosBackend is the memory backend with our multipart uploads.
type cosBackend struct {
	*s3mem.Backend
	*cosUploads
}

// s3Operation names the S3 operation of a request (the names fault
// injection uses) and splits its path into bucket and key.
func s3Operation(r *http.Request) (op, bucket, key string) {
	bucket, key, _ = strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	q := r.URL.Query()
	switch {
	case bucket == "":
		if q.Has("extended") {
			return "ListBucketsExtended", "", ""
		}
		return "ListBuckets", "", ""
	case q.Has("uploadId"):
		switch r.Method {
		case http.MethodGet:
			return "ListParts", bucket, key
		case http.MethodPut:
			return "UploadPart", bucket, key
		case http.MethodPost:
			return "CompleteMultipartUpload", bucket, key
		case http.MethodDelete:
			return "AbortMultipartUpload", bucket, key
		}
	case q.Has("uploads"):
		if r.Method == http.MethodPost && key != "" {
			return "CreateMultipartUpload", bucket, key
		}
		return "ListMultipartUploads", bucket, key
	case key == "":
		switch r.Method {
		case http.MethodGet:
			switch {
			case q.Has("location"):
				return "GetBucketLocation", bucket, ""
			case q.Has("versioning"):
				return "GetBucketVersioning", bucket, ""
			case q.Get("list-type") == "2":
				return "ListObjectsV2", bucket, ""
			}
			return "ListObjects", bucket, ""
		case http.MethodPut:
			if q.Has("versioning") {
				return "PutBucketVersioning", bucket, ""
			}
			return "CreateBucket", bucket, ""
		case http.MethodDelete:
			return "DeleteBucket", bucket, ""
		case http.MethodHead:
			return "HeadBucket", bucket, ""
		case http.MethodPost:
			if q.Has("delete") {
				return "DeleteObjects", bucket, ""
			}
			return "PostObject", bucket, ""
		}
	default:
		switch r.Method {
		case http.MethodGet:
			return "GetObject", bucket, key
		case http.MethodHead:
			return "HeadObject", bucket, key
		case http.MethodPut:
			if r.Header.Get("X-Amz-Copy-Source") != "" {
				return "CopyObject", bucket, key
			}
			return "PutObject", bucket, key
		case http.MethodDelete:
			return "DeleteObject", bucket, key
		}
	}
	return "Unknown", bucket, key
}

func (c *Cloud) serveCOS(w http.ResponseWriter, r *http.Request) {
	op, bucket, key := s3Operation(r)
	w, done := c.applyFault(ServiceCOS, op, w, r, writeS3Error)
	if done {
		return
	}
	who, aerr := c.cosAuthenticate(r, op)
	if aerr != nil {
		writeS3Error(w, aerr.status, aerr.code, aerr.msg)
		return
	}
	switch op {
	case "CreateBucket":
		c.cosCreateBucket(w, r, who, bucket)
		return
	case "GetBucketLocation":
		c.cosGetBucketLocation(w, bucket)
		return
	case "ListBucketsExtended":
		c.cosListBucketsExtended(w, r)
		return
	case "CompleteMultipartUpload":
		c.cosCompleteMultipart(w, r, who, bucket, key)
		return
	case "ListMultipartUploads":
		// gofakes3 answers NoSuchUpload for a bucket that never had an
		// upload; S3 answers an empty list. Our backend does the latter.
	case "GetObject", "HeadObject":
		if !c.cosCheckIfMatch(w, r, bucket, key) {
			return
		}
	}
	if pv, ok := r.Body.(*payloadVerifier); ok {
		// gofakes3 would answer a body that fails its signed hash with a 500.
		w = &mismatchWriter{ResponseWriter: w, pv: pv}
	}
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	c.cos.s3.ServeHTTP(rec, r)
	if rec.status >= 300 {
		return
	}
	switch op {
	case "DeleteBucket":
		c.mu.Lock()
		delete(c.cos.locations, bucket)
		c.mu.Unlock()
		c.cos.uploads.dropBucket(bucket)
		c.record(r, who, c.cosEvent("cloud-object-storage.bucket.delete", bucket, ""))
	case "PutObject", "CopyObject":
		c.record(r, who, c.cosEvent("cloud-object-storage.object.create", bucket, key))
	case "DeleteObject":
		c.record(r, who, c.cosEvent("cloud-object-storage.object.delete", bucket, key))
	}
}

// cosCreateBucket creates a bucket with its LocationConstraint. COS only
// accepts constraints of the endpoint's own region.
func (c *Cloud) cosCreateBucket(w http.ResponseWriter, r *http.Request, who Identity, bucket string) {
	var cfg struct {
		LocationConstraint string `xml:"LocationConstraint"`
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<16))
	if err != nil {
		writeS3Error(w, http.StatusBadRequest, "IncompleteBody", "The request body could not be read.")
		return
	}
	if len(bytes.TrimSpace(body)) > 0 {
		if err := xml.Unmarshal(body, &cfg); err != nil {
			writeS3Error(w, http.StatusBadRequest, "MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema.")
			return
		}
	}
	loc := cfg.LocationConstraint
	if loc == "" {
		loc = c.Region + "-standard"
	}
	region, ok := locationRegion(loc)
	if !ok || region != c.Region {
		writeS3Error(w, http.StatusBadRequest, "InvalidLocationConstraint",
			fmt.Sprintf("The specified location-constraint %q is not valid for this endpoint (region %s): use %s-<storage class>.", loc, c.Region, c.Region))
		return
	}
	if err := c.createBucket(bucket, loc); err != nil {
		writeGoFakeS3Error(w, err)
		return
	}
	c.record(r, who, c.cosEvent("cloud-object-storage.bucket.create", bucket, ""))
	w.Header().Set("Location", "/"+bucket)
	w.WriteHeader(http.StatusOK)
}

// createBucket validates the name and creates the bucket in the backend.
func (c *Cloud) createBucket(bucket, location string) error {
	if err := gofakes3.ValidateBucketName(bucket); err != nil {
		return err
	}
	if exists, _ := c.cos.backend.BucketExists(bucket); exists {
		return gofakes3.ResourceError(gofakes3.ErrBucketAlreadyExists, bucket)
	}
	if err := c.cos.backend.CreateBucket(bucket); err != nil {
		return err
	}
	c.mu.Lock()
	c.cos.locations[bucket] = location
	c.mu.Unlock()
	return nil
}

func (c *Cloud) cosGetBucketLocation(w http.ResponseWriter, bucket string) {
	c.mu.Lock()
	loc, ok := c.cos.locations[bucket]
	c.mu.Unlock()
	if !ok {
		writeS3Error(w, http.StatusNotFound, "NoSuchBucket", "The specified bucket does not exist.")
		return
	}
	w.Header().Set("Content-Type", "application/xml")
	_, _ = io.WriteString(w, xml.Header)
	_ = xml.NewEncoder(w).Encode(struct {
		XMLName xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ LocationConstraint"`
		Value   string   `xml:",chardata"`
	}{Value: loc})
}

// cosListBucketsExtended answers IBM's GET /?extended: the buckets with
// their LocationConstraint (one page; prefix honoured).
func (c *Cloud) cosListBucketsExtended(w http.ResponseWriter, r *http.Request) {
	type bucketExt struct {
		Name               string `xml:"Name"`
		CreationDate       string `xml:"CreationDate"`
		LocationConstraint string `xml:"LocationConstraint"`
	}
	prefix := r.URL.Query().Get("prefix")
	infos, err := c.cos.backend.ListBuckets()
	if err != nil {
		writeGoFakeS3Error(w, err)
		return
	}
	var out []bucketExt
	c.mu.Lock()
	for _, b := range infos {
		if strings.HasPrefix(b.Name, prefix) {
			out = append(out, bucketExt{Name: b.Name, LocationConstraint: c.cos.locations[b.Name],
				CreationDate: b.CreationDate.UTC().Format("2006-01-02T15:04:05.000Z")})
		}
	}
	c.mu.Unlock()
	slices.SortFunc(out, func(a, b bucketExt) int { return strings.Compare(a.Name, b.Name) })
	w.Header().Set("Content-Type", "application/xml")
	_, _ = io.WriteString(w, xml.Header)
	_ = xml.NewEncoder(w).Encode(struct {
		XMLName     xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ ListAllMyBucketsResult"`
		Owner       struct{ ID, DisplayName string }
		IsTruncated bool        `xml:"IsTruncated"`
		MaxKeys     int         `xml:"MaxKeys"`
		Prefix      string      `xml:"Prefix"`
		Marker      string      `xml:"Marker"`
		Buckets     []bucketExt `xml:"Buckets>Bucket"`
	}{Owner: struct{ ID, DisplayName string }{c.AccountID, c.AccountID}, MaxKeys: 1000, Prefix: prefix, Buckets: out})
}

// cosCheckIfMatch answers 412 when an If-Match precondition fails, which
// gofakes3 does not check; ranged readers rely on it to notice a replaced object.
func (c *Cloud) cosCheckIfMatch(w http.ResponseWriter, r *http.Request, bucket, key string) bool {
	want := r.Header.Get("If-Match")
	if want == "" || want == "*" {
		return true
	}
	obj, err := c.cos.backend.HeadObject(bucket, key)
	if err != nil {
		return true // gofakes3 answers NoSuchKey / NoSuchBucket
	}
	defer obj.Contents.Close()
	if strings.Trim(want, `"`) != strings.Trim(gofakes3.FormatETag(obj.Hash), `"`) {
		writeS3Error(w, http.StatusPreconditionFailed, "PreconditionFailed", "At least one of the preconditions you specified did not hold.")
		return false
	}
	return true
}

func (c *Cloud) cosCompleteMultipart(w http.ResponseWriter, r *http.Request, who Identity, bucket, key string) {
	if exists, _ := c.cos.backend.BucketExists(bucket); !exists {
		writeS3Error(w, http.StatusNotFound, "NoSuchBucket", "The specified bucket does not exist.")
		return
	}
	var in gofakes3.CompleteMultipartUploadRequest
	body, err := io.ReadAll(io.LimitReader(r.Body, 4<<20))
	if err == nil {
		err = xml.Unmarshal(body, &in)
	}
	if err != nil {
		writeS3Error(w, http.StatusBadRequest, "MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema.")
		return
	}
	etag, err := c.cos.uploads.complete(bucket, key, gofakes3.UploadID(r.URL.Query().Get("uploadId")), &in)
	if err != nil {
		writeGoFakeS3Error(w, err)
		return
	}
	c.record(r, who, c.cosEvent("cloud-object-storage.object.create", bucket, key))
	w.Header().Set("Content-Type", "application/xml")
	_, _ = io.WriteString(w, xml.Header)
	_ = xml.NewEncoder(w).Encode(&gofakes3.CompleteMultipartUploadResult{
		Location: "http://" + r.Host + "/" + bucket + "/" + (&url.URL{Path: key}).EscapedPath(),
		Bucket:   bucket,
		Key:      key,
		ETag:     etag,
	})
}

// cosEvent builds the audit event of a bucket or object action.
func (c *Cloud) cosEvent(action, bucket, key string) Event {
	crn := strings.TrimSuffix(c.COSInstanceID, "::") + ":bucket:" + bucket
	ev := Event{Action: action, Service: ServiceCOS,
		Target: EventTarget{ID: crn, Name: bucket, TypeURI: "cloud-object-storage/bucket"}}
	ev.Message = "Cloud Object Storage: " + strings.TrimPrefix(action, "cloud-object-storage.") + " " + bucket
	if key != "" {
		ev.Target = EventTarget{ID: crn + ":object:" + key, Name: key, TypeURI: "cloud-object-storage/object"}
		ev.Message += "/" + key
	}
	return ev
}

// locationRegion splits a LocationConstraint like "us-south-standard" into
// its region, reporting whether the storage class is one COS knows.
func locationRegion(loc string) (string, bool) {
	for _, class := range cosStorageClasses {
		if region, ok := strings.CutSuffix(loc, "-"+class); ok && region != "" {
			return region, true
		}
	}
	return "", false
}

// s3Error is S3's XML error envelope.
type s3Error struct {
	XMLName   xml.Name `xml:"Error"`
	Code      string   `xml:"Code"`
	Message   string   `xml:"Message"`
	Resource  string   `xml:"Resource,omitempty"`
	RequestID string   `xml:"RequestId"`
	HTTPCode  int      `xml:"httpStatusCode"`
}

// writeS3Error answers in S3's XML error envelope (as COS does, with the
// status repeated in httpStatusCode).
func writeS3Error(w http.ResponseWriter, status int, code, msg string) {
	if code == "" {
		code = s3CodeForStatus(status)
	}
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, xml.Header)
	_ = xml.NewEncoder(w).Encode(s3Error{Code: code, Message: msg, RequestID: newUUID(), HTTPCode: status})
}

func s3CodeForStatus(status int) string {
	switch status {
	case http.StatusTooManyRequests:
		return "SlowDown"
	case http.StatusServiceUnavailable:
		return "ServiceUnavailable"
	case http.StatusForbidden:
		return "AccessDenied"
	case http.StatusNotFound:
		return "NoSuchKey"
	case http.StatusBadRequest:
		return "InvalidRequest"
	}
	return "InternalError"
}

// writeGoFakeS3Error answers a gofakes3 (or cosUploads) error with its code.
func writeGoFakeS3Error(w http.ResponseWriter, err error) {
	var ge gofakes3.Error
	if !errors.As(err, &ge) {
		writeS3Error(w, http.StatusInternalServerError, "InternalError", "We encountered an internal error. Please try again.")
		return
	}
	code := ge.ErrorCode()
	status := code.Status()
	if s, ok := extraS3Status[code]; ok {
		status = s
	}
	msg := code.Message()
	var er *gofakes3.ErrorResponse
	if errors.As(err, &er) && er.Message != "" {
		msg = er.Message
	}
	writeS3Error(w, status, string(code), msg)
}

// extraS3Status holds the statuses of S3 codes gofakes3 does not know.
var extraS3Status = map[gofakes3.ErrorCode]int{
	errEntityTooSmall: http.StatusBadRequest,
	errEntityTooLarge: http.StatusBadRequest,
}

// statusRecorder remembers the status a handler answered.
type statusRecorder struct {
	http.ResponseWriter
	status      int
	wroteHeader bool
}

func (s *statusRecorder) WriteHeader(code int) {
	if !s.wroteHeader {
		s.status, s.wroteHeader = code, true
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(p []byte) (int, error) {
	s.wroteHeader = true
	return s.ResponseWriter.Write(p)
}

func (s *statusRecorder) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// mismatchWriter answers S3's XAmzContentSHA256Mismatch when the body did
// not match its signed SHA-256, whatever the handler tried to answer.
type mismatchWriter struct {
	http.ResponseWriter
	pv       *payloadVerifier
	replaced bool
}

func (m *mismatchWriter) WriteHeader(code int) {
	if m.pv.err != nil && !m.replaced {
		m.replaced = true
		writeS3Error(m.ResponseWriter, http.StatusBadRequest, "XAmzContentSHA256Mismatch",
			"The provided 'x-amz-content-sha256' header does not match what was computed.")
		return
	}
	if !m.replaced {
		m.ResponseWriter.WriteHeader(code)
	}
}

func (m *mismatchWriter) Write(p []byte) (int, error) {
	if m.pv.err != nil && !m.replaced {
		m.WriteHeader(http.StatusBadRequest)
	}
	if m.replaced {
		return len(p), nil
	}
	return m.ResponseWriter.Write(p)
}

// cosObject opens an object for the SoftLayer import: it returns its bytes
// as an io.ReaderAt, its size and the bucket's region, or an error when the
// bucket or object does not exist.
func (c *Cloud) cosObject(bucket, key string) (r io.ReaderAt, size int64, region string, err error) {
	c.mu.Lock()
	loc, ok := c.cos.locations[bucket]
	c.mu.Unlock()
	if !ok {
		return nil, 0, "", fmt.Errorf("e2etest: cos: bucket %q does not exist", bucket)
	}
	obj, err := c.cos.backend.HeadObject(bucket, key)
	if err != nil {
		return nil, 0, "", fmt.Errorf("e2etest: cos: object %q not found in bucket %q", key, bucket)
	}
	_ = obj.Contents.Close()
	region, _ = locationRegion(loc)
	return &objectReaderAt{backend: c.cos.backend, bucket: bucket, key: key, size: obj.Size, hash: obj.Hash}, obj.Size, region, nil
}

// objectReaderAt reads an object of the memory backend with ranged gets,
// so no copy of the object is made; it fails if the object is replaced.
type objectReaderAt struct {
	backend     gofakes3.Backend
	bucket, key string
	size        int64
	hash        []byte
}

func (o *objectReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errors.New("e2etest: cos: negative offset")
	}
	if off >= o.size {
		return 0, io.EOF
	}
	want := min(int64(len(p)), o.size-off)
	if want == 0 {
		return 0, nil
	}
	obj, err := o.backend.GetObject(o.bucket, o.key, &gofakes3.ObjectRangeRequest{Start: off, End: off + want - 1})
	if err != nil {
		return 0, fmt.Errorf("e2etest: cos: read %s/%s: %w", o.bucket, o.key, err)
	}
	defer obj.Contents.Close()
	if !bytes.Equal(obj.Hash, o.hash) {
		return 0, fmt.Errorf("e2etest: cos: object %s/%s changed while being read", o.bucket, o.key)
	}
	n, err := io.ReadFull(obj.Contents, p[:want])
	if err != nil {
		return n, fmt.Errorf("e2etest: cos: read %s/%s: %w", o.bucket, o.key, err)
	}
	if int64(n) < int64(len(p)) {
		return n, io.EOF
	}
	return n, nil
}
