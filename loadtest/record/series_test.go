package record_test

import (
	"bytes"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/taskready/taskready/loadtest/record"
)

func TestIntervalSeries(t *testing.T) {
	t.Parallel()
	ms := time.Millisecond
	type in struct {
		at, lat time.Duration
		status  int
	}
	tests := []struct {
		name     string
		opts     []record.Option
		samples  []in
		requests []int64
		failures []int64
		p50      []time.Duration
	}{
		{
			name: "one second buckets with a gap",
			samples: []in{
				{0, 10 * ms, 200}, {500 * ms, 20 * ms, 200}, {999 * ms, 30 * ms, 500},
				{1000 * ms, 40 * ms, 200},
				{3500 * ms, 50 * ms, 0},
			},
			requests: []int64{3, 1, 0, 1},
			failures: []int64{1, 0, 0, 1},
			p50:      []time.Duration{20 * ms, 40 * ms, 0, 50 * ms},
		},
		{
			name:     "before the start counts in the first",
			samples:  []in{{-5 * time.Second, 7 * ms, 200}, {200 * ms, 9 * ms, 200}},
			requests: []int64{2},
			failures: []int64{0},
			p50:      []time.Duration{7 * ms},
		},
		{
			name:     "half-second interval",
			opts:     []record.Option{record.Interval(500 * ms)},
			samples:  []in{{100 * ms, 10 * ms, 200}, {600 * ms, 100 * ms, 200}, {700 * ms, 300 * ms, 404}},
			requests: []int64{1, 2},
			failures: []int64{0, 1},
			p50:      []time.Duration{10 * ms, 100 * ms},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := record.MustNew(base, tt.opts...)
			for _, s := range tt.samples {
				r.Add(record.Sample{Status: s.status, Start: base.Add(s.at), Latency: s.lat})
			}
			snap := r.Snapshot()
			if got, want := len(snap.Intervals), len(tt.requests); got != want {
				t.Fatalf("len(Intervals) = %d; want %d", got, want)
			}
			for i, p := range snap.Intervals {
				if got, want := p.Offset, time.Duration(i)*snap.Interval; got != want {
					t.Errorf("Intervals[%d].Offset = %s; want %s", i, got, want)
				}
				if p.Requests != tt.requests[i] || p.Failures != tt.failures[i] {
					t.Errorf("Intervals[%d] = %d requests, %d failures; want %d, %d", i, p.Requests, p.Failures, tt.requests[i], tt.failures[i])
				}
				if !near(p.Latency.P50, tt.p50[i], 2) {
					t.Errorf("Intervals[%d].Latency.P50 = %s; want %s within 1%%", i, p.Latency.P50, tt.p50[i])
				}
			}
		})
	}
}

// TestIntervalPercentiles checks each interval's percentiles against a sort
// of that interval's samples, to the interval histograms' 1%.
func TestIntervalPercentiles(t *testing.T) {
	t.Parallel()
	samples := gen(3, 20000, 20*time.Second)
	snap := record1(base, samples).Snapshot()
	for i, p := range snap.Intervals {
		from, to := base.Add(time.Duration(i)*time.Second), base.Add(time.Duration(i+1)*time.Second)
		in := func(s record.Sample) bool { return !s.Start.Before(from) && s.Start.Before(to) }
		sorted := sortedLatencies(samples, true, in)
		if got, want := p.Requests, int64(len(sorted)); got != want {
			t.Fatalf("Intervals[%d].Requests = %d; want %d", i, got, want)
		}
		for _, q := range []struct {
			p   float64
			got time.Duration
		}{{50, p.Corrected.P50}, {95, p.Corrected.P95}, {99, p.Corrected.P99}, {100, p.Corrected.Max}} {
			ceil, nearest := exactPercentile(sorted, q.p)
			if !near(q.got, ceil, 2) && !near(q.got, nearest, 2) {
				t.Errorf("Intervals[%d] corrected p(%v) = %s; want %s within 1%%", i, q.p, q.got, ceil)
			}
		}
	}
}

// TestIntervalMemoryBounded shows that the series costs memory per elapsed
// interval, not per sample: one pair of histograms per interval whatever
// the rate, each bounded by its bucket count.
func TestIntervalMemoryBounded(t *testing.T) {
	t.Parallel()
	const intervals = 60
	for _, rate := range []int{10, 2000} {
		r := record.MustNew(base)
		rng := rand.New(rand.NewPCG(uint64(rate), 1))
		for i := range intervals * rate {
			start := base.Add(time.Duration(i) * time.Second / time.Duration(rate))
			r.Add(record.Sample{Endpoint: "list", Status: 200, Start: start, Intended: start, Latency: logUniform(rng)})
		}
		f := r.Footprint()
		if f.Intervals != intervals || f.IntervalHistograms != 2*intervals {
			t.Errorf("rate %d/s: %d intervals, %d interval histograms; want %d and %d (one pair per elapsed interval, not per sample)",
				rate, f.Intervals, f.IntervalHistograms, intervals, 2*intervals)
		}
		if per := f.IntervalBytes / intervals; per > maxIntervalBytes {
			t.Errorf("rate %d/s: %d bytes per interval; want at most %d", rate, per, maxIntervalBytes)
		}
		if f.Keys != 1 {
			t.Errorf("rate %d/s: %d keys; want 1", rate, f.Keys)
		}
		t.Logf("rate %d/s: %d bytes per interval, %d bytes of keyed histograms", rate, f.IntervalBytes/intervals, f.KeyBytes)
	}
}

