package main

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestRenderProgress(t *testing.T) {
	for _, tc := range []struct {
		done, total int64
		elapsed     time.Duration
		want        string
	}{
		{0, 1 << 30, 0, "x [                              ]   0.0% 0 B / 1.0 GiB  0 B/s  ETA --:--"},
		{512 << 20, 1 << 30, 2 * time.Second, "x [==============>               ]  50.0% 512.0 MiB / 1.0 GiB  256.0 MiB/s  ETA 0:02"},
		{1 << 30, 1 << 30, 4 * time.Second, "x [==============================] 100.0% 1.0 GiB / 1.0 GiB  256.0 MiB/s  ETA 0:00"},
		{0, 0, time.Second, "x [==============================] 100.0% 0 B / 0 B  0 B/s  ETA --:--"},
		{3 << 20, -1, 2 * time.Second, "x 3.0 MiB  1.5 MiB/s"},
		{100, 1 << 40, time.Second, "x [                              ]   0.0% 100 B / 1.0 TiB  100 B/s  ETA --:--"},
	} {
		if got := renderProgress("x", tc.done, tc.total, tc.elapsed); got != tc.want {
			t.Errorf("renderProgress(%d, %d, %s) =\n%q, want\n%q", tc.done, tc.total, tc.elapsed, got, tc.want)
		}
	}
}

func TestClock(t *testing.T) {
	for d, want := range map[time.Duration]string{0: "0:00", 59 * time.Second: "0:59", 61 * time.Second: "1:01", 3723 * time.Second: "1:02:03"} {
		if got := clock(d); got != want {
			t.Errorf("clock(%s) = %q, want %q", d, got, want)
		}
	}
}

func TestProgressRedraws(t *testing.T) {
	var b syncBuffer
	p := startProgress(&b, "enc", 1000)
	p.add(400)
	// Wait for a redraw (a tick is due within progressEvery; allow for a
	// loaded machine) rather than sleep a fixed time.
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(b.String(), " 40.0%"); {
		if time.Now().After(deadline) {
			t.Fatalf("no redraw within 10s: %q", b.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	p.add(600)
	p.finish()
	out := b.String()
	if !strings.Contains(out, " 40.0%") || !strings.HasSuffix(strings.TrimRight(out, " \n"), "ETA 0:00") {
		t.Errorf("progress output %q lacks the intermediate and final states", out)
	}
	if strings.Count(out, "\n") != 1 || strings.Count(out, "\r") < 2 {
		t.Errorf("progress should redraw one line: %q", out)
	}
}

// syncBuffer is a bytes.Buffer safe for the progress goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
