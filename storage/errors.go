package storage

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/IBM/ibm-cos-sdk-go/aws/awserr"
)

// Sentinel errors; test for them with errors.Is.
var (
	// ErrInvalidURI reports a malformed cos:// URI.
	ErrInvalidURI = errors.New("storage: invalid cos:// URI")
	// ErrInvalidBucketName reports a name that breaks COS's bucket naming
	// rules (ValidateBucketName).
	ErrInvalidBucketName = errors.New("storage: invalid bucket name")
	// ErrInvalidConfig reports a Config that cannot make a client.
	ErrInvalidConfig = errors.New("storage: invalid config")
	// ErrInvalidOption reports an option outside its documented range.
	ErrInvalidOption = errors.New("storage: invalid option")
	// ErrNoSuchBucket reports a bucket that does not exist.
	ErrNoSuchBucket = errors.New("storage: no such bucket")
	// ErrNotFound reports an object that does not exist.
	ErrNotFound = errors.New("storage: object not found")
	// ErrAccessDenied reports refused credentials: a wrong API key, HMAC
	// secret or an expired token, or missing permissions.
	ErrAccessDenied = errors.New("storage: access denied")
	// ErrObjectChanged reports an object replaced while it was being read.
	ErrObjectChanged = errors.New("storage: object changed while reading")
	// ErrTooManyParts reports a stream longer than 10,000 parts of the
	// chosen part size; raise PartSize or give SizeHint.
	ErrTooManyParts = errors.New("storage: object needs more than 10,000 parts")
	// ErrClosed reports a write to a closed ObjectWriter.
	ErrClosed = errors.New("storage: writer closed")
	// ErrSizeMismatch reports a download shorter or longer than the object.
	ErrSizeMismatch = errors.New("storage: object size mismatch")
)

// RequestError is a failed COS request. It matches ErrNoSuchBucket,
// ErrNotFound, ErrAccessDenied or ErrObjectChanged with errors.Is when its
// code says so.
type RequestError struct {
	Op         string // S3 operation, e.g. "UploadPart"
	Bucket     string
	Key        string // empty for bucket operations
	StatusCode int    // HTTP status; 0 when no answer arrived
	Code       string // S3 error code, e.g. "NoSuchBucket"
	Message    string
	RequestID  string
	Err        error // the SDK error
}

func (e *RequestError) Error() string {
	what := e.Bucket
	if e.Key != "" {
		what += "/" + e.Key
	}
	msg := fmt.Sprintf("storage: %s %s: %s", e.Op, what, e.Code)
	if e.StatusCode != 0 {
		msg += fmt.Sprintf(" (HTTP %d)", e.StatusCode)
	}
	if e.Message != "" {
		msg += ": " + e.Message
	}
	if e.RequestID != "" {
		msg += " [request " + e.RequestID + "]"
	}
	return msg
}

func (e *RequestError) Unwrap() error { return e.Err }

// Is maps S3 error codes onto the package's sentinels.
func (e *RequestError) Is(target error) bool {
	switch target {
	case ErrNoSuchBucket:
		return e.Code == "NoSuchBucket"
	case ErrNotFound:
		return e.Code == "NoSuchKey" || e.Code == "NotFound" && e.Key != ""
	case ErrAccessDenied:
		switch e.Code {
		case "AccessDenied", "SignatureDoesNotMatch", "InvalidAccessKeyId", "ExpiredToken",
			"InvalidToken", "CredentialsExpired", "credentials":
			return true
		}
		return e.StatusCode == http.StatusUnauthorized || e.StatusCode == http.StatusForbidden
	case ErrObjectChanged:
		return e.Code == "PreconditionFailed" || e.StatusCode == http.StatusPreconditionFailed
	}
	return false
}

// RegionMismatchError reports a bucket that lives in another region than
// the client's (and so than the Key Protect instance the client was set
// up for): IBM's image import requires both in one region.
type RegionMismatchError struct {
	Bucket string
	Want   string // the client's region, e.g. "us-south"
	Got    string // the bucket's LocationConstraint, e.g. "eu-de-standard"
}

func (e *RegionMismatchError) Error() string {
	return fmt.Sprintf("storage: bucket %q is in %q, not in region %q: use a bucket of %s (the region of the key) or a client for %s",
		e.Bucket, e.Got, e.Want, e.Want, e.Got)
}

// UploadError reports a failed upload and what was left behind: a
// multipart upload is aborted on every failure (unless WithKeepPartsOnError),
// and Aborted says whether that worked; if not, UploadID names what remains,
// for WithResume or AbortUpload.
type UploadError struct {
	URI      URI
	UploadID string // empty for a single PUT
	Parts    int    // parts that were stored before the failure
	Bytes    int64  // bytes read from the source
	Aborted  bool
	AbortErr error // why the abort failed
	Err      error // what went wrong
}

func (e *UploadError) Error() string {
	msg := fmt.Sprintf("storage: upload to %s failed after %d bytes (%d parts stored): %v", e.URI, e.Bytes, e.Parts, e.Err)
	switch {
	case e.UploadID == "":
	case e.Aborted:
		msg += "; multipart upload aborted, nothing left behind"
	case e.AbortErr == nil:
		msg += fmt.Sprintf("; multipart upload %s kept for WithResume", e.UploadID)
	default:
		msg += fmt.Sprintf("; abort of multipart upload %s failed, its parts remain: %v", e.UploadID, e.AbortErr)
	}
	return msg
}

func (e *UploadError) Unwrap() error { return e.Err }

// authError carries a credential failure through the SDK, which does not
// unwrap errors.
type authError struct{ err error }

func (e *authError) Error() string { return "storage: authentication failed: " + e.err.Error() }
func (e *authError) Unwrap() error { return e.err }
func (e *authError) Is(target error) bool {
	return target == ErrAccessDenied
}

// wrapErr turns an SDK error into a RequestError (or the context's error
// when the call was cancelled).
func wrapErr(ctxErr error, op, bucket, key string, err error) error {
	if err == nil {
		return nil
	}
	if ctxErr != nil {
		return fmt.Errorf("storage: %s %s/%s: %w", op, bucket, key, ctxErr)
	}
	// The SDK hides causes in OrigErr chains; find ours.
	for e := err; e != nil; {
		if ae, ok := e.(*authError); ok {
			return &RequestError{Op: op, Bucket: bucket, Key: key, Code: "credentials", Message: ae.Error(), Err: ae}
		}
		oe, ok := e.(awserr.Error)
		if !ok {
			break
		}
		e = oe.OrigErr()
	}
	re := &RequestError{Op: op, Bucket: bucket, Key: key, Err: err}
	var rf awserr.RequestFailure
	var ae awserr.Error
	switch {
	case errors.As(err, &rf):
		re.StatusCode, re.Code, re.Message, re.RequestID = rf.StatusCode(), rf.Code(), rf.Message(), rf.RequestID()
	case errors.As(err, &ae):
		re.Code, re.Message = ae.Code(), ae.Message()
		if oe := ae.OrigErr(); oe != nil {
			re.Message += ": " + oe.Error()
		}
	default:
		re.Code, re.Message = "Error", err.Error()
	}
	return re
}