// maxIntervalBytes bounds one interval: two sparse histograms of at most
// 2,560 buckets (2 significant figures up to 60s) at 4 bytes of index and up
// to 8 of count, plus fixed overhead and growth slack.
const maxIntervalBytes = 2 * (2560*12 + 4096)

// TestIntervalMemoryPlateaus pours ever more samples of a wide distribution
// into one interval: its memory stops growing once the buckets the
// distribution reaches are populated.
func TestIntervalMemoryPlateaus(t *testing.T) {
	t.Parallel()
	r := record.MustNew(base)
	rng := rand.New(rand.NewPCG(9, 9))
	var bytes []int
	n := 0
	for _, total := range []int{1000, 25000, 50000, 100000} {
		for ; n < total; n++ {
			r.Add(record.Sample{Status: 200, Start: base, Intended: base, Latency: logUniform(rng)})
		}
		bytes = append(bytes, r.Footprint().IntervalBytes)
	}
	t.Logf("interval bytes after 1k, 25k, 50k, 100k samples: %v", bytes)
	if bytes[3] > maxIntervalBytes {
		t.Errorf("%d bytes for one interval; want at most %d", bytes[3], maxIntervalBytes)
	}
	// Doubling the samples once the buckets are filled costs at most the
	// widening of counts past one byte.
	if float64(bytes[3]) > 1.6*float64(bytes[2]) || bytes[2] > bytes[1]*3/2 {
		t.Errorf("interval bytes keep growing with samples: %v", bytes)
	}
	if f := r.Footprint(); f.IntervalHistograms != 2 {
		t.Errorf("%d interval histograms; want 2", f.IntervalHistograms)
	}
}

// logUniform draws latencies evenly spread on a log scale from 100µs to 10s,
// which reaches far more histogram buckets than real traffic does.
func logUniform(rng *rand.Rand) time.Duration {
	return time.Duration(math.Exp(math.Log(100e3) + rng.Float64()*math.Log(1e5)))
}

// TestSeriesCountsIterationsDroppedAndClasses: each interval counts the
// iterations that started in it, the dropped ones, and the requests by
// status class, and all of it survives merging and encoding.
func TestSeriesCountsIterationsDroppedAndClasses(t *testing.T) {
	t.Parallel()
	r := record.MustNew(base)
	for i, status := range []int{200, 201, 404, 503, 0, 302} {
		at := base.Add(time.Duration(i%2) * time.Second)
		r.Add(record.Sample{Endpoint: "e", Status: status, Start: at, Latency: time.Millisecond})
		r.Add(record.Sample{Iteration: true, Start: at, Latency: time.Millisecond})
	}
	r.AddDropped(base.Add(1500*time.Millisecond), 7)
	r.AddDropped(base.Add(2500*time.Millisecond), 2) // a second with nothing else
	check := func(name string, r *record.Recorder) {
		iv := r.Snapshot().Intervals
		want := []struct {
			requests, iterations, dropped int64
			classes                       [6]int64
		}{
			{3, 3, 0, [6]int64{1, 0, 1, 0, 1, 0}}, // 200, 404, 0
			{3, 3, 7, [6]int64{0, 0, 1, 1, 0, 1}}, // 201, 503, 302
			{0, 0, 2, [6]int64{}},
		}
		if len(iv) != len(want) {
			t.Fatalf("%s: %d intervals; want %d", name, len(iv), len(want))
		}
		for i, w := range want {
			if p := iv[i]; p.Requests != w.requests || p.Iterations != w.iterations || p.Dropped != w.dropped || p.Classes != w.classes {
				t.Errorf("%s: interval %d = %d requests, %d iterations, %d dropped, classes %v; want %+v",
					name, i, p.Requests, p.Iterations, p.Dropped, p.Classes, w)
			}
		}
	}
	check("recorded", r)
	var buf bytes.Buffer
	if err := r.Encode(&buf); err != nil {
		t.Fatal(err)
	}
	d, err := record.Decode(&buf)
	if err != nil {
		t.Fatal(err)
	}
	check("decoded", d)
	m := record.MustNew(base)
	if err := m.Merge(d); err != nil {
		t.Fatal(err)
	}
	check("merged", m)
}

// TestBusyVUs: an iteration counts as a busy VU for the time it ran in
// each interval it overlaps.
func TestBusyVUs(t *testing.T) {
	t.Parallel()
	r := record.MustNew(base)
	// Two VUs busy through second 0; one from 0.5s to 2.5s.
	r.Add(record.Sample{Iteration: true, Start: base, Latency: time.Second})
	r.Add(record.Sample{Iteration: true, Start: base, Latency: time.Second})
	r.Add(record.Sample{Iteration: true, Start: base.Add(500 * time.Millisecond), Latency: 2 * time.Second})
	var buf bytes.Buffer
	if err := r.Encode(&buf); err != nil {
		t.Fatal(err)
	}
	d, err := record.Decode(&buf)
	if err != nil {
		t.Fatal(err)
	}
	for name, rec := range map[string]*record.Recorder{"recorded": r, "decoded": d} {
		var got []float64
		for _, p := range rec.Snapshot().Intervals {
			got = append(got, p.BusyVUs)
		}
		if want := []float64{2.5, 1, 0.5}; !slices.Equal(got, want) {
			t.Errorf("%s: busy VUs %v; want %v", name, got, want)
		}
	}
}
