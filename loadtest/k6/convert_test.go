package k6_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/taskready/taskready/loadtest/k6"
	"github.com/taskready/taskready/loadtest/summary"
)

// Both fixtures through the import: the passing run gates 0, the crossed
// one 99 on exactly k6's crossed threshold, from the export, the stream,
// or both.
func TestSummaryGatesAsK6Did(t *testing.T) {
	for _, tc := range []struct {
		dir  string
		code int
	}{{"passing", summary.ExitPass}, {"threshold-crossed", summary.ExitCrossed}} {
		for _, inputs := range []string{"export", "stream", "both"} {
			t.Run(tc.dir+"/"+inputs, func(t *testing.T) {
				var exp *k6.SummaryExport
				var st *k6.Stream
				if inputs != "stream" {
					f, err := os.Open(filepath.Join("testdata", "k6", tc.dir, "summary-export.json"))
					if err != nil {
						t.Fatal(err)
					}
					defer f.Close()
					if exp, err = k6.ReadSummaryExport(f); err != nil {
						t.Fatal(err)
					}
				}
				if inputs != "export" {
					f, err := os.Open(filepath.Join("testdata", "k6", tc.dir, "samples.ndjson.gz"))
					if err != nil {
						t.Fatal(err)
					}
					defer f.Close()
					if st, err = k6.ReadStream(f); err != nil {
						t.Fatal(err)
					}
				}
				s, err := k6.Summary(exp, st, tc.dir)
				if err != nil {
					t.Fatal(err)
				}
				s.Run.Decide()
				want := tc.code
				if inputs == "stream" {
					// The stream declares only whole-metric thresholds,
					// and the crossed one is on a sub-metric.
					want = summary.ExitPass
				}
				if s.Run.Outcome.ExitCode != want || s.Run.Engine != "k6" {
					t.Fatalf("outcome %+v; want exit %d", s.Run.Outcome, want)
				}
				if inputs != "stream" {
					if n := len(s.Run.Thresholds); n != 4 {
						t.Errorf("%d thresholds, want the 4 of the script", n)
					}
					for _, th := range s.Run.Thresholds {
						crossed := th.Metric == "http_req_duration{endpoint:create}" && tc.code == summary.ExitCrossed
						if th.Passed == crossed || th.Observed == nil {
							t.Errorf("threshold %+v: want crossed=%v with its observed value", th, crossed)
						}
					}
					if c := s.RootGroup.Groups["create and delete"].Checks["create 201"]; c == nil || c.Passes == 0 {
						t.Errorf("checks not carried over: %+v", s.RootGroup)
					}
				}
				if inputs != "export" && (len(s.Run.Endpoints) == 0 || len(s.Run.Series) == 0) {
					t.Errorf("a stream must give breakdowns and a series: %d endpoints, %d points", len(s.Run.Endpoints), len(s.Run.Series))
				}
				// iteration_duration comes from either: k6's own numbers
				// from the export, the recorder's from the stream, which
				// also breaks it down (the fixtures' script tags no
				// journey, so per scenario).
				it := s.Metrics["iteration_duration"]
				if it.Values["min"] < 14 || it.Values["max"] > 270 || it.Values["p(95)"] < 140 || it.Values["p(95)"] > 160 {
					t.Errorf("iteration_duration %+v", it.Values)
				}
				if inputs == "stream" {
					var n int64
					for _, j := range s.Run.Journeys {
						n += j.Iterations
						if j.Journey != "" || j.Scenario == "" {
							t.Errorf("journey %+v; want one per scenario, untagged", j)
						}
					}
					if iters := s.Run.Scenarios[0].Iterations; len(s.Run.Journeys) < 2 || n != iters {
						t.Errorf("journeys %+v: %d iterations; want the run's %d", s.Run.Journeys, n, iters)
					}
				}
			})
		}
	}
}

func TestSummaryNeedsInput(t *testing.T) {
	if _, err := k6.Summary(nil, nil, "x"); err == nil {
		t.Error("Summary(nil, nil) must fail")
	}
}

// Results that measured nothing are an error, not a verdict: k6 passes a
// threshold without data, and a gate on them would pass on nothing.
func TestSummaryRefusesNoData(t *testing.T) {
	read := func(in string) *k6.SummaryExport {
		t.Helper()
		exp, err := k6.ReadSummaryExport(strings.NewReader(in))
		if err != nil {
			t.Fatal(err)
		}
		return exp
	}
	empty, err := k6.ReadStream(strings.NewReader(""))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		exp  *k6.SummaryExport
		st   *k6.Stream
	}{
		{"no http_reqs", read(`{"metrics": {"vus": {"value": 1, "min": 1, "max": 1}, "iterations": {"count": 0, "rate": 0}}}`), nil},
		{"zero http_reqs", read(`{"metrics": {"http_reqs": {"count": 0, "rate": 0}, "http_req_failed": {"passes": 0, "fails": 0, "value": 0, "thresholds": {"rate<0.01": false}}}}`), nil},
		{"an empty stream", nil, empty},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sum, err := k6.Summary(tc.exp, tc.st, "x")
			if !errors.Is(err, k6.ErrNoData) {
				t.Fatalf("Summary = %+v, %v; want ErrNoData", sum, err)
			}
			if !strings.Contains(err.Error(), "no HTTP request") {
				t.Errorf("error %q; want it to say there was no request", err)
			}
		})
	}
}
