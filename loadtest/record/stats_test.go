package record_test

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/taskready/taskready/loadtest/record"
)

func TestPercentilesMatchSort(t *testing.T) {
	t.Parallel()
	us := time.Microsecond
	dists := []struct {
		name string
		n    int
		draw func(*rand.Rand) time.Duration
	}{
		{"one", 1, func(*rand.Rand) time.Duration { return 1234 * us }},
		{"two", 2, func(r *rand.Rand) time.Duration { return time.Duration(r.IntN(1e6)) * us }},
		{"uniform 1ms-500ms", 20000, func(r *rand.Rand) time.Duration {
			return time.Millisecond + time.Duration(r.Int64N(int64(499*time.Millisecond)))
		}},
		{"lognormal", 20000, func(r *rand.Rand) time.Duration {
			return time.Duration(math.Exp(r.NormFloat64()+math.Log(30)) * float64(time.Millisecond))
		}},
		{"bimodal cache", 10000, func(r *rand.Rand) time.Duration {
			if r.IntN(10) < 8 {
				return time.Duration(200+r.IntN(300)) * us
			}
			return time.Duration(80+r.IntN(400)) * time.Millisecond
		}},
		{"sub-microsecond and huge", 5000, func(r *rand.Rand) time.Duration {
			if r.IntN(2) == 0 {
				return time.Duration(r.IntN(1000)) // ns
			}
			return time.Duration(r.Int64N(int64(59 * time.Second)))
		}},
	}
	percentiles := []float64{0, 0.1, 1, 10, 25, 50, 75, 90, 95, 99, 99.9, 100}
	for i, d := range dists {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			rng := rand.New(rand.NewPCG(uint64(i), 7))
			samples := make([]record.Sample, d.n)
			for j := range samples {
				start := base.Add(time.Duration(j) * time.Millisecond)
				samples[j] = record.Sample{Endpoint: "e", Status: 200, Start: start, Intended: start, Latency: d.draw(rng)}
			}
			st := record1(base, samples).Snapshot().Total
			sorted := sortedLatencies(samples, false, nil)
			if got, want := st.Count, int64(d.n); got != want {
				t.Fatalf("Count = %d; want %d", got, want)
			}
			for _, p := range percentiles {
				got := st.Latency.Percentile(p)
				ceil, nearest := exactPercentile(sorted, p)
				if !near(got, ceil, 3) && !near(got, nearest, 3) {
					t.Errorf("Percentile(%v) = %s; want %s or %s within 0.1%%", p, got, ceil, nearest)
				}
			}
			if got, want := st.Latency.Min, sorted[0]; got != want {
				t.Errorf("Min = %s; want %s", got, want)
			}
			if got, want := st.Latency.Max, sorted[len(sorted)-1]; got != want {
				t.Errorf("Max = %s; want %s", got, want)
			}
			var sum time.Duration
			for _, v := range sorted {
				sum += v
			}
			if got, want := st.Latency.Mean, sum/time.Duration(len(sorted)); !near(got, want, 9) {
				t.Errorf("Mean = %s; want %s", got, want)
			}
			if got, want := st.Latency.P95, st.Latency.Percentile(95); got != want {
				t.Errorf("P95 = %s; want Percentile(95) = %s", got, want)
			}
			// Closed model (Intended == Start): both views agree.
			if !sameDist(st.Corrected, st.Latency) {
				t.Errorf("Corrected = %+v; want Latency %+v", st.Corrected, st.Latency)
			}
		})
	}
}

