package keys

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
)

// maxAnswer bounds a Key Protect answer held in memory (a page of 200
// keys is a few hundred KiB).
const maxAnswer = 32 << 20

// bufferedTransport reads each answer whole before handing it on, so that
// an answer cut mid-body is a transport error the kp client's retry layer
// sees and retries (or internal/once reports for a create), rather than a
// read error kp returns as is, after its retries. The buffer is zeroed when
// the body is closed: answers carry unwrapped DEKs.
type bufferedTransport struct{ next http.RoundTripper }

func (t bufferedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer+1))
	_ = resp.Body.Close()
	switch {
	case err != nil:
		clear(body)
		return nil, fmt.Errorf("reading the HTTP %d answer: %w", resp.StatusCode, err)
	case len(body) > maxAnswer:
		clear(body)
		return nil, fmt.Errorf("the HTTP %d answer is larger than %d bytes", resp.StatusCode, maxAnswer)
	}
	resp.Body = &zeroingBody{Reader: bytes.NewReader(body), b: body}
	resp.ContentLength = int64(len(body))
	return resp, nil
}

type zeroingBody struct {
	*bytes.Reader
	b []byte
}

func (z *zeroingBody) Close() error {
	clear(z.b)
	return nil
}
