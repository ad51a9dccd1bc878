package audit_test

import (
	"context"
	"testing"
	"time"

	"github.com/e2eimage/e2e/audit"
)

// BenchmarkEvents streams 5000 events from the emulated Cloud Logs through
// the official client: the cost of decoding, bridging and de-duplication.
func BenchmarkEvents(b *testing.B) {
	const n = 5000
	cloud := startCloud(b)
	base := time.Now().Add(-2 * time.Hour).Truncate(time.Second)
	record(cloud, base, n)
	c := newClient(b, cloud)
	q := audit.Query{Start: base, End: base.Add(2 * time.Hour)}
	b.ResetTimer()
	for b.Loop() {
		got := 0
		for _, err := range c.Events(context.Background(), q) {
			if err != nil {
				b.Fatal(err)
			}
			got++
		}
		if got != n {
			b.Fatalf("%d events, want %d", got, n)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "events/s")
}