func TestSelect(t *testing.T) {
	t.Parallel()
	samples := gen(1, 30000, 30*time.Second)
	snap := record1(base, samples).Snapshot()
	tests := []struct {
		tags map[string]string
		keep func(record.Sample) bool
	}{
		{nil, func(record.Sample) bool { return true }},
		{map[string]string{"endpoint": "list"}, func(s record.Sample) bool { return s.Endpoint == "list" }},
		{map[string]string{"phase": "spike"}, func(s record.Sample) bool { return s.Phase == "spike" }},
		{map[string]string{"scenario": "write"}, func(s record.Sample) bool { return s.Scenario == "write" }},
		{map[string]string{"scenario": "browse", "endpoint": "login", "phase": "steady"}, func(s record.Sample) bool {
			return s.Scenario == "browse" && s.Endpoint == "login" && s.Phase == "steady"
		}},
		{map[string]string{"endpoint": "nope"}, func(record.Sample) bool { return false }},
		{map[string]string{"status": "200"}, func(record.Sample) bool { return false }},
	}
	for _, tt := range tests {
		st := snap.Select(tt.tags)
		var count, failures, passed, checked, in int64
		var first, last time.Time
		for _, s := range samples {
			if !tt.keep(s) {
				continue
			}
			if count == 0 || s.Start.Before(first) {
				first = s.Start
			}
			if count == 0 || s.Start.After(last) {
				last = s.Start
			}
			count++
			if record.DefaultFailed(s) {
				failures++
			}
			if s.CheckPassed != nil {
				checked++
				if *s.CheckPassed {
					passed++
				}
			}
			in += s.BytesIn
		}
		if st.Count != count || st.Failures != failures || st.ChecksPassed != passed ||
			st.ChecksPassed+st.ChecksFailed != checked || st.BytesIn != in {
			t.Errorf("Select(%v) = count %d, failures %d, checks %d/%d, in %d; want %d, %d, %d/%d, %d",
				tt.tags, st.Count, st.Failures, st.ChecksPassed, st.ChecksPassed+st.ChecksFailed, st.BytesIn,
				count, failures, passed, checked, in)
		}
		if count == 0 {
			if v, ok := st.Value("p", 95); ok {
				t.Errorf("Select(%v).Value(p, 95) = %v, true; want no data", tt.tags, v)
			}
			continue
		}
		if got, want := st.Rate, float64(failures)/float64(count); got != want {
			t.Errorf("Select(%v).Rate = %v; want %v", tt.tags, got, want)
		}
		if want := float64(count-1) / last.Sub(first).Seconds(); math.Abs(st.RPS-want) > 1e-9*want {
			t.Errorf("Select(%v).RPS = %v; want %v", tt.tags, st.RPS, want)
		}
		for _, corrected := range []bool{false, true} {
			d := st.Latency
			if corrected {
				d = st.Corrected
			}
			sorted := sortedLatencies(samples, corrected, tt.keep)
			for _, p := range []float64{50, 90, 95, 99} {
				ceil, nearest := exactPercentile(sorted, p)
				if got := d.Percentile(p); !near(got, ceil, 3) && !near(got, nearest, 3) {
					t.Errorf("Select(%v) corrected=%t p(%v) = %s; want %s", tt.tags, corrected, p, got, ceil)
				}
			}
		}
		// Value speaks k6: milliseconds, the corrected view.
		if v, ok := st.Value("p", 95); !ok || v != float64(st.Corrected.P95)/1e6 {
			t.Errorf("Select(%v).Value(p, 95) = %v, %t; want %v", tt.tags, v, ok, float64(st.Corrected.P95)/1e6)
		}
	}
}

func TestSelectFuncAndKeys(t *testing.T) {
	t.Parallel()
	snap := record1(base, gen(2, 5000, 10*time.Second)).Snapshot()
	if got, want := len(snap.Keys), 2*3*3; got != want {
		t.Fatalf("len(Keys) = %d; want %d", got, want)
	}
	var sum int64
	for i, ks := range snap.Keys {
		if i > 0 {
			p := snap.Keys[i-1].Key
			if !(p.Scenario < ks.Key.Scenario || p.Scenario == ks.Key.Scenario &&
				(p.Endpoint < ks.Key.Endpoint || p.Endpoint == ks.Key.Endpoint && p.Phase < ks.Key.Phase)) {
				t.Errorf("Keys[%d] = %v after %v: not sorted", i, ks.Key, p)
			}
		}
		sum += ks.Stats.Count
		one := snap.SelectFunc(func(k record.Key) bool { return k == ks.Key })
		if one.Count != ks.Stats.Count || one.Corrected.P99 != ks.Stats.Corrected.P99 {
			t.Errorf("SelectFunc(%v) = %d, %s; want Keys entry %d, %s", ks.Key, one.Count, one.Corrected.P99, ks.Stats.Count, ks.Stats.Corrected.P99)
		}
	}
	if sum != snap.Total.Count {
		t.Errorf("sum of Keys counts = %d; want Total.Count %d", sum, snap.Total.Count)
	}
	notList := snap.SelectFunc(func(k record.Key) bool { return k.Endpoint != "list" })
	if got, want := notList.Count, snap.Total.Count-snap.Select(map[string]string{"endpoint": "list"}).Count; got != want {
		t.Errorf("SelectFunc(endpoint != list).Count = %d; want %d", got, want)
	}
}

