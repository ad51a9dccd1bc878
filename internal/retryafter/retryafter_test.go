package retryafter

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want time.Duration
	}{
		{"", 0},
		{"1", time.Second},
		{" 2 ", 2 * time.Second},
		{"0", 0},
		{"-5", 0},
		{"1.5", 0},
		{"soon", 0},
		{"3600", time.Hour},
		{"99999999999999999999", 0}, // overflows int64: malformed
		{"999999999999", 24 * time.Hour},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{now.Add(-time.Minute).Format(http.TimeFormat), 0},
		{now.Add(30 * 24 * time.Hour).Format(http.TimeFormat), 24 * time.Hour},
		{"Fri, 27 Nov 2026 12:00:30 GMT", 30 * time.Second},
		{"Friday, 27-Nov-26 12:00:45 GMT", 45 * time.Second}, // RFC 850, still allowed
	} {
		if got := Parse(tc.in, now); got != tc.want {
			t.Errorf("Parse(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func FuzzParse(f *testing.F) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	for _, s := range []string{"1", "120", "-1", "Fri, 27 Nov 2026 12:00:30 GMT", "Thu, 01 Jan 1970 00:00:00 GMT", "9223372036854775807", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if d := Parse(s, now); d < 0 || d > 24*time.Hour {
			t.Fatalf("Parse(%q) = %v, outside [0, 24h]", s, d)
		}
	})
}

func TestSleep(t *testing.T) {
	if err := Sleep(context.Background(), time.Millisecond); err != nil {
		t.Errorf("a plain wait: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	start := time.Now()
	if err := Sleep(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Errorf("a cancelled wait: %v, want context.Canceled", err)
	}
	if d := time.Since(start); d > time.Minute {
		t.Errorf("a cancelled wait took %v", d)
	}
}

// TestWait: the server's ask lengthens a short backoff, never beyond Max,
// and never shortens a longer backoff.
func TestWait(t *testing.T) {
	for _, tc := range []struct{ backoff, asked, want time.Duration }{
		{time.Second, 0, time.Second},
		{time.Second, 7 * time.Second, 7 * time.Second},
		{time.Second, 2 * time.Hour, Max},
		{10 * time.Second, time.Second, 10 * time.Second},
		{2 * Max, time.Hour, 2 * Max},
	} {
		if got := Wait(tc.backoff, tc.asked); got != tc.want {
			t.Errorf("Wait(%v, %v) = %v, want %v", tc.backoff, tc.asked, got, tc.want)
		}
	}
}
