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

// base is the deterministic start of every test run.
var base = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func boolp(b bool) *bool { return &b }

// gen makes n reproducible samples over span, spread over a few keys, with
// some failures, checks and scheduling delays.
func gen(seed uint64, n int, span time.Duration) []record.Sample {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	scenarios := []string{"browse", "write"}
	endpoints := []string{"list", "create", "login"}
	phases := []string{"warmup", "steady", "spike"}
	out := make([]record.Sample, n)
	for i := range out {
		intended := base.Add(time.Duration(float64(span) * float64(i) / float64(n)))
		delay := time.Duration(0)
		if rng.IntN(10) == 0 {
			delay = time.Duration(rng.IntN(200)) * time.Millisecond
		}
		// Log-normal latencies around 20ms with a long tail.
		lat := time.Duration(math.Exp(rng.NormFloat64()*0.8+math.Log(20)) * float64(time.Millisecond))
		s := record.Sample{
			Scenario: scenarios[rng.IntN(len(scenarios))],
			Endpoint: endpoints[rng.IntN(len(endpoints))],
			Phase:    phases[min(3*i/n, 2)],
			Method:   "GET",
			Status:   200,
			Intended: intended,
			Start:    intended.Add(delay),
			Latency:  lat,
			BytesIn:  int64(100 + rng.IntN(1000)),
			BytesOut: int64(rng.IntN(200)),
		}
		switch rng.IntN(20) {
		case 0:
			s.Status = 500
		case 1:
			s.Status, s.Err = 0, "connection refused"
		}
		if rng.IntN(2) == 0 {
			s.CheckPassed = boolp(s.Status == 200)
		}
		out[i] = s
	}
	return out
}

func record1(start time.Time, samples []record.Sample, opts ...record.Option) *record.Recorder {
	r := record.MustNew(start, opts...)
	for _, s := range samples {
		r.Add(s)
	}
	return r
}

func encode(tb testing.TB, r *record.Recorder) []byte {
	tb.Helper()
	var buf bytes.Buffer
	if err := r.Encode(&buf); err != nil {
		tb.Fatalf("Encode: %v", err)
	}
	return buf.Bytes()
}

// exactPercentile returns the brute-force percentile of sorted values: the
// smallest value that at least p percent of them do not exceed, and the
// value at the nearest rank (HDR rounds the rank to nearest), either of
// which a histogram may report.
func exactPercentile(sorted []time.Duration, p float64) (ceil, nearest time.Duration) {
	n := float64(len(sorted))
	rank := func(r float64) time.Duration {
		i := int(r) - 1
		return sorted[min(max(i, 0), len(sorted)-1)]
	}
	return rank(math.Ceil(p / 100 * n)), rank(math.Floor(p/100*n + 0.5))
}

// near reports whether got is within HDR precision (relative 10^-digits,
// plus one microsecond of truncation) of want.
func near(got, want time.Duration, digits int) bool {
	tol := time.Duration(float64(want)*math.Pow10(-digits)) + time.Microsecond
	return got >= want-tol && got <= want+tol
}

func sortedLatencies(samples []record.Sample, corrected bool, keep func(record.Sample) bool) []time.Duration {
	var out []time.Duration
	for _, s := range samples {
		if keep != nil && !keep(s) {
			continue
		}
		if corrected {
			out = append(out, s.CorrectedLatency())
		} else {
			out = append(out, s.Latency)
		}
	}
	slices.Sort(out)
	return out
}

// sameDist compares the exported fields of two distributions.
func sameDist(a, b record.Dist) bool {
	return a.Min == b.Min && a.Max == b.Max && a.Mean == b.Mean && a.Median == b.Median &&
		a.P90 == b.P90 && a.P95 == b.P95 && a.P99 == b.P99 && a.Count() == b.Count()
}