func TestCheckTags(t *testing.T) {
	t.Parallel()
	tests := []struct {
		tags    map[string]string
		wantErr string
	}{
		{nil, ""},
		{map[string]string{"endpoint": "list", "phase": "spike", "scenario": "x"}, ""},
		{map[string]string{"endpoint": "list", "status": "200", "name": "x"}, `"name"`},
	}
	for _, tt := range tests {
		err := record.CheckTags(tt.tags)
		if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
			t.Errorf("CheckTags(%v) = %v; want error containing %q", tt.tags, err, tt.wantErr)
		}
	}
}

func TestValueAndMetrics(t *testing.T) {
	t.Parallel()
	// 100 requests, one every 10ms, the i-th taking i ms; every 10th
	// fails, and every request has a check that passes unless it failed.
	r := record.MustNew(base)
	for i := range 100 {
		start := base.Add(time.Duration(i) * 10 * time.Millisecond)
		s := record.Sample{Endpoint: "list", Status: 200, Start: start, Intended: start,
			Latency: time.Duration(i+1) * time.Millisecond, BytesIn: 1000, BytesOut: 10}
		if i%10 == 0 {
			s.Status = 503
		}
		s.CheckPassed = boolp(s.Status == 200)
		r.Add(s)
	}
	st := r.Snapshot().Select(map[string]string{"endpoint": "list"})
	rps := 99 / 0.99 // 100 starts over 990ms: exactly 100/s
	tests := []struct {
		metric, stat string
		p            float64
		want         float64
		ok           bool
	}{
		{"", "avg", 0, 50.5, true},
		{"", "min", 0, 1, true},
		{"", "max", 0, 100, true},
		{"", "med", 0, 50, true},
		{"", "p", 95, 95, true},
		{"", "p", 100, 100, true},
		{"", "p", 0, 0, false},
		{"", "p", 101, 0, false},
		{"", "p", math.NaN(), 0, false},
		{"", "count", 0, 100, true},
		{"", "rate", 0, 0.1, true},
		{"", "value", 0, 0.1, true},
		{"", "p95", 0, 0, false},
		{"http_req_duration", "p", 90, 90, true},
		{"http_req_duration_uncorrected", "max", 0, 100, true},
		{"http_reqs", "count", 0, 100, true},
		{"http_reqs", "rate", 0, rps, true},
		{"http_reqs", "avg", 0, 0, false},
		{"http_req_failed", "rate", 0, 0.1, true},
		{"http_req_failed", "count", 0, 0, false},
		{"checks", "rate", 0, 0.9, true},
		{"data_received", "count", 0, 100000, true},
		{"data_received", "rate", 0, 1000 * rps, true},
		{"data_sent", "count", 0, 1000, true},
	}
	for _, tt := range tests {
		var (
			got float64
			ok  bool
		)
		if tt.metric == "" {
			got, ok = st.Value(tt.stat, tt.p)
		} else {
			m, known := st.Metric(tt.metric)
			if !known {
				t.Errorf("Metric(%q) unknown", tt.metric)
				continue
			}
			got, ok = m.Value(tt.stat, tt.p)
		}
		// Durations are exact at min, max and avg; percentiles to HDR's 0.1%.
		if ok != tt.ok || ok && math.Abs(got-tt.want) > 1e-3*math.Max(1, tt.want) {
			t.Errorf("%s Value(%q, %v) = %v, %t; want %v, %t", tt.metric, tt.stat, tt.p, got, ok, tt.want, tt.ok)
		}
	}
	if _, ok := st.Metric("vus"); ok {
		t.Errorf("Metric(vus) known; want unknown")
	}
	empty := r.Snapshot().Select(map[string]string{"endpoint": "other"})
	for _, stat := range []string{"avg", "rate", "value"} {
		if v, ok := empty.Value(stat, 0); ok {
			t.Errorf("empty Value(%q) = %v, true; want no data", stat, v)
		}
	}
	// A counter has data even without samples: it counted none, so
	// http_reqs count>0 fails a run that sent nothing.
	for _, name := range []string{"http_reqs", "data_sent", "data_received"} {
		m, _ := empty.Metric(name)
		for _, stat := range []string{"count", "rate"} {
			if v, ok := m.Value(stat, 0); !ok || v != 0 {
				t.Errorf("empty %s Value(%q) = %v, %t; want 0, true", name, stat, v, ok)
			}
		}
	}
	if v, ok := r.Snapshot().SelectIterations(map[string]string{"journey": "other"}).Metric("iterations"); !ok {
		t.Errorf("Metric(iterations) of iterations unknown")
	} else if n, ok := v.Value("count", 0); !ok || n != 0 {
		t.Errorf("empty iterations count = %v, %t; want 0, true", n, ok)
	}
	noChecks := record.MustNew(base)
	noChecks.Add(record.Sample{Status: 200, Start: base, Latency: time.Millisecond})
	checks, _ := noChecks.Snapshot().Total.Metric("checks")
	if v, ok := checks.Value("rate", 0); ok {
		t.Errorf("checks rate without checks = %v, true; want no data", v)
	}
}

