package engine_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/taskready/taskready/loadtest/engine"
	"github.com/taskready/taskready/loadtest/executor"
	"github.com/taskready/taskready/loadtest/record"
	"github.com/taskready/taskready/loadtest/scenario"
	"github.com/taskready/taskready/loadtest/segment"
	"github.com/taskready/taskready/loadtest/summary"
)

const mergeYAML = `
name: merge
scenarios:
  browse:
    executor: constant-arrival-rate
    rate: 20
    duration: 10s
    preAllocatedVUs: 4
    phase: steady
    journeys: [j]
journeys:
  j:
    - {name: login, request: {method: POST, path: /login}, check: {status: 200}}
    - {name: list, request: {method: GET, path: /list}, check: {status: 200}}
thresholds:
  http_req_duration: ["p(95)<1000"]
  "http_req_duration{endpoint:list}": ["p(99)<1000"]
  http_req_failed: ["rate<0.05"]
  # 200 iterations of 2 requests: each half's 200 would hold it, the
  # whole's 400 do not.
  http_reqs: ["count<300"]
`

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// mergeSamples are the 400 requests of 200 iterations of the whole run
// (20/s for 10s), with log-normal latencies and a few failures.
// samplesPerIteration is how many samples an iteration of mergeSamples
// sends: its two requests' and its own.
const samplesPerIteration = 3

func mergeSamples() []record.Sample {
	rng := rand.New(rand.NewPCG(7, 11))
	var out []record.Sample
	for i := range 200 {
		at := t0.Add(time.Duration(i) * 50 * time.Millisecond)
		began := at
		for _, ep := range []string{"login", "list"} {
			lat := time.Duration((1 + rng.ExpFloat64()*20) * float64(time.Millisecond))
			status := 200
			if rng.IntN(50) == 0 {
				status = 500
			}
			ok := status == 200
			out = append(out, record.Sample{
				Scenario: "browse", Journey: "j", Step: ep, Endpoint: ep, Phase: "steady", Method: "GET",
				Status: status, Intended: at, Start: at, Latency: lat, BytesIn: 100, CheckPassed: &ok,
			})
			at = at.Add(lat)
		}
		// The whole iteration's own sample, as the executor sends it.
		out = append(out, record.Sample{Iteration: true, Scenario: "browse", Journey: "j", Phase: "steady",
			Intended: began, Start: began, Latency: at.Sub(began)})
	}
	return out
}

// result is what the engine would have measured of samples, run with f.
func result(t *testing.T, f *scenario.File, samples []record.Sample, dropped int64) *engine.Result {
	t.Helper()
	rec := record.MustNew(t0)
	res := &engine.Result{
		File: f, Target: "http://api", Start: t0, End: t0.Add(10 * time.Second), Recorder: rec,
		Checks: summary.NewRootGroup(), SendLag: hdrhistogram.New(1, int64(time.Minute/time.Microsecond), 2),
	}
	var iterations int64
	for _, s := range samples {
		rec.Add(s)
		if s.Iteration {
			iterations++
			continue
		}
		_ = res.SendLag.RecordValue(0)
		c := res.Checks.Check(scenario.CheckName(s.Journey, &f.Journeys["j"].Steps[0]))
		if s.Step == "list" {
			c = res.Checks.Check(scenario.CheckName(s.Journey, &f.Journeys["j"].Steps[1]))
		}
		if *s.CheckPassed {
			c.Passes++
		} else {
			c.Fails++
		}
	}
	res.Scenarios = []summary.Scenario{{Name: "browse", Executor: string(scenario.ConstantArrivalRate),
		Iterations: iterations, Planned: iterations + dropped, Dropped: dropped, VUsMax: 2}}
	return res
}

