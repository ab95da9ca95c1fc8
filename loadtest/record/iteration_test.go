package record_test

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/taskready/taskready/loadtest/record"
)

// genIterations makes n reproducible whole iterations over span: two
// journeys of two scenarios, a tenth of them scheduled (open model) and
// left late.
func genIterations(seed uint64, n int, span time.Duration) []record.Sample {
	rng := rand.New(rand.NewPCG(seed, seed^0x5bd1e995))
	journeys := []string{"browse", "write"}
	out := make([]record.Sample, n)
	for i := range out {
		start := base.Add(time.Duration(float64(span) * float64(i) / float64(n)))
		s := record.Sample{
			Iteration: true,
			Scenario:  []string{"readers", "writers"}[i%2],
			Journey:   journeys[rng.IntN(len(journeys))],
			Phase:     []string{"warmup", "steady"}[min(2*i/n, 1)],
			Start:     start,
			Latency:   time.Duration(50+rng.IntN(200)) * time.Millisecond,
		}
		if rng.IntN(10) == 0 {
			s.Intended = start.Add(-time.Duration(rng.IntN(100)) * time.Millisecond)
		}
		out[i] = s
	}
	return out
}

// TestIterationsApartFromRequests: iteration samples count in no request
// statistic (the time series counts them apart), and iteration_duration reads them,
// timed from the scheduled start when there is one.
func TestIterationsApartFromRequests(t *testing.T) {
	t.Parallel()
	r := record.MustNew(base)
	req := record.Sample{Scenario: "s", Journey: "browse", Endpoint: "list", Method: "GET", Status: 200,
		Start: base, Intended: base, Latency: 10 * time.Millisecond, BytesIn: 100, BytesOut: 50}
	r.Add(req)
	// Open model: scheduled at base, started 30ms late, lasted 100ms.
	r.Add(record.Sample{Iteration: true, Scenario: "s", Journey: "browse", Phase: "steady",
		Intended: base, Start: base.Add(30 * time.Millisecond), Latency: 100 * time.Millisecond})
	// Closed model: no schedule.
	r.Add(record.Sample{Iteration: true, Scenario: "s", Journey: "write", Phase: "steady",
		Start: base.Add(time.Second), Latency: 300 * time.Millisecond})
	snap := r.Snapshot()

	if tot := snap.Total; tot.Count != 1 || tot.BytesIn != 100 || tot.BytesOut != 50 || len(snap.Keys) != 1 {
		t.Errorf("requests: count %d, bytes %d/%d, %d keys; want the one request", tot.Count, tot.BytesIn, tot.BytesOut, len(snap.Keys))
	}
	// The series counts the iterations by the second they started in,
	// and only the request as a request.
	if iv := snap.Intervals; len(iv) != 2 || iv[0].Requests != 1 || iv[1].Requests != 0 || iv[0].Iterations != 1 || iv[1].Iterations != 1 {
		t.Errorf("series = %+v; want the one request, and an iteration in each second", snap.Intervals)
	}
	if len(snap.Iterations) != 2 || snap.Iterations[0].Key != (record.IterationKey{Scenario: "s", Journey: "browse", Phase: "steady"}) {
		t.Fatalf("iterations = %+v", snap.Iterations)
	}

	tests := []struct {
		metric string
		tags   map[string]string
		stat   string
		want   float64
		ok     bool
	}{
		{"iteration_duration", map[string]string{"journey": "browse"}, "max", 130, true}, // from the scheduled start
		{"iteration_duration", map[string]string{"journey": "write"}, "max", 300, true},
		{"iteration_duration", nil, "min", 130, true},
		{"iteration_duration", map[string]string{"scenario": "s", "phase": "steady"}, "max", 300, true},
		{"iteration_duration", map[string]string{"journey": "nope"}, "max", 0, false},
		{"iteration_duration", map[string]string{"endpoint": "list"}, "max", 0, false},
		{"http_req_duration", nil, "max", 10, true},
		{"http_req_duration", map[string]string{"journey": "browse"}, "max", 0, false}, // requests have no journey tag
		{"http_reqs", nil, "count", 1, true},
	}
	for _, tt := range tests {
		m, ok := snap.Metric(tt.metric, tt.tags)
		if !ok {
			t.Errorf("Metric(%s) unknown", tt.metric)
			continue
		}
		got, ok := m.Value(tt.stat, 0)
		if ok != tt.ok || ok && got != tt.want {
			t.Errorf("%s%v %s = %v, %v; want %v, %v", tt.metric, tt.tags, tt.stat, got, ok, tt.want, tt.ok)
		}
	}

	it := snap.SelectIterations(nil)
	if it.Count != 2 || it.Failures != 0 || it.Statuses != nil || it.Latency.Max != 300*time.Millisecond || it.Latency.Min != 100*time.Millisecond {
		t.Errorf("SelectIterations(nil) = count %d, failures %d, statuses %v, latency %s..%s",
			it.Count, it.Failures, it.Statuses, it.Latency.Min, it.Latency.Max)
	}
	// Each selection answers for its own metrics only.
	if _, ok := it.Metric(record.MetricDuration); ok {
		t.Error("the Stats of iterations answered for http_req_duration")
	}
	if _, ok := snap.Total.Metric(record.MetricIterationDuration); ok {
		t.Error("the Stats of requests answered for iteration_duration")
	}
	if _, ok := snap.SelectIterations(map[string]string{"journey": "nope"}).Metric(record.MetricIterationDuration); !ok {
		t.Error("an empty selection of iterations is still one of iterations")
	}
}

