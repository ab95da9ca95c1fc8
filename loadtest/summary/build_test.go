package summary_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/taskready/taskready/loadtest/record"
	"github.com/taskready/taskready/loadtest/summary"
	"github.com/taskready/taskready/loadtest/threshold"
)

// TestIterationDuration: whole iterations give the k6 metric
// iteration_duration, its journey sub-metrics for thresholds, and the
// per-journey breakdown; requests keep their own metrics.
func TestIterationDuration(t *testing.T) {
	start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	rec := record.MustNew(start)
	for i := range 100 {
		at := start.Add(time.Duration(i) * 100 * time.Millisecond)
		rec.Add(record.Sample{Scenario: "s", Journey: "browse", Endpoint: "list", Status: 200, Start: at, Intended: at, Latency: 5 * time.Millisecond})
		// browse: scheduled at, left 20ms late, lasted 100ms: 120ms from
		// its schedule. write (closed model): 300ms.
		rec.Add(record.Sample{Iteration: true, Scenario: "s", Journey: "browse", Phase: "steady",
			Intended: at, Start: at.Add(20 * time.Millisecond), Latency: 100 * time.Millisecond})
		if i%4 == 0 {
			rec.Add(record.Sample{Iteration: true, Scenario: "w", Journey: "write", Phase: "steady", Start: at, Latency: 300 * time.Millisecond})
		}
	}
	snap := rec.Snapshot()
	parse := func(sel, expr string) threshold.Threshold {
		t.Helper()
		th, err := threshold.Parse(sel, expr)
		if err != nil {
			t.Fatal(err)
		}
		return th
	}
	ts := []threshold.Threshold{
		parse("iteration_duration", "p(95)<250"),
		parse("iteration_duration{journey:browse}", "max<119"),
		parse("iteration_duration{journey:write,scenario:w}", "avg<301"),
		parse("http_req_duration", "max<6"),
	}
	vs := summary.Evaluate(snap, nil, ts)
	for i, want := range []bool{false, false, true, true} {
		if vs[i].Passed != want {
			t.Errorf("%s %s: passed %v (%s); want %v", ts[i].Selector, ts[i].Source, vs[i].Passed, vs[i].Reason, want)
		}
	}
	ms := summary.Metrics(snap, nil, 10*time.Second, vs)
	whole := ms["iteration_duration"]
	if whole.Values["min"] != 120 || whole.Values["max"] != 300 || whole.Values["p(95)"] != 300 || !whole.Thresholds["p(95)<250"] {
		t.Errorf("iteration_duration = %+v", whole)
	}
	if b := ms["iteration_duration{journey:browse}"]; b.Values["max"] != 120 || b.Values["min"] != 120 || !b.Thresholds["max<119"] {
		t.Errorf("iteration_duration{journey:browse} = %+v", b)
	}
	if d := ms["http_req_duration"]; d.Values["max"] != 5 {
		t.Errorf("http_req_duration = %+v; the iterations leaked into the requests", d)
	}
	if n := ms["http_reqs"].Values["count"]; n != 100 {
		t.Errorf("http_reqs count = %v; want 100", n)
	}

	js := summary.Journeys(snap)
	if len(js) != 2 {
		t.Fatalf("journeys = %+v", js)
	}
	b, w := js[0], js[1]
	if b.Scenario != "s" || b.Journey != "browse" || b.Iterations != 100 || b.P95 != 120 || b.P95Uncorrected != 100 || b.Rate < 10 || b.Rate > 10.2 {
		t.Errorf("browse = %+v", b)
	}
	if w.Scenario != "w" || w.Journey != "write" || w.Iterations != 25 || w.Med != 300 || w.P95Uncorrected != 300 {
		t.Errorf("write = %+v", w)
	}

	// A run that timed no iteration has neither.
	empty := record.MustNew(start).Snapshot()
	if _, ok := summary.Metrics(empty, nil, time.Second, nil)["iteration_duration"]; ok || summary.Journeys(empty) != nil {
		t.Error("iteration_duration or journeys without iterations")
	}
}

func TestInTimeOrder(t *testing.T) {
	// The snapshot's order (by request count, say) is not the run's.
	phases := []summary.Breakdown{{Phase: "steady"}, {Phase: "imported"}, {Phase: "spike"}, {Phase: "warmup"}, {Phase: "cooldown"}}
	timeline := []summary.Span{
		{Scenario: "b", Phase: "spike", From: 30, To: 40},
		{Scenario: "a", Phase: "warmup", From: 0, To: 10},
		{Scenario: "a", Phase: "steady", From: 10, To: 60},
		{Scenario: "b", Phase: "warmup", From: 5, To: 30}, // a later warm-up does not move the first
		{Scenario: "a", Phase: "cooldown", From: 60, To: 70},
	}
	summary.InTimeOrder(phases, timeline)
	var got []string
	for _, p := range phases {
		got = append(got, p.Phase)
	}
	if want := "warmup steady spike cooldown imported"; strings.Join(got, " ") != want {
		t.Errorf("InTimeOrder = %v, want %s", got, want)
	}
}

// TestFailures: failures are counted per scenario and endpoint, phases
// merged, most frequent first, each with its share of the endpoint's
// requests.
func TestFailures(t *testing.T) {
	start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	rec := record.MustNew(start)
	add := func(n int, endpoint, phase string, status int, err string) {
		for range n {
			rec.Add(record.Sample{Scenario: "s", Endpoint: endpoint, Phase: phase, Status: status, Err: err, Start: start, Latency: time.Millisecond})
		}
	}
	add(10, "get", "warmup", 200, "")
	add(4, "get", "warmup", 404, "")
	add(3, "get", "steady", 404, "")
	add(2, "login", "steady", 429, "")
	add(2, "login", "steady", 200, "")
	add(1, "login", "steady", 0, "timeout after 10s")
	got := summary.Failures(rec.Snapshot())
	want := []summary.Failure{
		{Scenario: "s", Endpoint: "get", Reason: "status 404 Not Found", Count: 7, Share: 7.0 / 17},
		{Scenario: "s", Endpoint: "login", Reason: "status 429 Too Many Requests", Count: 2, Share: 2.0 / 5},
		{Scenario: "s", Endpoint: "login", Reason: "timeout after 10s", Count: 1, Share: 1.0 / 5},
	}
	if len(got) != len(want) {
		t.Fatalf("Failures = %+v; want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("Failures[%d] = %+v; want %+v", i, got[i], want[i])
		}
	}
}

// TestDistribution: requests land in the 1-2-5 bucket at or above their
// latency, from the first bucket that holds any to the last.
func TestDistribution(t *testing.T) {
	start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	rec := record.MustNew(start)
	for _, c := range []struct {
		lat time.Duration
		n   int
	}{{3 * time.Millisecond, 5}, {4 * time.Millisecond, 2}, {15 * time.Millisecond, 3}, {1500 * time.Millisecond, 1}} {
		for range c.n {
			rec.Add(record.Sample{Endpoint: "e", Status: 200, Start: start, Latency: c.lat})
		}
	}
	got := summary.Distribution(rec.Snapshot())
	want := []summary.Bucket{{5, 7}, {10, 0}, {20, 3}, {50, 0}, {100, 0}, {200, 0}, {500, 0}, {1000, 0}, {2000, 1}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("Distribution = %v; want %v", got, want)
	}
}
