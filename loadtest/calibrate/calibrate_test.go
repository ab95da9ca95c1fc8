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
	for _, want := range []string{"calibration of tour: 5 runs in 1m30s", "2 regression(s) called in 5 pairs: a false-positive rate of 40.0% at -min-effect 0.1",
		"1 of 2 regressions caught (50.0%)", "a p95 regression of 38.3% or more is called", "suggested -min-effect 0.31"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("text lacks %q:\n%s", want, b.String())
		}
	}
}
