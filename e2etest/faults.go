package e2etest

import (
	"net/http"
	"strconv"
	"time"
)

// Fault describes a failure to inject into the calls of one service
// operation. A zero Status with no Drop only adds Latency.
type Fault struct {
	// Status is the HTTP status to answer instead of handling the call
	// (e.g. 500, 503, 429), in the service's own error envelope.
	Status int
	// Code is the service's error code in the envelope: a SoftLayer exception
	// name (e.g. "SoftLayer_Exception_WebService_RateLimitExceeded"), an IAM
	// or Key Protect reason code. Optional.
	Code string
	// Message is the error message in the envelope. Optional.
	Message string
	// Times is how many matching calls fail; the default is 1.
	Times int
	// Latency delays each matching call before it is handled or failed.
	Latency time.Duration
	// Drop closes the connection instead of answering. With DropAfter > 0 the
	// call is handled and the connection is cut after DropAfter bytes of the
	// response body, as a network failure mid-body would.
	Drop      bool
	DropAfter int
	// AfterHandling, with Status, handles the call first and then answers
	// the error instead of its result, as a gateway that timed out after
	// the service did the work: the call took effect, the client cannot
	// tell. It shows which clients resend calls that must run once.
	AfterHandling bool
}

type faultRule struct {
	service Service
	op      string
	fault   Fault
	left    int
}

// InjectFault makes the next Fault.Times calls of operation on service fail
// as f says. An empty operation matches every operation of the service.
// Operation names: IAM "token", "policies", "identity"; KMS the action or
// "createKey", "getKey", "listKeys", "deleteKey" (actions: "wrap", "unwrap",
// "rewrap", "rotate", "disable", "enable"); COS the S3 operation
// ("PutObject", "CreateMultipartUpload", "UploadPart",
// "CompleteMultipartUpload", "GetObject", …); SoftLayer "Service::method"
// (e.g. "SoftLayer_Product_Order::placeOrder"); Logs "query"; VPC the
// vpcv1 operation ("CreateImage", "GetImage", "ListImages", "DeleteImage",
// "CreateInstance", "ListInstances", "GetInstance", "DeleteInstance").
// Rules are consulted in the order they were added.
func (c *Cloud) InjectFault(service Service, operation string, f Fault) {
	if f.Times <= 0 {
		f.Times = 1
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.faults = append(c.faults, &faultRule{service: service, op: operation, fault: f, left: f.Times})
}

// ClearFaults removes every pending fault.
func (c *Cloud) ClearFaults() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.faults = nil
}

func (c *Cloud) takeFault(svc Service, op string) (Fault, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, r := range c.faults {
		if r.service != svc || (r.op != "" && r.op != op) {
			continue
		}
		r.left--
		if r.left <= 0 {
			c.faults = append(c.faults[:i], c.faults[i+1:]...)
		}
		return r.fault, true
	}
	return Fault{}, false
}

// errorWriter writes an error in a service's own envelope.
type errorWriter func(w http.ResponseWriter, status int, code, msg string)

// applyFault applies a pending fault for (svc, op). It returns the writer
// the handler must use (it may cut the body short) and whether the call was
// already answered, in which case the handler must return at once.
func (c *Cloud) applyFault(svc Service, op string, w http.ResponseWriter, r *http.Request, writeErr errorWriter) (http.ResponseWriter, bool) {
	f, ok := c.takeFault(svc, op)
	if !ok {
		return w, false
	}
	if f.Latency > 0 {
		t := time.NewTimer(f.Latency)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return w, true
		case <-c.done:
			t.Stop()
			return w, true
		}
	}
	switch {
	case f.Drop && f.DropAfter > 0:
		return &cuttingWriter{ResponseWriter: w, left: f.DropAfter}, false
	case f.Drop:
		hijackAndClose(w)
		return w, true
	case f.Status != 0 && f.AfterHandling:
		return &lostAnswerWriter{w: w, f: f, writeErr: writeErr, h: http.Header{}}, false
	case f.Status != 0:
		if f.Status == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", "1")
		}
		msg := f.Message
		if msg == "" {
			msg = "injected fault: " + strconv.Itoa(f.Status) + " " + http.StatusText(f.Status)
		}
		writeErr(w, f.Status, f.Code, msg)
		return w, true
	}
	return w, false
}

func hijackAndClose(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			_ = conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler) // net/http closes the connection without an answer
}

// cuttingWriter passes through the first left bytes of a response body, then
// cuts the connection.
type cuttingWriter struct {
	http.ResponseWriter
	left int
	cut  bool
}

func (cw *cuttingWriter) Write(p []byte) (int, error) {
	if cw.cut {
		return 0, http.ErrAbortHandler
	}
	if len(p) <= cw.left {
		cw.left -= len(p)
		return cw.ResponseWriter.Write(p)
	}
	_, _ = cw.ResponseWriter.Write(p[:cw.left])
	if f, ok := cw.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
	cw.cut = true
	// Abort the handler: net/http drops the connection mid-body.
	panic(http.ErrAbortHandler)
}

func (cw *cuttingWriter) Flush() {
	if f, ok := cw.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// lostAnswerWriter lets a handler run and replaces its answer with the
// fault's error.
type lostAnswerWriter struct {
	w        http.ResponseWriter
	f        Fault
	writeErr errorWriter
	h        http.Header // the handler's headers, dropped with its answer
	answered bool
}

func (lw *lostAnswerWriter) Header() http.Header { return lw.h }

func (lw *lostAnswerWriter) WriteHeader(int) { lw.answer() }

func (lw *lostAnswerWriter) Write(p []byte) (int, error) {
	lw.answer()
	return len(p), nil
}

func (lw *lostAnswerWriter) answer() {
	if lw.answered {
		return
	}
	lw.answered = true
	msg := lw.f.Message
	if msg == "" {
		msg = "injected fault after handling: " + strconv.Itoa(lw.f.Status) + " " + http.StatusText(lw.f.Status)
	}
	lw.writeErr(lw.w, lw.f.Status, lw.f.Code, msg)
}
