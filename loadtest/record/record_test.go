package record_test

import (
	"sync"
	"testing"
	"time"

	"github.com/taskready/taskready/loadtest/record"
)

func TestCorrectedLatency(t *testing.T) {
	t.Parallel()
	ms := time.Millisecond
	tests := []struct {
		name              string
		intended, started time.Duration // from base; intended < 0 means zero time
		latency, want     time.Duration
	}{
		{"on time", 0, 0, 5 * ms, 5 * ms},
		{"late start", 0, 30 * ms, 5 * ms, 35 * ms},
		{"early start", 10 * ms, 0, 5 * ms, 5 * ms},
		{"no schedule", -1, 0, 5 * ms, 5 * ms},
	}
	for _, tt := range tests {
		s := record.Sample{Start: base.Add(tt.started), Latency: tt.latency}
		if tt.intended >= 0 {
			s.Intended = base.Add(tt.intended)
		}
		if got := s.CorrectedLatency(); got != tt.want {
			t.Errorf("%s: CorrectedLatency() = %s; want %s", tt.name, got, tt.want)
		}
	}
}

func TestDefaultFailed(t *testing.T) {
	t.Parallel()
	tests := []struct {
		status int
		err    string
		want   bool
	}{
		{200, "", false}, {302, "", false}, {399, "", false},
		{400, "", true}, {404, "", true}, {503, "", true},
		{0, "", true}, {0, "timeout", true}, {200, "body: unexpected EOF", true},
	}
	for _, tt := range tests {
		if got := record.DefaultFailed(record.Sample{Status: tt.status, Err: tt.err}); got != tt.want {
			t.Errorf("DefaultFailed(status %d, err %q) = %t; want %t", tt.status, tt.err, got, tt.want)
		}
	}
}

func TestAddDoesNotAllocate(t *testing.T) {
	r := record.MustNew(base)
	samples := gen(4, 4096, time.Second)
	for _, s := range samples { // warm up: keys, interval, buckets
		r.Add(s)
	}
	i := 0
	if allocs := testing.AllocsPerRun(10000, func() {
		r.Add(samples[i%len(samples)])
		i++
	}); allocs != 0 {
		t.Errorf("Add allocates %v times per call in the steady state; want 0", allocs)
	}
}

func TestFailedOption(t *testing.T) {
	t.Parallel()
	only5xx := record.Failed(func(s record.Sample) bool { return s.Err != "" || s.Status == 0 || s.Status >= 500 })
	for _, tt := range []struct {
		opts []record.Option
		want int64
	}{
		{nil, 3},
		{[]record.Option{only5xx}, 2},
		{[]record.Option{only5xx, record.Failed(nil)}, 3},
	} {
		r := record.MustNew(base, tt.opts...)
		for _, status := range []int{200, 404, 500, 0, 201} {
			r.Add(record.Sample{Status: status, Start: base, Latency: time.Millisecond})
		}
		if got := r.Snapshot().Total.Failures; got != tt.want {
			t.Errorf("Failures = %d; want %d", got, tt.want)
		}
	}
}

func TestOptionsValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		opts    []record.Option
		wantErr bool
	}{
		{nil, false},
		{[]record.Option{record.Interval(100 * time.Millisecond), record.HighestTrackable(10 * time.Second),
			record.SignificantFigures(5), record.IntervalSignificantFigures(1)}, false},
		{[]record.Option{record.Interval(0)}, true},
		{[]record.Option{record.HighestTrackable(time.Microsecond)}, true},
		{[]record.Option{record.SignificantFigures(0)}, true},
		{[]record.Option{record.SignificantFigures(6)}, true},
		{[]record.Option{record.IntervalSignificantFigures(0)}, true},
	}
	for i, tt := range tests {
		err := record.Validate(tt.opts...)
		if (err != nil) != tt.wantErr {
			t.Errorf("%d: Validate = %v; want error %t", i, err, tt.wantErr)
		}
		if r, err := record.New(base, tt.opts...); (err != nil) != tt.wantErr || (r == nil) != tt.wantErr {
			t.Errorf("%d: New = %v, %v; want error %t", i, r != nil, err, tt.wantErr)
		}
		func() {
			defer func() {
				if p := recover(); (p != nil) != tt.wantErr {
					t.Errorf("%d: MustNew panicked with %v; want panic %t", i, p, tt.wantErr)
				}
			}()
			record.MustNew(base, tt.opts...)
		}()
	}
}

func TestClampedAboveHighest(t *testing.T) {
	t.Parallel()
	r := record.MustNew(base, record.HighestTrackable(time.Second))
	r.Add(record.Sample{Status: 200, Start: base, Latency: 100 * time.Millisecond})
	r.Add(record.Sample{Status: 200, Start: base, Latency: 5 * time.Second})
	r.Add(record.Sample{Status: 200, Intended: base, Start: base.Add(3 * time.Second), Latency: time.Millisecond})
	st := r.Snapshot().Total
	if st.Clamped != 2 {
		t.Errorf("Clamped = %d; want 2", st.Clamped)
	}
	if st.Latency.Max != 5*time.Second || st.Corrected.Max != 5*time.Second {
		t.Errorf("Max = %s / %s; want the exact 5s", st.Latency.Max, st.Corrected.Max)
	}
	if got := st.Corrected.Percentile(99); got < 999*time.Millisecond || got > 5*time.Second {
		t.Errorf("corrected p99 = %s; want the clamp, about 1s", got)
	}
}

func TestLockedConcurrent(t *testing.T) {
	t.Parallel()
	l := record.NewLocked(record.MustNew(base))
	samples := gen(5, 8000, 8*time.Second)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := w; i < len(samples); i += 4 {
				l.Add(samples[i])
			}
		})
	}
	wg.Wait()
	if got, want := l.Snapshot().Total.Count, int64(len(samples)); got != want {
		t.Errorf("Count = %d; want %d", got, want)
	}
	if err := l.Merge(record1(base, samples[:10])); err != nil {
		t.Fatal(err)
	}
	if got, want := l.Snapshot().Total.Count, int64(len(samples)+10); got != want {
		t.Errorf("after Merge, Count = %d; want %d", got, want)
	}
	if got, want := l.Footprint().Intervals, len(l.Snapshot().Intervals); got != want {
		t.Errorf("Footprint().Intervals = %d; want %d", got, want)
	}
}

func TestSnapshotIsACopy(t *testing.T) {
	t.Parallel()
	r := record.MustNew(base)
	samples := gen(6, 1000, time.Second)
	for _, s := range samples[:500] {
		r.Add(s)
	}
	snap := r.Snapshot()
	before := snap.Select(map[string]string{"endpoint": "list"})
	for _, s := range samples[500:] {
		r.Add(s)
	}
	after := snap.Select(map[string]string{"endpoint": "list"})
	if before.Count != after.Count || before.Corrected.P99 != after.Corrected.P99 || snap.Total.Count != 500 {
		t.Errorf("a snapshot changed when the recorder went on: %d → %d", before.Count, after.Count)
	}
}
