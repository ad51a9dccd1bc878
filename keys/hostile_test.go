package keys_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/IBM/go-sdk-core/v5/core"

	"github.com/e2eimage/e2e/keys"
)

// A key list that ignores the offset and always answers a full page must
// end in an error, not loop (and grow memory) forever.
func TestListRootKeysIgnoredOffset(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"metadata":{"collectionType":"application/vnd.ibm.kms.key+json","collectionTotal":200},"resources":[`)
	for i := range 200 {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"id":"key-%d","name":"k","state":1,"extractable":false}`, i)
	}
	b.WriteString(`]}`)
	page := b.String()
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(page))
	}))
	defer srv.Close()
	cl, err := keys.NewClient(keys.Config{Endpoint: srv.URL, InstanceID: "inst",
		Authenticator: &core.BearerTokenAuthenticator{BearerToken: "t"}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err = cl.ListRootKeys(ctx)
	if err == nil || !strings.Contains(err.Error(), "twice") || ctx.Err() != nil {
		t.Fatalf("ListRootKeys over a list that ignores the offset: %v (after %d calls)", err, calls.Load())
	}
	if n := calls.Load(); n != 2 {
		t.Fatalf("%d list calls, want 2", n)
	}
}

// A network failure keeps its type through the kp client's URLError, so
// callers can tell it with errors.As.
func TestNetworkErrorKeepsType(t *testing.T) {
	// A server that hangs up on every connection (a closed port could be
	// reused by another test meanwhile).
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			_ = conn.Close()
		}
	}()
	cl, err := keys.NewClient(keys.Config{Endpoint: "http://" + ln.Addr().String(), InstanceID: "inst",
		Authenticator: &core.BearerTokenAuthenticator{BearerToken: "t"}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = cl.GetKey(context.Background(), "k")
	var uerr *url.Error
	if !errors.As(err, &uerr) {
		t.Fatalf("GetKey against a server that hangs up: %v (%T), want a *url.Error inside", err, err)
	}
}