// parts splits the whole's samples over n workers, iteration by
// iteration as segments interleave, and returns what each wrote: its
// summary (thresholds left to the merge) and its histograms, encoded and
// read back as harness merge reads them.
func parts(t *testing.T, f *scenario.File, n int, dropped map[int]int64) []engine.Part {
	t.Helper()
	samples := mergeSamples()
	by := make([][]record.Sample, n)
	for i, s := range samples {
		by[i/samplesPerIteration%n] = append(by[i/samplesPerIteration%n], s)
	}
	out := make([]engine.Part, n)
	for i := range n {
		seg := segment.Segment{Index: i, Count: n}
		wf := executor.Segment(f, seg)
		wf.Thresholds, wf.Recoveries = nil, nil
		res := result(t, wf, by[i], dropped[i])
		sum := decided(res.Summary(engine.Meta{ID: fmt.Sprintf("w%d", i), Provider: "external", Harness: "test", Segment: seg.String(), FileSHA256: "abc"}))
		var buf bytes.Buffer
		if err := res.Recorder.Encode(&buf); err != nil {
			t.Fatal(err)
		}
		rec, err := record.Decode(&buf)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = engine.Part{Source: fmt.Sprintf("out/w%d", i), Summary: sum, Recorder: rec}
	}
	return out
}

// TestMergeHalvesIsTheWhole merges two halves of a run: the merged summary
// has the whole's counts, percentiles, breakdowns, checks and series, and
// its thresholds are evaluated once, on the merged data, where each half's
// were not evaluated at all.
func TestMergeHalvesIsTheWhole(t *testing.T) {
	f := parse(t, mergeYAML)
	whole := decided(result(t, f, mergeSamples(), 0).Summary(engine.Meta{ID: "whole"}))
	ps := parts(t, f, 2, nil)
	for _, p := range ps {
		if len(p.Summary.Run.Thresholds) != 0 || p.Summary.Run.Outcome.ExitCode != 0 {
			t.Fatalf("%s: a worker evaluated thresholds: %+v, outcome %+v", p.Source, p.Summary.Run.Thresholds, p.Summary.Run.Outcome)
		}
	}
	res, got, err := engine.Merge(f, []engine.Part{ps[1], ps[0]}, engine.Meta{ID: "merged"})
	if err != nil {
		t.Fatal(err)
	}
	got.Run.Decide()
	if res.Recorder != ps[0].Recorder || !res.Start.Equal(t0) {
		t.Errorf("merged recorder %p start %s; want segment 0's, %s", res.Recorder, res.Start, t0)
	}
	for _, m := range []struct{ metric, stat string }{
		{"http_reqs", "count"}, {"http_req_duration", "p(95)"}, {"http_req_duration", "p(99)"},
		{"http_req_duration", "med"}, {"http_req_duration", "max"}, {"http_req_duration", "avg"},
		{"http_req_failed", "passes"}, {"checks", "passes"}, {"checks", "fails"}, {"iterations", "count"},
	} {
		if g, w := got.Metrics[m.metric].Values[m.stat], whole.Metrics[m.metric].Values[m.stat]; g != w || w == 0 && m.stat != "passes" {
			t.Errorf("%s %s: merged %v, whole %v", m.metric, m.stat, g, w)
		}
	}
	if fmt.Sprint(got.Run.Endpoints) != fmt.Sprint(whole.Run.Endpoints) || fmt.Sprint(got.Run.Phases) != fmt.Sprint(whole.Run.Phases) {
		t.Errorf("breakdowns:\nmerged %+v\nwhole  %+v", got.Run.Endpoints, whole.Run.Endpoints)
	}
	if len(whole.Run.Failures) == 0 || jsonOf(t, got.Run.Failures) != jsonOf(t, whole.Run.Failures) {
		t.Errorf("failures:\nmerged %+v\nwhole  %+v", got.Run.Failures, whole.Run.Failures)
	}
	if fmt.Sprint(got.Run.Series) != fmt.Sprint(whole.Run.Series) {
		t.Errorf("series:\nmerged %+v\nwhole  %+v", got.Run.Series, whole.Run.Series)
	}
	if jsonOf(t, got.Run.Thresholds) != jsonOf(t, whole.Run.Thresholds) || len(got.Run.Thresholds) != 4 {
		t.Errorf("thresholds:\nmerged %+v\nwhole  %+v", got.Run.Thresholds, whole.Run.Thresholds)
	}
	if m := got.Metrics["http_reqs"]; !m.Thresholds["count<300"] {
		t.Errorf("http_reqs count<300 not crossed in the merged view: %+v", m)
	}
	if o := got.Run.Outcome; o.ExitCode != summary.ExitCrossed || !strings.Contains(strings.Join(o.Reasons, "\n"), "http_reqs count<300") {
		t.Errorf("outcome %+v; want 99 for count<300, which only the merged view crosses", o)
	}
	sc := got.Run.Scenarios
	if len(sc) != 1 || sc[0].Iterations != 200 || sc[0].Planned != 200 || sc[0].TargetRate != 20 || sc[0].VUsMax != 4 {
		t.Errorf("scenarios %+v; want the whole's 200 iterations at 20/s", sc)
	}
	if v := got.Run.Validity; !v.Valid || len(v.Checks) != 3 {
		t.Errorf("validity %+v", v)
	}
	if w := got.Run.Workers; len(w) != 2 || w[0].Segment != "0/2" || w[1].Source != "out/w1" || w[0].Requests+w[1].Requests != 400 {
		t.Errorf("workers %+v", w)
	}
	if got.Run.Segment != "" || got.Run.FileSHA256 != "abc" || got.Run.Environment.Provider != "external" {
		t.Errorf("merged run: segment %q, sha %q, environment %+v", got.Run.Segment, got.Run.FileSHA256, got.Run.Environment)
	}
}

