package record_test

import (
	"testing"
	"time"

	"github.com/taskready/taskready/loadtest/record"
)

// TestSeriesStaysBounded: a run longer than MaxSeries intervals halves the
// series' resolution instead of growing it, loses no request, and keeps
// the run-wide numbers exact; a coarsened recorder still merges with one
// that was not.
func TestSeriesStaysBounded(t *testing.T) {
	t.Parallel()
	const interval = time.Millisecond
	span := 3 * record.MaxSeries * interval // needs two halvings: 1ms → 4ms
	samples := gen(7, 30000, span)
	long := record1(base, samples, record.Interval(interval))
	snap := long.Snapshot()
	if n := len(snap.Intervals); n > record.MaxSeries || n < record.MaxSeries/2 {
		t.Fatalf("%d intervals after %s of 1ms intervals; want at most %d and no fewer than half", n, span, record.MaxSeries)
	}
	if snap.Interval != 4*interval {
		t.Errorf("interval %s; want 4ms after two halvings", snap.Interval)
	}
	var requests, failures int64
	for i, p := range snap.Intervals {
		requests += p.Requests
		failures += p.Failures
		if p.Offset != time.Duration(i)*snap.Interval {
			t.Fatalf("point %d at %s; want %s", i, p.Offset, time.Duration(i)*snap.Interval)
		}
	}
	if requests != snap.Total.Count || failures != snap.Total.Failures {
		t.Errorf("series holds %d requests, %d failures; the run %d, %d", requests, failures, snap.Total.Count, snap.Total.Failures)
	}
	// The run-wide histograms do not depend on the series' resolution.
	fine := record1(base, samples, record.Interval(time.Second))
	if got, want := snap.Total, fine.Snapshot().Total; got.Latency.P99 != want.Latency.P99 || got.Latency.Mean != want.Latency.Mean || got.Latency.Max != want.Latency.Max || got.Count != want.Count {
		t.Errorf("run-wide stats changed with the resolution: %+v vs %+v", got.Latency, want.Latency)
	}

	// A short worker (1ms intervals) merges into the long one (4ms), and
	// the other way round.
	short := record1(base, samples[:1000], record.Interval(interval))
	for _, tc := range []struct {
		name     string
		into, of *record.Recorder
	}{
		{"short into long", record1(base, samples, record.Interval(interval)), short},
		{"long into short", record1(base, samples[:1000], record.Interval(interval)), long},
	} {
		if err := tc.into.Merge(tc.of); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		m := tc.into.Snapshot()
		if m.Interval != 4*interval || m.Total.Count != int64(len(samples)+1000) {
			t.Errorf("%s: interval %s, %d requests; want 4ms and %d", tc.name, m.Interval, m.Total.Count, len(samples)+1000)
		}
		var n int64
		for _, p := range m.Intervals {
			n += p.Requests
		}
		if n != m.Total.Count {
			t.Errorf("%s: series holds %d of %d requests", tc.name, n, m.Total.Count)
		}
	}
	// Different precision still refuses.
	if err := record1(base, samples[:10], record.Interval(interval), record.SignificantFigures(2)).Merge(long); err == nil {
		t.Error("merged recorders of different precision")
	}
}
