// Package calibrate measures what the comparison of two runs can tell
// apart on one machine: run the same build against itself (A/A pairs)
// and, optionally, against a build made slower on purpose (A/B pairs),
// compare each pair as harness run -baseline would, and sum up how often
// noise was called a regression, how often a real regression was caught,
// how much p95 and the error rate wander from run to run, and the
// smallest effect the comparison detects with 95% confidence here.
//
// A shared CI runner is noisier than a laptop; a comparison gate is only
// as good as its minimum effect is for the machine it runs on. Result
// suggests one.
package calibrate

import (
	"cmp"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/taskready/taskready/loadtest/compare"
)

// Run is one run's numbers.
type Run struct {
	Kind      string  `json:"kind"` // "A" or "B"
	P95       float64 `json:"p95_ms"`
	ErrorRate float64 `json:"error_rate"`
	// Load is the machine's one-minute load average when the run ended.
	Load float64 `json:"load1"`
}

// Pair is one comparison: the whole run's p95 row of compare.Report.
type Pair struct {
	Kind    string          `json:"kind"` // "A/A" or "A/B"
	Verdict compare.Verdict `json:"verdict"`
	// Change is the relative change of p95, (new-old)/old; Low and High
	// bound the confidence interval of new-old, relative to old.
	Change    float64 `json:"change"`
	Low, High float64 `json:"-"`
	LowRel    float64 `json:"ci_low"`
	HighRel   float64 `json:"ci_high"`
	// Floor is the smallest minimum effect at which no latency row of
	// the comparison, the whole run's or a selection's, would have been
	// called a change: the largest |change| among the rows whose
	// interval excludes 0.
	Floor float64 `json:"floor"`
}

// Unwidened counts the regressions called before the intervals were
// widened by the run-to-run noise.
type Unwidened struct {
	AA Called  `json:"aa"`
	AB *Called `json:"ab,omitempty"`
}

// EstimateRunNoise is the run-to-run noise the A/A pairs among pairs show,
// leaving out those at the indices skip: a pair of one build differs by
// c, whose variance is its runs' own (the interval's, s² with s its half
// width over 1.96) plus twice the noise between runs, r², so r² is half
// the mean of c²-s² (0 when that is negative). Pairs without a finite
// interval are left out too.
func EstimateRunNoise(pairs []Pair, skip ...int) float64 {
	var sum float64
	n := 0
	for i, p := range pairs {
		if p.Kind != "A/A" || slices.Contains(skip, i) || !finiteAll(p.Change, p.Low, p.High) || p.High <= p.Low {
			continue
		}
		s := (p.High - p.Low) / 2 / 1.959964
		sum += p.Change*p.Change - s*s
		n++
	}
	if n == 0 || sum <= 0 {
		return 0
	}
	return math.Sqrt(sum / float64(n) / 2)
}

// Count counts the pairs of each kind and the regressions called among
// them; ab is nil without A/B pairs.
func Count(pairs []Pair) (aa Called, ab *Called) {
	var b Called
	for _, p := range pairs {
		c := &aa
		if p.Kind == "A/B" {
			c = &b
		}
		c.Pairs++
		if p.Verdict == compare.Regression {
			c.Regressions++
		}
	}
	aa.Rate = rate(aa)
	if b.Pairs > 0 {
		b.Rate = rate(b)
		ab = &b
	}
	return aa, ab
}

// PairOf is the pair a comparison report makes.
func PairOf(kind string, rep compare.Report) Pair {
	p := Pair{Kind: kind, Verdict: rep.Verdict, Low: math.NaN(), High: math.NaN()}
	for _, r := range rep.Rows {
		if r.Unit != "ms" {
			continue
		}
		if (r.Low > 0 || r.High < 0) && finiteAll(r.Change) {
			p.Floor = max(p.Floor, math.Abs(r.Change))
		}
		if r.Key == nil {
			p.Change = r.Change
			if r.Old > 0 {
				p.Low, p.High = r.Low/r.Old, r.High/r.Old
			}
		}
	}
	p.LowRel, p.HighRel = finite(p.Low), finite(p.High)
	return p
}

