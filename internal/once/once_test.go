package once

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestTransport(t *testing.T) {
	var status int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if status == 0 {
			conn, _, _ := w.(http.Hijacker).Hijack()
			_ = conn.Close()
			return
		}
		w.Header().Set("X-Answer", "yes")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, `{"error":"boom"}`)
	}))
	defer srv.Close()
	client := &http.Client{Transport: Transport(nil)}
	do := func(ctx context.Context) (*http.Response, error) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL, nil)
		req.Header.Set("Correlation-Id", "c-1")
		return client.Do(req)
	}

	// Unmarked calls and unambiguous answers pass through untouched.
	for _, st := range []int{200, 404, 429, 501, 503} {
		status = st
		ctx, g, stop := Start(context.Background())
		if st == 503 {
			ctx = context.Background() // unmarked
		}
		resp, err := do(ctx)
		if err != nil || resp.StatusCode != st {
			t.Fatalf("status %d: %v, %v", st, resp, err)
		}
		resp.Body.Close()
		if _, ok := g.Ambiguous(); ok {
			t.Fatalf("status %d reported ambiguous", st)
		}
		stop()
	}

	// A 5xx on a marked call: recorded, the context cancelled, no answer handed on.
	status = http.StatusBadGateway
	ctx, g, stop := Start(context.Background())
	defer stop()
	resp, err := do(ctx)
	if resp != nil || !errors.Is(err, ErrNotResent) {
		t.Fatalf("502: %v, %v; want ErrNotResent and no response", resp, err)
	}
	o, ok := g.Ambiguous()
	if !ok || o.Status != 502 || string(o.Body) != `{"error":"boom"}` || o.Header.Get("X-Answer") != "yes" || o.Header.Get("Correlation-Id") != "c-1" {
		t.Fatalf("outcome %+v, %v", o, ok)
	}
	if ctx.Err() == nil {
		t.Fatal("the call's context was not cancelled, so a retry layer would resend")
	}

	// A transport error on a marked call: the server hangs up.
	status = 0
	ctx, g, stop2 := Start(context.Background())
	defer stop2()
	if _, err := do(ctx); err == nil {
		t.Fatal("no error from a server that hangs up")
	}
	if o, ok := g.Ambiguous(); !ok || o.Err == nil || ctx.Err() == nil {
		t.Fatalf("transport error outcome %+v, %v; ctx %v", o, ok, ctx.Err())
	}
}
