package engine_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/taskready/taskready/loadtest/engine"
	"github.com/taskready/taskready/loadtest/scenario"
	"github.com/taskready/taskready/loadtest/summary"
)

// server answers GET /ping at once, GET /slow after delay, and /fail
// with a 500.
func server(t *testing.T, delay time.Duration) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /ping", func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte(`{"ok":true}`)) })
	mux.HandleFunc("GET /slow", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
		}
		w.Write([]byte(`{"ok":true}`))
	})
	mux.HandleFunc("GET /fail", func(w http.ResponseWriter, _ *http.Request) { http.Error(w, `{"error":"no"}`, 500) })
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func parse(t testing.TB, yaml string) *scenario.File {
	t.Helper()
	f, err := scenario.Parse("test.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

const pingFile = `
name: ping
scenarios:
  steady:
    executor: constant-arrival-rate
    rate: 50
    duration: 2s
    preAllocatedVUs: 5
    maxVUs: 100 # one per iteration: none dropped, however slow the machine
    phase: steady
    journeys: [ping]
journeys:
  ping:
    - name: ping
      request: {method: GET, path: /ping}
      check: {status: 200}
thresholds:
  http_req_failed: ["rate<0.01"]
  "http_req_duration{endpoint:ping}": ["p(95)<5000"]
  checks: ["rate>0.99"]
`

// generous are the limits of a valid run for tests of anything but
// validity: on a shared CI machine under -race, the tests check the
// plumbing, not this machine's scheduling. The CPU limit is far above
// all cores: the engine reads the whole process's CPU, which in a test
// binary includes the tests running beside this one, and a run of a few
// milliseconds divides it by almost nothing (146% was seen).
var generous = engine.WithLimits(engine.Limits{MaxDropped: 0.01, MaxSendLag: time.Minute, MaxCPU: 100})

func TestOpenModelRunPasses(t *testing.T) {
	srv := server(t, 0)
	f := parse(t, pingFile)
	var progress bytes.Buffer
	reg := prometheus.NewRegistry()
	m := engine.NewMetrics(reg)
	res, err := engine.Run(context.Background(), f, srv.URL,
		engine.WithProgress(&progress, 200*time.Millisecond), engine.WithMetrics(m),
		generous)
	if err != nil {
		t.Fatal(err)
	}
	s := decided(res.Summary(engine.Meta{ID: "t"}))
	run := s.Run
	if len(run.Scenarios) != 1 || run.Scenarios[0].Planned != 100 || run.Scenarios[0].Iterations != 100 || run.Scenarios[0].Dropped != 0 {
		t.Fatalf("scenarios %+v; want 100 planned and run", run.Scenarios)
	}
	if got := run.Scenarios[0].TargetRate; got < 49.9 || got > 50.1 {
		t.Errorf("target rate %.2f, want 50", got)
	}
	if run.Outcome.Status != summary.StatusPassed || run.Outcome.ExitCode != 0 || !run.Validity.Valid {
		t.Errorf("outcome %+v validity %+v; want passed", run.Outcome, run.Validity)
	}
	if n := len(run.Thresholds); n != 3 {
		t.Fatalf("%d thresholds, want 3", n)
	}
	for _, th := range run.Thresholds {
		if !th.Passed || th.Observed == nil || th.Line == 0 {
			t.Errorf("threshold %+v: want passed with an observed value and a line", th)
		}
	}
	if got := s.Metrics["http_reqs"].Values["count"]; got != 100 {
		t.Errorf("http_reqs count %v, want 100", got)
	}
	// Bodiless GETs through the default (fasthttp) client: data_sent is
	// their request lines and headers, no longer nothing.
	if got, min := s.Metrics["data_sent"].Values["count"], float64(100*len("GET /ping HTTP/1.1\r\n")); got <= min {
		t.Errorf("data_sent %v B; want more than the request lines' %v", got, min)
	}
	if got, min := s.Metrics["data_received"].Values["count"], float64(100*len("HTTP/1.1 200 OK\r\n"+`{"ok":true}`)); got <= min {
		t.Errorf("data_received %v B; want more than the status lines and bodies' %v", got, min)
	}
	if th := s.Metrics["http_req_duration{endpoint:ping}"].Thresholds; len(th) != 1 || th["p(95)<5000"] {
		t.Errorf("sub-metric thresholds %v; want p(95)<5000: false (not crossed)", th)
	}
	c := s.RootGroup.Checks["ping ping: status 200"]
	if c == nil || c.Passes != 100 || c.Fails != 0 {
		t.Errorf("check %+v; want 100 passes", c)
	}
	if len(run.Series) < 2 || len(run.Endpoints) != 1 || run.Endpoints[0].Endpoint != "ping" || len(run.Phases) != 1 || run.Phases[0].Phase != "steady" {
		t.Errorf("series %d points, endpoints %+v, phases %+v", len(run.Series), run.Endpoints, run.Phases)
	}
	if !strings.Contains(progress.String(), "req/s") || !strings.Contains(progress.String(), "done in") {
		t.Errorf("progress %q: want live lines and a final one", progress.String())
	}
	if got := testutil.ToFloat64(m.Requests.WithLabelValues("steady", "ping", "steady", "200")); got != 100 {
		t.Errorf("taskready_load_requests_total %v, want 100", got)
	}
	if got := testutil.ToFloat64(m.Iterations.WithLabelValues("steady")); got != 100 {
		t.Errorf("taskready_load_iterations_total %v, want 100", got)
	}
	if got := testutil.ToFloat64(m.Phase.WithLabelValues("steady", "steady")); got != 0 {
		t.Errorf("taskready_load_phase after the run %v, want 0", got)
	}
	if got := testutil.ToFloat64(m.Threshold.WithLabelValues("http_req_duration{endpoint:ping}", "p(95)<5000")); got != 5 {
		t.Errorf("threshold bound %v s, want 5", got)
	}
}

func TestThresholdCrossedExits99(t *testing.T) {
	srv := server(t, 0)
	f := parse(t, strings.Replace(pingFile, "path: /ping}", "path: /fail}", 1))
	res, err := engine.Run(context.Background(), f, srv.URL, engine.WithLimits(engine.Limits{MaxDropped: 1, MaxSendLag: time.Hour, MaxCPU: 100}))
	if err != nil {
		t.Fatal(err)
	}
	run := decided(res.Summary(engine.Meta{})).Run
	if run.Outcome.ExitCode != summary.ExitCrossed || run.Outcome.Status != summary.StatusCrossed {
		t.Fatalf("outcome %+v; want thresholds-crossed, 99", run.Outcome)
	}
	crossed := 0
	for _, th := range run.Thresholds {
		if !th.Passed {
			crossed++
		}
	}
	if crossed != 2 { // http_req_failed and checks; the latency one holds
		t.Errorf("%d thresholds crossed, want 2: %+v", crossed, run.Thresholds)
	}
}

func TestAbortOnFailStopsTheRun(t *testing.T) {
	srv := server(t, 0)
	f := parse(t, `
name: abort
scenarios:
  failing:
    executor: constant-vus
    vus: 2
    duration: 1m
    journeys: [fail]
journeys:
  fail:
    - name: fail
      request: {method: GET, path: /fail}
      think: 10ms
thresholds:
  http_req_failed:
    - {threshold: "rate<0.5", abortOnFail: true}
`)
	began := time.Now()
	res, err := engine.Run(context.Background(), f, srv.URL, engine.WithProgress(nil, 100*time.Millisecond), generous)
	if err != nil {
		t.Fatal(err)
	}
	if took := time.Since(began); took > 30*time.Second {
		t.Fatalf("an abortOnFail run took %s of its 1m", took)
	}
	run := decided(res.Summary(engine.Meta{})).Run
	if !strings.Contains(run.Aborted, "rate<0.5") || run.Outcome.ExitCode != summary.ExitCrossed {
		t.Errorf("aborted %q, outcome %+v; want aborted by rate<0.5, exit 99", run.Aborted, run.Outcome)
	}
}

func TestDroppedIterationsMakeTheRunInvalid(t *testing.T) {
	srv := server(t, 300*time.Millisecond)
	f := parse(t, `
name: starved
scenarios:
  starved:
    executor: constant-arrival-rate
    rate: 40
    duration: 1s
    preAllocatedVUs: 1
    maxVUs: 2
    journeys: [slow]
journeys:
  slow:
    - name: slow
      request: {method: GET, path: /slow}
thresholds:
  http_req_duration: ["p(95)<1"]
`)
	m := engine.NewMetrics(prometheus.NewRegistry())
	res, err := engine.Run(context.Background(), f, srv.URL, engine.WithMetrics(m))
	if err != nil {
		t.Fatal(err)
	}
	run := decided(res.Summary(engine.Meta{})).Run
	// The live counter a dashboard reads agrees with the final count.
	if live := testutil.ToFloat64(m.Drops.WithLabelValues("starved")); live == 0 || int64(live) != run.Scenarios[0].Dropped {
		t.Errorf("taskready_load_dropped_iterations_total %v, want the run's %d (> 0)", live, run.Scenarios[0].Dropped)
	}
	// The time series places every dropped iteration and the completed
	// ones (an iteration cut short at the end is not one), beside the
	// 40/s the schedule called for.
	var dropped, iterations int64
	for _, p := range run.Series {
		dropped += p.Dropped
		iterations += p.Iterations
		if p.T < 0.5 && p.Target != 40 {
			t.Errorf("point %v: target %v/s, want 40", p.T, p.Target)
		}
	}
	if dropped != run.Scenarios[0].Dropped || iterations == 0 || iterations > run.Scenarios[0].Iterations {
		t.Errorf("series: %d dropped, %d iterations; want the run's %d and 1 to %d", dropped, iterations, run.Scenarios[0].Dropped, run.Scenarios[0].Iterations)
	}
	if run.Validity.Valid || run.Outcome.ExitCode != summary.ExitInvalid {
		t.Fatalf("validity %+v outcome %+v; want invalid, 101", run.Validity, run.Outcome)
	}
	// The crossed threshold is reported too, but does not decide: the
	// latencies of an invalid run describe the generator.
	if !strings.Contains(strings.Join(run.Outcome.Reasons, "\n"), "dropped iterations") {
		t.Errorf("reasons %q: want the dropped iterations named", run.Outcome.Reasons)
	}
}

func TestTimeline(t *testing.T) {
	f := parse(t, `
name: spiky
scenarios:
  base:
    executor: constant-vus
    vus: 1
    duration: 30s
    phase: steady
    journeys: [ping]
  spike:
    executor: ramping-arrival-rate
    startTime: 10s
    preAllocatedVUs: 1
    stages:
      - {duration: 5s, target: 10, phase: spike}
      - {duration: 5s, target: 10, phase: spike}
      - {duration: 10s, target: 0, phase: recovery}
    journeys: [ping]
journeys:
  ping:
    - name: ping
      request: {method: GET, path: /ping}
`)
	got := engine.Timeline(f)
	want := []summary.Span{
		{Scenario: "base", Phase: "steady", From: 0, To: 30},
		{Scenario: "spike", Phase: "spike", From: 10, To: 20},
		{Scenario: "spike", Phase: "recovery", From: 20, To: 30},
	}
	if len(got) != len(want) {
		t.Fatalf("timeline %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("span %d: %+v, want %+v", i, got[i], want[i])
		}
	}
}

// TestIterationDurationGates: a journey of two requests to a server that
// takes 50ms each lasts at least 100ms, so iteration_duration gates on
// the whole journey where no request's latency could tell.
func TestIterationDurationGates(t *testing.T) {
	srv := server(t, 50*time.Millisecond)
	f := parse(t, `
name: journeys
scenarios:
  closed:
    executor: per-vu-iterations
    vus: 2
    iterations: 3
    journeys: [twice]
journeys:
  twice:
    - name: first
      endpoint: slow
      request: {method: GET, path: /slow}
    - name: second
      endpoint: slow
      request: {method: GET, path: /slow}
thresholds:
  "http_req_duration{endpoint:slow}": ["min>=50"]
  iteration_duration: ["p(95)<50"]
  "iteration_duration{journey:twice}": ["min>=100"]
  iterations: ["count==6"]
  "iterations{journey:twice}": ["count>6"]
`)
	reg := prometheus.NewRegistry()
	m := engine.NewMetrics(reg)
	res, err := engine.Run(context.Background(), f, srv.URL, engine.WithMetrics(m),
		engine.WithLimits(engine.Limits{MaxDropped: 0.01, MaxSendLag: time.Second, MaxCPU: 100}))
	if err != nil {
		t.Fatal(err)
	}
	s := decided(res.Summary(engine.Meta{ID: "t"}))
	var verdicts []string
	for _, th := range s.Run.Thresholds {
		verdicts = append(verdicts, fmt.Sprintf("%s %s %v", th.Metric, th.Expression, th.Passed))
	}
	want := []string{"http_req_duration{endpoint:slow} min>=50 true", "iteration_duration p(95)<50 false", "iteration_duration{journey:twice} min>=100 true",
		"iterations count==6 true", "iterations{journey:twice} count>6 false"}
	if strings.Join(verdicts, "; ") != strings.Join(want, "; ") {
		t.Errorf("verdicts:\n%s\nwant\n%s", strings.Join(verdicts, "\n"), strings.Join(want, "\n"))
	}
	if s.Run.Outcome.ExitCode != summary.ExitCrossed {
		t.Errorf("outcome %+v; want thresholds crossed", s.Run.Outcome)
	}
	if it := s.Metrics["iteration_duration"]; it.Values["min"] < 100 || !it.Thresholds["p(95)<50"] {
		t.Errorf("iteration_duration %+v", it)
	}
	if js := s.Run.Journeys; len(js) != 1 || js[0].Journey != "twice" || js[0].Scenario != "closed" || js[0].Iterations != 6 || js[0].Min < 100 {
		t.Errorf("journeys %+v; want 6 iterations of twice, each of 100ms or more", js)
	}
	if it := s.Metrics["iterations"]; it.Values["count"] != 6 || it.Thresholds["count==6"] {
		t.Errorf("iterations %+v; want count 6, its threshold not crossed", it)
	}
	if got := s.Metrics["http_reqs"].Values["count"]; got != 12 {
		t.Errorf("http_reqs %v; want 12, the iterations' own samples not among them", got)
	}
	if got := testutil.ToFloat64(m.Requests.WithLabelValues("closed", "slow", "", "200")); got != 12 {
		t.Errorf("taskready_load_requests_total %v; want 12", got)
	}
	if got := testutil.ToFloat64(m.Threshold.WithLabelValues("iteration_duration", "p(95)<50")); got != 0.05 {
		t.Errorf("threshold bound %v s; want 0.05", got)
	}
}

// A run the caller's context stops (the user's Ctrl-C) is a result, and
// one that would have passed on the part it ran is aborted, not passed.
func TestInterruptedRunIsAbortedNotPassed(t *testing.T) {
	first := make(chan struct{})
	var once sync.Once
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		once.Do(func() { close(first) })
		w.Write([]byte(`{"ok":true}`))
	}))
	t.Cleanup(srv.Close)
	f := parse(t, `
name: interrupted
scenarios:
  steady:
    executor: constant-vus
    vus: 1
    duration: 2m
    journeys: [ping]
journeys:
  ping:
    - name: ping
      request: {method: GET, path: /ping}
      think: 10ms
thresholds:
  http_req_failed: ["rate<0.01"]
`)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		select {
		case <-first:
		case <-time.After(time.Minute):
		}
		cancel()
	}()
	res, err := engine.Run(ctx, f, srv.URL, engine.WithProgress(nil, time.Second),
		engine.WithLimits(engine.Limits{MaxDropped: 0.01, MaxSendLag: time.Second, MaxCPU: 100}))
	if err != nil {
		t.Fatal(err)
	}
	run := decided(res.Summary(engine.Meta{})).Run
	if !res.Interrupted || !run.Interrupted {
		t.Fatalf("Interrupted = %v in the result, %v in the summary; want true", res.Interrupted, run.Interrupted)
	}
	if run.Outcome.Status != summary.StatusAborted || run.Outcome.ExitCode != summary.ExitAborted {
		t.Errorf("outcome %+v; want aborted, exit 105", run.Outcome)
	}
	// The verdicts on the data so far stay in the summary for the record
	// (the request the interrupt cut short counts as failed there), but
	// the outcome judged none of them.
	if len(run.Thresholds) != 1 || strings.Contains(strings.Join(run.Outcome.Reasons, " "), "crossed") {
		t.Errorf("thresholds %+v, reasons %q; want the threshold kept and not judged", run.Thresholds, run.Outcome.Reasons)
	}
}

// decided decides s's outcome, as rundir does before it writes a run: the
// engine leaves that to its caller.
func decided(s *summary.Summary) *summary.Summary {
	s.Run.Decide()
	return s
}
