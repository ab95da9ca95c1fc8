package rundir

import (
	"fmt"
	"math"

	"github.com/taskready/taskready/loadtest/compare"
	"github.com/taskready/taskready/loadtest/summary"
)

// Compare compares r's histograms with those of the run at baseline (a
// run directory, its summary.json or its histograms) and puts the
// comparison into r's summary. It does not decide the outcome: Write does,
// once, with the comparison among its inputs.
func (r *Run) Compare(baseline string, opts ...compare.Option) error {
	old, err := ReadRecorder(baseline)
	if err != nil {
		return fmt.Errorf("baseline: %w", err)
	}
	if r.Recorder == nil {
		return fmt.Errorf("compare with %s: the run has no histograms", baseline)
	}
	rep, err := compare.Compare(old, r.Recorder, opts...)
	if err != nil {
		return fmt.Errorf("compare with %s: %w", baseline, err)
	}
	r.Summary.Run.Comparison = Comparison(baseline, rep)
	return nil
}

// Comparison maps a comparison with the run at baseline into the
// summary's form.
func Comparison(baseline string, rep compare.Report) *summary.Comparison {
	c := &summary.Comparison{Baseline: baseline, Verdict: string(rep.Verdict)}
	for _, r := range rep.Rows {
		c.Rows = append(c.Rows, summary.ComparisonRow{
			Name: r.Scope(), Metric: r.Metric, Unit: r.Unit, Old: r.Old, New: r.New,
			Change: finite(r.Change), Low: finite(r.Low), High: finite(r.High),
			Verdict: string(r.Verdict), Reason: r.Reason,
		})
	}
	return c
}

// finite keeps NaN and ±Inf, which JSON cannot carry, out of the summary.
func finite(v float64) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0
	}
	return v
}