// Spread is how a number varied over the runs.
type Spread struct {
	Min    float64 `json:"min"`
	Median float64 `json:"median"`
	Max    float64 `json:"max"`
	// CV is the coefficient of variation: the standard deviation over the
	// mean (0 for fewer than two runs or a zero mean).
	CV float64 `json:"cv"`
}

// Called counts the pairs of one kind and the regressions called among
// them.
type Called struct {
	Pairs       int     `json:"pairs"`
	Regressions int     `json:"regressions"`
	Rate        float64 `json:"rate"` // Regressions/Pairs
}

// Result is a calibration's outcome.
type Result struct {
	Scenario  string  `json:"scenario"`
	MinEffect float64 `json:"min_effect"`
	// AA is the false positives: regressions called between runs of the
	// same build. AB is the power: regressions caught (nil without A/B).
	AA Called  `json:"aa"`
	AB *Called `json:"ab,omitempty"`
	// ABChange is the median p95 change the A/B pairs measured.
	ABChange *float64 `json:"ab_change,omitempty"`
	// P95 (ms) and ErrorRate are over the A runs.
	P95       Spread `json:"p95_ms"`
	ErrorRate Spread `json:"error_rate"`
	// Detectable is the smallest relative p95 regression the comparison
	// calls in 95% of pairs on this machine: a true change δ measured
	// with an A/A pair's error ε and half width h is called when δ+ε-h
	// > 0 (the interval excludes 0) and δ+ε > MinEffect, so it is the
	// 95th percentile of max(h, MinEffect) - ε over the A/A pairs.
	Detectable float64 `json:"detectable"`
	// Suggested is the -min-effect to use here: the smallest, in whole
	// percents, at which no latency row of any A/A pair would have been
	// called a change (Pair.Floor), and at least 1%.
	Suggested float64 `json:"suggested_min_effect"`
	// RunNoise is how much the p95 of one build varies from run to run
	// beyond what each run's own interval shows: a relative standard
	// deviation, from the A/A pairs (see EstimateRunNoise). When it is
	// positive and was not fixed with -run-noise, every pair above was
	// judged again with it, each with the noise measured on the other
	// pairs; Unwidened then counts the pairs called without it.
	RunNoise  float64    `json:"run_noise"`
	Unwidened *Unwidened `json:"unwidened,omitempty"`
	// Reused says the runs shared one environment; otherwise each had a
	// new one, as each CI job's run does.
	Reused  bool    `json:"reused_environment"`
	Runs    []Run   `json:"runs"`
	Pairs   []Pair  `json:"pairs"`
	Load    Spread  `json:"load1"`
	Seconds float64 `json:"seconds"`
}

// Summarize sums up runs and pairs compared at minEffect.
func Summarize(scenario string, minEffect float64, runs []Run, pairs []Pair, took time.Duration) Result {
	r := Result{Scenario: scenario, MinEffect: minEffect, Runs: runs, Pairs: pairs, Seconds: took.Seconds()}
	var p95, errs, load, need []float64
	for _, run := range runs {
		load = append(load, run.Load)
		if run.Kind == "A" {
			p95, errs = append(p95, run.P95), append(errs, run.ErrorRate)
		}
	}
	var abChanges []float64
	floor := 0.0
	for _, p := range pairs {
		switch p.Kind {
		case "A/A":
			floor = max(floor, p.Floor)
			if !finiteAll(p.Change, p.Low, p.High) {
				continue
			}
			need = append(need, max((p.High-p.Low)/2, minEffect)-p.Change)
		case "A/B":
			abChanges = append(abChanges, p.Change)
		}
	}
	r.AA, r.AB = Count(pairs)
	if r.AB != nil {
		m := spread(abChanges).Median
		r.ABChange = &m
	}
	r.P95, r.ErrorRate, r.Load = spread(p95), spread(errs), spread(load)
	// Whole percents: 0.09+0.01 in floating point prints as 0.0999….
	r.Suggested = max(math.Floor(floor*100)+1, 1) / 100
	r.Detectable = max(quantile(need, 0.95), minEffect)
	return r
}

