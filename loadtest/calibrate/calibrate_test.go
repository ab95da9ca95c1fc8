package calibrate_test

import (
	"bytes"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/taskready/taskready/loadtest/calibrate"
	"github.com/taskready/taskready/loadtest/compare"
)

// Summarize counts the regressions called in each kind of pair, spreads
// the A runs' numbers, and derives the detectable effect and the
// suggested minimum effect from the A/A noise.
func TestSummarize(t *testing.T) {
	runs := []calibrate.Run{
		{Kind: "A", P95: 10, ErrorRate: 0, Load: 1}, {Kind: "A", P95: 11, ErrorRate: 0.01, Load: 2},
		{Kind: "B", P95: 14, Load: 3}, {Kind: "A", P95: 12, Load: 1.5}, {Kind: "A", P95: 9, Load: 1},
	}
	aa := func(change, low, high float64, v compare.Verdict) calibrate.Pair {
		p := calibrate.Pair{Kind: "A/A", Verdict: v, Change: change, Low: low, High: high}
		if low > 0 || high < 0 {
			p.Floor = math.Abs(change)
		}
		return p
	}
	pairs := []calibrate.Pair{
		aa(0.10, -0.02, 0.22, compare.Inconclusive), aa(-0.25, -0.4, -0.1, compare.Improvement),
		aa(0.02, -0.05, 0.09, compare.NoChange), aa(math.Inf(1), math.NaN(), math.NaN(), compare.Regression),
		{Kind: "A/A", Verdict: compare.Regression, Change: 0.01, Low: -0.3, High: 0.3, Floor: 0.3}, // an endpoint's row regressed
		{Kind: "A/B", Verdict: compare.Regression, Change: 0.27}, {Kind: "A/B", Verdict: compare.Inconclusive, Change: 0.21},
	}
	r := calibrate.Summarize("tour", 0.10, runs, pairs, 90*time.Second)
	if r.AA.Pairs != 5 || r.AA.Regressions != 2 || r.AA.Rate != 0.4 {
		t.Errorf("A/A = %+v; want 2 of 5", r.AA)
	}
	if r.AB == nil || r.AB.Pairs != 2 || r.AB.Regressions != 1 || *r.ABChange != 0.24 {
		t.Errorf("A/B = %+v (change %v); want 1 of 2, median change 0.24", r.AB, r.ABChange)
	}
	if r.P95.Min != 9 || r.P95.Max != 12 || r.P95.Median != 10.5 || r.ErrorRate.Max != 0.01 || r.Load.Max != 3 {
		t.Errorf("spreads: p95 %+v, errors %+v, load %+v; want 9–12 (median 10.5) over the A runs, errors up to 1%%, load up to 3", r.P95, r.ErrorRate, r.Load)
	}
	// The improvement's whole-run row and the last pair's endpoint row
	// exclude 0: at -min-effect 0.31 no A/A row would have been called a
	// change.
	if math.Abs(r.Suggested-0.31) > 1e-9 {
		t.Errorf("suggested = %v; want 0.31", r.Suggested)
	}
	// Detectable: max(half width, 0.10) - change per finite pair is 0.02,
	// 0.40, 0.08 and 0.29; their 95th percentile is 0.3835.
	if math.Abs(r.Detectable-0.3835) > 1e-9 {
		t.Errorf("detectable = %v; want 0.3835", r.Detectable)
	}
	var b bytes.Buffer
	if err := r.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"calibration of tour: 5 runs in 1m30s, each on a new environment", "2 regression(s) called in 5 pairs: a false-positive rate of 40.0% at -min-effect 0.1",
		"1 of 2 regressions caught (50.0%)", "a p95 regression of 38.3% or more is called", "suggested -min-effect 0.31"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("text lacks %q:\n%s", want, b.String())
		}
	}
}

// The run-to-run noise is what the A/A pairs differ by beyond their own
// intervals: half the mean of c²-s² over them, s the interval's half
// width over 1.96.
func TestEstimateRunNoise(t *testing.T) {
	const z = 1.959964
	aa := func(change, s float64) calibrate.Pair {
		return calibrate.Pair{Kind: "A/A", Change: change, Low: change - z*s, High: change + z*s}
	}
	pairs := []calibrate.Pair{
		aa(0.10, 0.02), aa(-0.14, 0.02), // c²-s²: 0.0096, 0.0192
		{Kind: "A/B", Change: 0.5, Low: 0.4, High: 0.6}, // not of one build
		aa(0.02, 0.03),       // -0.0005
		aa(math.NaN(), 0.02), // no interval: left out
	}
	want := math.Sqrt((0.0096 + 0.0192 - 0.0005) / 3 / 2)
	if got := calibrate.EstimateRunNoise(pairs); math.Abs(got-want) > 1e-9 {
		t.Errorf("EstimateRunNoise = %v; want %v", got, want)
	}
	if got, want := calibrate.EstimateRunNoise(pairs, 1), math.Sqrt((0.0096-0.0005)/2/2); math.Abs(got-want) > 1e-9 {
		t.Errorf("EstimateRunNoise leaving out the second pair = %v; want %v", got, want)
	}
	// Pairs that differ less than their intervals say show no such noise.
	if got := calibrate.EstimateRunNoise([]calibrate.Pair{aa(0.01, 0.05), aa(-0.02, 0.05)}); got != 0 {
		t.Errorf("EstimateRunNoise of pairs within their intervals = %v; want 0", got)
	}
	if got := calibrate.EstimateRunNoise(nil); got != 0 {
		t.Errorf("EstimateRunNoise of no pairs = %v; want 0", got)
	}
}

// A result judged with the run noise says so, and what was called
// without it.
func TestWriteTextRunNoise(t *testing.T) {
	r := calibrate.Summarize("gate", 0.10, []calibrate.Run{{Kind: "A", P95: 7}, {Kind: "A", P95: 8}},
		[]calibrate.Pair{{Kind: "A/A", Verdict: compare.Inconclusive, Change: 0.14, Low: 0.05, High: 0.23}}, time.Minute)
	r.RunNoise = 0.061
	r.Unwidened = &calibrate.Unwidened{AA: calibrate.Called{Pairs: 1, Regressions: 1, Rate: 1}}
	var b bytes.Buffer
	if err := r.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"run-to-run noise      ±6.1% of p95", "judged without it     1 of 1 A/A called a regression", "0 regression(s) called in 1 pairs"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("text lacks %q:\n%s", want, b.String())
		}
	}
}

// The suggestion is in whole percents, printed as such: a floor of 9.9%
// suggests 0.1, not 0.09999999999999999.
func TestSuggestedIsWholePercents(t *testing.T) {
	pairs := []calibrate.Pair{{Kind: "A/A", Verdict: compare.Inconclusive, Change: -0.099, Low: -0.15, High: -0.02, Floor: 0.099}}
	r := calibrate.Summarize("gate", 0.10, []calibrate.Run{{Kind: "A", P95: 7}, {Kind: "A", P95: 6.3}}, pairs, time.Minute)
	var b bytes.Buffer
	if err := r.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	if r.Suggested != 0.1 || !strings.Contains(b.String(), "suggested -min-effect 0.1 (") {
		t.Errorf("suggested %v:\n%s", r.Suggested, b.String())
	}
}
