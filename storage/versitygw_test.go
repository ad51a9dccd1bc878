package storage_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"errors"
	"fmt"
	"go/build"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/e2eimage/e2e/internal/testtool"
	"github.com/e2eimage/e2e/storage"
)

// versityGW is a real S3 server (github.com/versity/versitygw) on loopback.
type versityGW struct {
	Endpoint, AccessKey, SecretKey string
}

const versityRegion = "us-south"

// versityPath finds versitygw on PATH or in GOPATH/bin, where
// `go install` puts it; otherwise the test skips (fails under CI).
func versityPath(t testing.TB) string {
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p
	}
	p := filepath.Join(build.Default.GOPATH, "bin", "versitygw")
	if _, err := os.Stat(p); err == nil {
		return p
	}
	return testtool.Path(t, "versitygw")
}

// startVersityGW starts versitygw with a posix backend in a temporary
// directory on a free loopback port and stops it when the test ends.
func startVersityGW(t testing.TB) *versityGW {
	t.Helper()
	bin := versityPath(t)
	g := &versityGW{AccessKey: "e2e-root", SecretKey: "e2e-root-secret-" + strconv.Itoa(os.Getpid())}
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close() // versitygw binds it next; retried if someone else was faster
		var logs bytes.Buffer
		cmd := exec.Command(bin, "--port", addr, "--region", versityRegion, "--quiet", "--keep-alive", "posix", t.TempDir())
		cmd.Env = append(os.Environ(), "ROOT_ACCESS_KEY="+g.AccessKey, "ROOT_SECRET_KEY="+g.SecretKey)
		cmd.Stdout, cmd.Stderr = &logs, &logs
		if err := cmd.Start(); err != nil {
			t.Fatalf("start versitygw: %v", err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		g.Endpoint = "http://" + addr
		if lastErr = waitHTTP(g.Endpoint, exited); lastErr == nil {
			t.Cleanup(func() {
				_ = cmd.Process.Kill()
				<-exited
			})
			return g
		}
		_ = cmd.Process.Kill()
		<-exited
		lastErr = fmt.Errorf("%v; output:\n%s", lastErr, logs.String())
	}
	t.Fatalf("versitygw did not start: %v", lastErr)
	return nil
}

// waitHTTP waits until the server answers anything over HTTP.
func waitHTTP(url string, exited <-chan error) error {
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			return fmt.Errorf("exited: %v", err)
		default:
		}
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return errors.New("not ready after 15 s")
}

func (g *versityGW) client(t testing.TB, secret string) *storage.Client {
	return newClient(t, storage.Config{Endpoint: g.Endpoint, Region: versityRegion, PathStyle: true,
		AccessKeyID: g.AccessKey, SecretAccessKey: secret})
}