// TestIterationsMergeAndEncode: iterations survive Encode and Decode and
// merge exactly, as requests do.
func TestIterationsMergeAndEncode(t *testing.T) {
	t.Parallel()
	samples := append(gen(31, 3000, 10*time.Second), genIterations(32, 900, 10*time.Second)...)
	one := record1(base, samples)
	want := encode(t, one)
	if !bytes.Contains(want, []byte(`"iterations"`)) {
		t.Fatal("the encoding has no iterations")
	}
	total := record.MustNew(base)
	for w := range 3 {
		r := record.MustNew(base)
		for i := w; i < len(samples); i += 3 {
			r.Add(samples[i])
		}
		d, err := record.Decode(bytes.NewReader(encode(t, r)))
		if err != nil {
			t.Fatal(err)
		}
		if err := total.Merge(d); err != nil {
			t.Fatal(err)
		}
	}
	if got := encode(t, total); !bytes.Equal(got, want) {
		t.Errorf("decoded and merged differs from one recorder:\n%s", firstDiff(got, want))
	}
	if got, want := snapshotJSON(t, total), snapshotJSON(t, one); !bytes.Equal(got, want) {
		t.Errorf("merged snapshot differs:\n%s", firstDiff(got, want))
	}
	if n := one.Snapshot().SelectIterations(nil).Count; n != 900 {
		t.Errorf("%d iterations; want 900", n)
	}
	// A file without iterations (every file before they were recorded)
	// still decodes.
	old := encode(t, record1(base, gen(33, 10, time.Second)))
	if bytes.Contains(old, []byte(`"iterations"`)) {
		t.Error("a recorder without iterations encodes an iterations field")
	}
	at := bytes.Index(want, []byte(`"iterations"`))
	bad := append(bytes.Clone(want[:at]), bytes.Replace(want[at:], []byte(`"count": `), []byte(`"count": -`), 1)...)
	if _, err := record.Decode(bytes.NewReader(bad)); err == nil || !strings.Contains(err.Error(), "iterations") {
		t.Errorf("Decode of a negative count of iterations: %v", err)
	}
}

func TestCheckMetricTags(t *testing.T) {
	t.Parallel()
	tests := []struct {
		metric string
		tags   map[string]string
		err    string
	}{
		{"iteration_duration", map[string]string{"journey": "browse", "scenario": "s", "phase": "p"}, ""},
		{"iteration_duration", map[string]string{"endpoint": "list"}, `iteration_duration is not tagged by "endpoint"; use scenario, journey or phase`},
		{"http_req_duration", map[string]string{"endpoint": "list"}, ""},
		{"http_req_duration", map[string]string{"journey": "browse"}, `http_req_duration is not tagged by "journey"; use scenario, endpoint or phase`},
		{"http_reqs", nil, ""},
	}
	for _, tt := range tests {
		err := record.CheckMetricTags(tt.metric, tt.tags)
		if tt.err == "" && err != nil || tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)) {
			t.Errorf("CheckMetricTags(%s, %v) = %v; want %q", tt.metric, tt.tags, err, tt.err)
		}
	}
}