// TestMergeInvalidWorker: a worker that could not keep up makes the merged
// run invalid, and the merged validity names it.
func TestMergeInvalidWorker(t *testing.T) {
	f := parse(t, mergeYAML)
	ps := parts(t, f, 3, map[int]int64{2: 20})
	if ps[2].Summary.Run.Outcome.ExitCode != summary.ExitInvalid {
		t.Fatalf("worker outcome %+v, want invalid", ps[2].Summary.Run.Outcome)
	}
	_, got, err := engine.Merge(f, ps, engine.Meta{ID: "merged"})
	if err != nil {
		t.Fatal(err)
	}
	got.Run.Decide()
	reasons := strings.Join(got.Run.Outcome.Reasons, "\n")
	if got.Run.Validity.Valid || got.Run.Outcome.ExitCode != summary.ExitInvalid || !strings.Contains(reasons, "segment 2/3 (out/w2)") ||
		!strings.Contains(reasons, "(20 of 220)") {
		t.Errorf("outcome %+v, validity %+v; want invalid naming segment 2/3 and 20 dropped of 220", got.Run.Outcome, got.Run.Validity)
	}
}

// TestMergeInterruptedWorker: a worker the user stopped ran part of its
// segment, so the merged run is aborted (105) and judges nothing, even
// where the merged data crosses a threshold.
func TestMergeInterruptedWorker(t *testing.T) {
	f := parse(t, mergeYAML)
	ps := parts(t, f, 2, nil)
	ps[1].Summary.Run.Interrupted, ps[1].Summary.Run.Aborted = true, "interrupted"
	_, got, err := engine.Merge(f, ps, engine.Meta{ID: "merged"})
	if err != nil {
		t.Fatal(err)
	}
	got.Run.Decide()
	if o := got.Run.Outcome; !got.Run.Interrupted || o.Status != summary.StatusAborted || o.ExitCode != summary.ExitAborted ||
		!strings.Contains(got.Run.Aborted, "segment 1/2 (out/w1): interrupted") {
		t.Errorf("interrupted %v, aborted %q, outcome %+v; want aborted, 105, naming segment 1/2", got.Run.Interrupted, got.Run.Aborted, o)
	}
}