func TestVersityGW(t *testing.T) {
	gw := startVersityGW(t)
	cl := gw.client(t, gw.SecretKey)
	ctx := context.Background()
	const bucket = "e2e-images"

	if err := cl.EnsureBucket(ctx, bucket, storage.WithLocationConstraint(versityRegion)); err != nil {
		t.Fatalf("EnsureBucket: %v", err)
	}
	if err := cl.EnsureBucket(ctx, bucket); err != nil {
		t.Fatalf("EnsureBucket on an existing bucket: %v", err)
	}
	loc, err := cl.BucketLocation(ctx, bucket)
	t.Logf("versitygw bucket location: %q, %v", loc, err)

	// 64 MiB keeps the default run fast under -race; E2E_STORAGE_1GIB=1
	// streams the full gigabyte of the issue.
	size := int64(64 << 20)
	if os.Getenv("E2E_STORAGE_1GIB") != "" {
		size = 1 << 30
	}
	t.Run(fmt.Sprintf("stream %d MiB through a pipe", size>>20), func(t *testing.T) {
		pr, pw := io.Pipe()
		sha := sha256.New()
		md := md5.New()
		go func() {
			// Write a deterministic stream in odd-sized chunks, as an encoder would.
			buf := make([]byte, 1<<20+13)
			for i := range buf {
				buf[i] = byte(i*7 + i>>8)
			}
			var n int64
			for n < size {
				chunk := buf[:min(int64(len(buf)), size-n)]
				chunk[0] = byte(n >> 20) // vary between chunks
				sha.Write(chunk)
				md.Write(chunk)
				if _, err := pw.Write(chunk); err != nil {
					return
				}
				n += int64(len(chunk))
			}
			pw.Close()
		}()
		res, err := cl.Upload(ctx, bucket, "stream.img", pr, storage.WithPartSize(8<<20), storage.WithConcurrency(4), storage.WithMD5())
		if err != nil {
			t.Fatal(err)
		}
		if res.Size != size || !bytes.Equal(res.SHA256, sha.Sum(nil)) || !bytes.Equal(res.MD5, md.Sum(nil)) {
			t.Fatalf("result %+v does not match the stream", res)
		}
		info, err := cl.Head(ctx, bucket, "stream.img")
		if err != nil || info.Size != size || info.ETag != res.ETag {
			t.Fatalf("Head = %+v, %v; want size %d, ETag %s", info, err, size, res.ETag)
		}

		rc, err := cl.Download(ctx, bucket, "stream.img")
		if err != nil {
			t.Fatal(err)
		}
		down := sha256.New()
		n, err := io.Copy(down, rc)
		rc.Close()
		if err != nil || n != size || !bytes.Equal(down.Sum(nil), res.SHA256) {
			t.Fatalf("download: %d bytes, %v, digest match %v", n, err, bytes.Equal(down.Sum(nil), res.SHA256))
		}

		ra, err := cl.NewReaderAt(ctx, bucket, "stream.img")
		if err != nil {
			t.Fatal(err)
		}
		defer ra.Close()
		viaReaderAt := sha256.New()
		if _, err := io.Copy(viaReaderAt, io.NewSectionReader(ra, 0, ra.Size())); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(viaReaderAt.Sum(nil), res.SHA256) {
			t.Fatal("ReaderAt content differs")
		}
	})

	// What Upload's recovery from a lost CompleteMultipartUpload answer
	// checks: a real S3 server's ETag of a multipart object.
	t.Run("multipart ETag", func(t *testing.T) {
		data := randomBytes(t, 2*storage.MinPartSize+777)
		res, err := cl.Upload(ctx, bucket, "etag.img", bytes.NewReader(data), storage.WithPartSize(storage.MinPartSize))
		if err != nil {
			t.Fatal(err)
		}
		if want := `"` + multipartETagOf(data, storage.MinPartSize) + `"`; res.ETag != want {
			t.Fatalf("ETag %s, want %s", res.ETag, want)
		}
	})

	noUploads := func(t *testing.T) {
		t.Helper()
		ups, err := cl.PendingUploads(ctx, bucket, "")
		if err != nil {
			t.Fatal(err)
		}
		if len(ups) != 0 {
			t.Fatalf("ListMultipartUploads is not empty: %+v", ups)
		}
	}
	data := randomBytes(t, 24<<20)
	opts := []storage.UploadOption{storage.WithPartSize(storage.MinPartSize), storage.WithConcurrency(2)}

	t.Run("reader fails mid-way", func(t *testing.T) {
		boom := errors.New("reader killed")
		_, err := cl.Upload(ctx, bucket, "killed.img", failAfter(data, 17<<20, boom), opts...)
		var ue *storage.UploadError
		if !errors.Is(err, boom) || !errors.As(err, &ue) || ue.UploadID == "" || !ue.Aborted {
			t.Fatalf("got %v, want an aborted multipart UploadError", err)
		}
		noUploads(t)
		if _, err := cl.Head(ctx, bucket, "killed.img"); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("Head of the failed object: %v", err)
		}
	})
	t.Run("context cancelled mid-way", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		_, err := cl.Upload(cctx, bucket, "cancelled.img", &cancelAfter{r: bytes.NewReader(data), n: 12 << 20, cancel: cancel}, opts...)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("got %v, want context.Canceled", err)
		}
		noUploads(t)
	})
	t.Run("zero bytes", func(t *testing.T) {
		res, err := cl.Upload(ctx, bucket, "empty.img", bytes.NewReader(nil))
		if err != nil {
			t.Fatal(err)
		}
		checkResult(t, res, nil)
		if info, err := cl.Head(ctx, bucket, "empty.img"); err != nil || info.Size != 0 {
			t.Errorf("Head = %+v, %v", info, err)
		}
	})
	t.Run("missing bucket", func(t *testing.T) {
		_, err := cl.Upload(ctx, "no-such-bucket", "k", bytes.NewReader(data), opts...)
		if !errors.Is(err, storage.ErrNoSuchBucket) {
			t.Errorf("got %v, want ErrNoSuchBucket", err)
		}
	})
	t.Run("wrong secret", func(t *testing.T) {
		_, err := gw.client(t, "wrong-secret").Upload(ctx, bucket, "k", bytes.NewReader([]byte("x")))
		if !errors.Is(err, storage.ErrAccessDenied) {
			t.Errorf("got %v, want ErrAccessDenied", err)
		}
	})
	t.Run("wrong region", func(t *testing.T) {
		eu := newClient(t, storage.Config{Endpoint: gw.Endpoint, Region: "eu-de", PathStyle: true,
			AccessKeyID: gw.AccessKey, SecretAccessKey: gw.SecretKey})
		// S3 refuses a signature scoped to another region.
		err := eu.EnsureBucket(ctx, bucket)
		var re *storage.RequestError
		if !errors.As(err, &re) || re.StatusCode != http.StatusBadRequest {
			t.Errorf("got %v, want a 400 RequestError", err)
		}
	})
	noUploads(t)
}