// finiteAll reports whether every x is a number.
func finiteAll(xs ...float64) bool {
	for _, x := range xs {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return false
		}
	}
	return true
}

func rate(c Called) float64 {
	if c.Pairs == 0 {
		return 0
	}
	return float64(c.Regressions) / float64(c.Pairs)
}

// spread is the spread of xs.
func spread(xs []float64) Spread {
	if len(xs) == 0 {
		return Spread{}
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	out := Spread{Min: s[0], Max: s[len(s)-1], Median: quantile(s, 0.5)}
	var sum, sq float64
	for _, x := range s {
		sum += x
	}
	mean := sum / float64(len(s))
	for _, x := range s {
		sq += (x - mean) * (x - mean)
	}
	if len(s) > 1 && mean != 0 {
		out.CV = math.Sqrt(sq/float64(len(s)-1)) / math.Abs(mean)
	}
	return out
}

// quantile is the q quantile of xs by linear interpolation, 0 for none.
func quantile(xs []float64, q float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.SortFunc(s, cmp.Compare[float64])
	pos := q * float64(len(s)-1)
	lo := int(math.Floor(pos))
	hi := min(lo+1, len(s)-1)
	return s[lo] + (s[hi]-s[lo])*(pos-float64(lo))
}

func finite(x float64) float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return 0
	}
	return x
}

// WriteText writes the result for a terminal.
func (r Result) WriteText(w io.Writer) error {
	var b strings.Builder
	pct := func(x float64) string { return fmt.Sprintf("%.1f%%", 100*x) }
	envs := "each on a new environment"
	if r.Reused {
		envs = "all on one environment"
	}
	fmt.Fprintf(&b, "calibration of %s: %d runs in %s, %s, load average %.1f–%.1f (median %.1f)\n",
		r.Scenario, len(r.Runs), (time.Duration(r.Seconds) * time.Second).String(), envs, r.Load.Min, r.Load.Max, r.Load.Median)
	fmt.Fprintf(&b, "  p95 of the A runs     %.2fms – %.2fms (median %.2fms, CV %s)\n", r.P95.Min, r.P95.Max, r.P95.Median, pct(r.P95.CV))
	fmt.Fprintf(&b, "  error rate            %s – %s (median %s)\n", pct(r.ErrorRate.Min), pct(r.ErrorRate.Max), pct(r.ErrorRate.Median))
	if r.RunNoise > 0 {
		fmt.Fprintf(&b, "  run-to-run noise      ±%s of p95 between runs of one build, beyond each run's own interval (1 sd)\n", pct(r.RunNoise))
	}
	if u := r.Unwidened; u != nil {
		ab := ""
		if u.AB != nil {
			ab = fmt.Sprintf(", %d of %d A/B", u.AB.Regressions, u.AB.Pairs)
		}
		fmt.Fprintf(&b, "  judged without it     %d of %d A/A%s called a regression; below, each pair is judged with the noise the other pairs measured\n",
			u.AA.Regressions, u.AA.Pairs, ab)
	}
	fmt.Fprintf(&b, "  A/A pairs             %d regression(s) called in %d pairs: a false-positive rate of %s at -min-effect %g\n",
		r.AA.Regressions, r.AA.Pairs, pct(r.AA.Rate), r.MinEffect)
	if r.AB != nil {
		fmt.Fprintf(&b, "  A/B pairs             %d of %d regressions caught (%s); the B runs' p95 moved %+.1f%% (median)\n",
			r.AB.Regressions, r.AB.Pairs, pct(r.AB.Rate), 100*deref(r.ABChange))
	}
	fmt.Fprintf(&b, "  detectable            a p95 regression of %s or more is called in 95%% of pairs\n", pct(r.Detectable))
	fmt.Fprintf(&b, "  suggested -min-effect %g (the smallest at which no A/A pair was called a change)\n", r.Suggested)
	_, err := io.WriteString(w, b.String())
	return err
}

func deref(p *float64) float64 {
	if p == nil {
		return 0
	}
	return *p
}