func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestMergeRefusesIncompatibleRuns(t *testing.T) {
	f := parse(t, mergeYAML)
	for _, tc := range []struct {
		name  string
		parts func([]engine.Part) []engine.Part
		want  []string
	}{
		{"a segment missing", func(p []engine.Part) []engine.Part { return []engine.Part{p[0], p[2]} },
			[]string{"segment 1/3 is missing", "out/w0 (0/3), out/w2 (2/3)"}},
		{"a segment twice", func(p []engine.Part) []engine.Part {
			dup := p[1]
			dup.Source = "elsewhere/w1"
			return []engine.Part{p[0], p[1], dup, p[2]}
		}, []string{"segment 1/3 is given more than once: out/w1, elsewhere/w1"}},
		{"splits of different sizes", func(p []engine.Part) []engine.Part {
			p[1].Summary.Run.Segment = "1/4"
			return p
		}, []string{"out/w0 is segment 0/3 but out/w1 is segment 1/4"}},
		{"not a segment", func(p []engine.Part) []engine.Part {
			p[2].Summary.Run.Segment = ""
			return p
		}, []string{"out/w2 is not an execution segment"}},
		{"another version of the file", func(p []engine.Part) []engine.Part {
			p[1].Summary.Run.FileSHA256 = "def"
			return p
		}, []string{"out/w0 and out/w1 ran different versions"}},
		{"another file", func(p []engine.Part) []engine.Part {
			p[2].Summary.Run.Name = "other"
			return p
		}, []string{`out/w2 ran scenario file "other", not "merge"`}},
		{"histograms of another shape", func(p []engine.Part) []engine.Part {
			p[1].Recorder = record.MustNew(t0, record.Interval(2*time.Second))
			return p
		}, []string{"out/w0 and out/w1", "record: recorders have different options"}},
		{"nothing", func([]engine.Part) []engine.Part { return nil }, []string{"no runs to merge"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := engine.Merge(f, tc.parts(parts(t, f, 3, nil)), engine.Meta{})
			if !errors.Is(err, engine.ErrIncompatible) {
				t.Fatalf("Merge = %v; want ErrIncompatible", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
	if _, _, err := engine.Merge(nil, parts(t, f, 1, nil), engine.Meta{}); err == nil {
		t.Error("Merge without a scenario file: no error")
	}
}

// TestMergeRealSegmentRuns runs a closed-model file of 2 VUs as 4 segments
// through the engine, as harness run -segment does: two workers get no VU
// and run nothing, yet write a valid run, and the merge has exactly the
// whole's iterations.
func TestMergeRealSegmentRuns(t *testing.T) {
	srv := server(t, 0)
	f := parse(t, `
name: pvi
scenarios:
  once:
    executor: per-vu-iterations
    vus: 2
    iterations: 3
    maxDuration: 10s
    journeys: [ping]
journeys:
  ping:
    - {name: ping, request: {method: GET, path: /ping}, check: {status: 200}}
thresholds:
  http_reqs: ["count<5"]
`)
	ps := make([]engine.Part, 4)
	for i := range ps {
		seg := segment.Segment{Index: i, Count: 4}
		wf := executor.Segment(f, seg)
		wf.Thresholds = nil
		res, err := engine.Run(t.Context(), wf, srv.URL, generous)
		if err != nil {
			t.Fatalf("segment %s: %v", seg, err)
		}
		sum := decided(res.Summary(engine.Meta{ID: seg.String(), Segment: seg.String()}))
		if want := int64(seg.Share(2) * 3); sum.Run.Scenarios[0].Iterations != want || !sum.Run.Validity.Valid || sum.Run.Outcome.ExitCode != 0 {
			t.Errorf("segment %s: %+v, validity %+v, outcome %+v; want %d iterations, valid, 0", seg, sum.Run.Scenarios, sum.Run.Validity, sum.Run.Outcome, want)
		}
		var buf bytes.Buffer
		if err := res.Recorder.Encode(&buf); err != nil {
			t.Fatal(err)
		}
		rec, err := record.Decode(&buf)
		if err != nil {
			t.Fatal(err)
		}
		ps[i] = engine.Part{Source: "w" + seg.String(), Summary: sum, Recorder: rec}
	}
	_, got, err := engine.Merge(f, ps, engine.Meta{ID: "merged"})
	if err != nil {
		t.Fatal(err)
	}
	got.Run.Decide()
	if n := got.Metrics["http_reqs"].Values["count"]; n != 6 || got.Run.Scenarios[0].Iterations != 6 || got.Run.Scenarios[0].VUsMax != 2 {
		t.Errorf("merged: %v requests, %+v; want the whole's 6 iterations of 2 VUs", n, got.Run.Scenarios)
	}
	if got.Run.Outcome.ExitCode != summary.ExitCrossed {
		t.Errorf("merged outcome %+v; want count<5 crossed (99)", got.Run.Outcome)
	}
}