// TestCoordinatedOmission plays a stalled server against one connection
// that a schedule asks to send every 10ms: one response takes 1s, and the
// requests scheduled meanwhile wait behind it. Timed from their actual
// start they look fast; timed from when they should have started they do
// not, and only the corrected view shows what users would have seen.
func TestCoordinatedOmission(t *testing.T) {
	t.Parallel()
	const (
		every   = 10 * time.Millisecond
		n       = 1000 // 10s of schedule
		service = time.Millisecond
		stall   = time.Second
	)
	r := record.MustNew(base)
	var free time.Time // when the connection is next free
	for i := range n {
		intended := base.Add(time.Duration(i) * every)
		start := intended
		if free.After(start) {
			start = free
		}
		lat := service
		if i == 500 {
			lat = stall
		}
		free = start.Add(lat)
		r.Add(record.Sample{Endpoint: "list", Status: 200, Intended: intended, Start: start, Latency: lat})
	}
	snap := r.Snapshot()
	st := snap.Total
	// Uncorrected: one slow request in 1000 is above p99.
	if got := st.Latency.P99; got > 2*time.Millisecond {
		t.Errorf("uncorrected p99 = %s; want about %s (the stall hides)", got, service)
	}
	if got := st.Latency.Max; got != stall {
		t.Errorf("uncorrected max = %s; want %s", got, stall)
	}
	// Corrected: ~100 requests queued for up to 1s, about 10% of the run,
	// with waits spread evenly over (0, 1s]: p95 is about half the stall
	// and p99 about 90% of it.
	if got := st.Corrected.P99; got < 850*time.Millisecond || got > stall+service {
		t.Errorf("corrected p99 = %s; want about 900ms", got)
	}
	if got := st.Corrected.P95; got < 400*time.Millisecond || got > 600*time.Millisecond {
		t.Errorf("corrected p95 = %s; want about 500ms", got)
	}
	if got := st.Corrected.Median; got > 2*time.Millisecond {
		t.Errorf("corrected median = %s; want about %s", got, service)
	}
	// The time series shows the stall in the second the stalled request was
	// sent and the next one, where the queued requests started late; the
	// requests count shows the gap in the achieved rate.
	if got := snap.Intervals[5].Requests; got != 1 {
		t.Errorf("interval 5 requests = %d; want 1 (the others queued behind the stall)", got)
	}
	for i, p := range snap.Intervals {
		slow := p.Corrected.P99 > 500*time.Millisecond
		if want := i == 5 || i == 6; slow != want {
			t.Errorf("interval %d corrected p99 = %s; want slow=%t", i, p.Corrected.P99, want)
		}
		if i != 5 && p.Latency.P95 > 2*time.Millisecond {
			t.Errorf("interval %d uncorrected p95 = %s; want about %s", i, p.Latency.P95, service)
		}
	}
}
