package compare

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/taskready/taskready/loadtest/record"
)

// Verdict is the outcome of a comparison.
type Verdict string

// The verdicts, from the most to the least alarming.
const (
	// Regression: the new run is worse, beyond noise and beyond the minimum effect.
	Regression Verdict = "regression"
	// Improvement: the new run is better, beyond noise and beyond the minimum effect.
	Improvement Verdict = "improvement"
	// NoChange: any change is, with confidence, smaller than the minimum effect.
	NoChange Verdict = "no change"
	// Inconclusive: the data can tell neither a change nor its absence.
	Inconclusive Verdict = "inconclusive"
)

// Row is one comparison: one metric of the whole run or of one Key.
type Row struct {
	// Key is the compared Key, nil for the whole run.
	Key *record.Key
	// Metric names what is compared, such as "p95 latency" or "error rate".
	Metric string
	// Unit is "ms" for a latency and "" for an error rate, a fraction.
	Unit string
	// Old and New are the metric in the baseline and in the new run.
	Old, New float64
	// Change is (New-Old)/Old: ±Inf when Old is 0 and New is not, 0 when both are.
	Change float64
	// Low and High bound the confidence interval of New-Old; NaN when the
	// data were too few to compute one.
	Low, High float64
	// Verdict is the row's outcome, and Reason says why in one line.
	Verdict Verdict
	Reason  string
}

// Scope names what the row compares: "all", or the Key as scenario/endpoint/phase.
func (r Row) Scope() string {
	if r.Key == nil {
		return "all"
	}
	part := func(s string) string {
		if s == "" {
			return "-"
		}
		return s
	}
	return part(r.Key.Scenario) + "/" + part(r.Key.Endpoint) + "/" + part(r.Key.Phase)
}

// Report is the outcome of Compare.
type Report struct {
	// Verdict sums the rows up: Regression if any row regressed, else
	// Inconclusive if any is inconclusive, else Improvement if any
	// improved, else NoChange.
	Verdict Verdict
	// Rows are the whole run's comparisons, then each Key's, by Key.
	Rows []Row
	// OldOnly and NewOnly are the Keys only one run has, which are not compared.
	OldOnly, NewOnly []record.Key

	cfg config
	// noise is the standard deviation of new-old that the run-wide series
	// shows beyond what independent requests explain, which the Keys'
	// intervals add: relative to the percentile for latency, absolute for
	// the error rate. measured is false when the series was too short.
	latNoise, rateNoise float64
	measured            bool
	// keyConfidence is the level of each selection's intervals (keyLevel).
	keyConfidence float64
}

// minIntervals is the fewest non-empty intervals a run needs: with fewer,
// the block bootstrap has too few blocks to say anything about the noise.
const minIntervals = 5

// minTailSamples is the fewest samples a run needs above the percentile
// compared: a percentile is only as good as the tail behind it.
const minTailSamples = 5

// Compare tells whether the run cur regressed against the baseline old:
// their corrected latency percentile and error rate, over the whole run and
// for each Key both have. The recorders must have the same options (an error
// wrapping record.ErrIncompatible otherwise); like Snapshot, Compare must
// not run concurrently with their Add.
func Compare(old, cur *record.Recorder, opts ...Option) (Report, error) {
	cfg := defaultConfig()
	for _, o := range opts {
		o(&cfg)
	}
	if err := cfg.validate(); err != nil {
		return Report{}, err
	}
	if old == nil || cur == nil {
		return Report{}, errNilRecorder
	}
	if err := old.Compatible(cur); err != nil {
		return Report{}, fmt.Errorf("compare: %w", err)
	}
	rep := Report{cfg: cfg}
	so, sc, values := seriesOf(old.Series(), cur.Series())
	rep.runRows(so, sc, values)
	rep.keyRows(old.Snapshot(), cur.Snapshot())
	rep.Verdict = overall(rep.Rows)
	return rep, nil
}

// runRows compares the whole runs by a block bootstrap of their series, and
// measures the noise of time that the Keys' rows add.
func (rep *Report) runRows(so, sc *series, values []float64) {
	lat := rep.latencyRow(nil, so.all, sc.all)
	rate := rep.rateRow(nil, so.totalErr, so.totalReq, sc.totalErr, sc.totalReq)
	if reason := fewIntervals(len(so.requests), len(sc.requests)); reason != "" {
		lat.inconclusive(reason)
		rate.inconclusive(reason)
	} else {
		rep.resampleRuns(so, sc, values, &lat, &rate)
	}
	rep.Rows = append(rep.Rows, lat, rate)
}

func (rep *Report) resampleRuns(so, sc *series, values []float64, lat, rate *Row) {
	cfg := rep.cfg
	r := cfg.resamples
	bo, bc := newReplicates(r), newReplicates(r)
	so.blockResample(cfg.rng("block", "old"), cfg.percentile, values, bo.pct, bo.rate)
	sc.blockResample(cfg.rng("block", "new"), cfg.percentile, values, bc.pct, bc.rate)
	io, ic := make([]float64, r), make([]float64, r)
	so.all.resample(cfg.rng("iid", "old"), cfg.percentile, io)
	sc.all.resample(cfg.rng("iid", "new"), cfg.percentile, ic)
	rep.measured = true

	// The block bootstrap keeps the correlation between neighbouring
	// intervals, which makes a run's percentile vary more than independent
	// requests would; but with few blocks it can also come out narrower by
	// chance, and an interval narrower than independent requests allow is
	// never right. So the wider of the two decides. What the block
	// bootstrap shows beyond independent requests is the noise of time,
	// which the Keys, having no series, add to their own.
	g := fewBlocks(min(len(so.requests), len(sc.requests)), cfg.confidence)
	vb, vi := g*g*(variance(bo.pct)+variance(bc.pct)), variance(io)+variance(ic)
	reps := diffs(io, ic)
	if vb >= vi {
		reps = widen(diffs(bo.pct, bc.pct), (lat.New-lat.Old)*1e3, g)
	}
	level := math.Sqrt(meanSquare(lat.Old*1e3, lat.New*1e3)) // µs
	rep.decideLatency(lat, addNoise(cfg.rng("run noise"), reps, math.Sqrt2*cfg.runNoise*level), cfg.confidence)
	if scale := meanSquare(lat.Old*1e3, lat.New*1e3); scale > 0 {
		rep.latNoise = math.Sqrt(max(0, vb-vi) / scale)
	}

	// The same for the error rate, whose independent-requests bootstrap is
	// also the one that does not collapse when a run has no failure at all.
	vb = g * g * (variance(bo.rate) + variance(bc.rate))
	vi = rateVariance(so.totalErr, so.totalReq) + rateVariance(sc.totalErr, sc.totalReq)
	if vb >= vi {
		rep.decideRate(rate, widen(diffs(bo.rate, bc.rate), rate.New-rate.Old, g), cfg.confidence)
	} else {
		rep.decideRate(rate, rep.rateDiffs(nil, so.totalErr, so.totalReq, sc.totalErr, sc.totalReq, 0, cfg.resamples), cfg.confidence)
	}
	rep.rateNoise = math.Sqrt(max(0, vb-vi))
}

// fewBlocks is the factor that widens the block bootstrap's interval for a
// series of n intervals. Its resamples shuffle only about n/√n blocks, and a
// spread measured from b blocks deserves Student's t with b-1 degrees of
// freedom rather than the normal tails the bootstrap gives (and the b/(b-1)
// of an unbiased variance): ×3.9 at 5 intervals, ×1.37 at 40, ×1.11 at 300,
// ×1.03 at an hour. Without it, identical 60s runs whose latency drifted
// over 10s stretches were called changed in about 20% of pairs; with it,
// 12%.
func fewBlocks(n int, conf float64) float64 {
	b := float64(n) / float64(blockLen(n))
	nu := b - 1
	z := math.Sqrt2 * math.Erfinv(conf)
	return studentQuantile(z, nu) / z * math.Sqrt(b/nu)
}

// studentQuantile returns Student's t quantile with nu degrees of freedom
// at the level of the normal quantile z, by the Cornish-Fisher expansion
// (Abramowitz and Stegun 26.7.5).
func studentQuantile(z, nu float64) float64 {
	z2 := z * z
	g1 := (z2 + 1) * z / 4
	g2 := ((5*z2+16)*z2 + 3) * z / 96
	g3 := (((3*z2+19)*z2+17)*z2 - 15) * z / 384
	g4 := ((((79*z2+776)*z2+1482)*z2-1920)*z2 - 945) * z / 92160
	return z + g1/nu + g2/(nu*nu) + g3/(nu*nu*nu) + g4/(nu*nu*nu*nu)
}

// keyRows compares each Key both runs have, by an independent-requests
// bootstrap of its run-wide histogram, plus the noise of time the series
// showed.
//
// That noise is added, not multiplied: a slow spell slows every Key alike,
// so its share of a Key's percentile does not shrink with the Key's share
// of the requests, while the independent-requests part grows as the Key
// gets fewer. A latency spell is taken as proportional to the latency.
func (rep *Report) keyRows(so, sc record.Snapshot) {
	cfg := rep.cfg
	cur := make(map[record.Key]record.Stats, len(sc.Keys))
	for _, ks := range sc.Keys {
		cur[ks.Key] = ks.Stats
	}
	conf, r := rep.keyLevel(so, cur)
	for _, ks := range so.Keys {
		cs, ok := cur[ks.Key]
		if !ok {
			rep.OldOnly = append(rep.OldOnly, ks.Key)
			continue
		}
		delete(cur, ks.Key)
		k := &ks.Key
		ho, hc := histOf(ks.Stats.Corrected), histOf(cs.Corrected)
		lat := rep.latencyRow(k, ho, hc)
		rate := rep.rateRow(k, ks.Stats.Failures, ks.Stats.Count, cs.Failures, cs.Count)
		switch {
		case !rep.measured:
			const reason = "too few intervals to measure the run's noise"
			lat.inconclusive(reason)
			rate.inconclusive(reason)
		default:
			if lat.Verdict == "" {
				io, ic := make([]float64, r), make([]float64, r)
				ho.resample(cfg.rng("key", k.Scenario, k.Endpoint, k.Phase, "old"), cfg.percentile, io)
				hc.resample(cfg.rng("key", k.Scenario, k.Endpoint, k.Phase, "new"), cfg.percentile, ic)
				// The series' noise is of new-old already; the runs'
				// own is each run's, so twice its variance.
				rel := math.Sqrt(rep.latNoise*rep.latNoise + 2*cfg.runNoise*cfg.runNoise)
				sd := rel * math.Sqrt(meanSquare(lat.Old*1e3, lat.New*1e3)) // µs
				rep.decideLatency(&lat, addNoise(cfg.rng("key", k.Scenario, k.Endpoint, k.Phase, "noise"), diffs(io, ic), sd), conf)
			}
			rep.decideRate(&rate, rep.rateDiffs(k, ks.Stats.Failures, ks.Stats.Count, cs.Failures, cs.Count, rep.rateNoise, r), conf)
		}
		rep.Rows = append(rep.Rows, lat, rate)
	}
	for _, ks := range sc.Keys {
		if _, ok := cur[ks.Key]; ok {
			rep.NewOnly = append(rep.NewOnly, ks.Key)
		}
	}
}

// keyLevel is the confidence of each selection's rows and the resamples
// it needs. Every selection gets two rows, and a report that calls a
// regression when any row does would, with m rows at 95% each, call
// noise a regression up to m times as often as one row: so each row is
// judged at 1-5%/m (Bonferroni), which keeps the selections together
// within the 5% the whole run's rows get. Its tails need more resamples,
// minTail beyond each bound.
func (rep *Report) keyLevel(so record.Snapshot, cur map[record.Key]record.Stats) (float64, int) {
	n := 0
	for _, ks := range so.Keys {
		if _, ok := cur[ks.Key]; ok {
			n++
		}
	}
	cfg := rep.cfg
	if n == 0 {
		return cfg.confidence, cfg.resamples
	}
	alpha := (1 - cfg.confidence) / float64(2*n)
	rep.keyConfidence = 1 - alpha
	return rep.keyConfidence, max(cfg.resamples, int(math.Ceil(2*minTail/alpha)))
}

// latencyRow returns the latency row's point estimates, already
// inconclusive when a run has too few samples for the percentile.
func (rep *Report) latencyRow(k *record.Key, ho, hc hist) Row {
	p := rep.cfg.percentile
	row := Row{Key: k, Metric: fmt.Sprintf("p%g latency", p), Unit: "ms", Low: math.NaN(), High: math.NaN()}
	need := int64(math.Ceil(minTailSamples/(1-p/100) - 1e-9))
	for _, r := range []struct {
		name string
		h    hist
		v    *float64
	}{{"baseline", ho, &row.Old}, {"new run", hc, &row.New}} {
		n := r.h.total()
		if n > 0 {
			*r.v = r.h.atRank(rank(p, n)) / 1e3
		}
		if n < need && row.Verdict == "" {
			row.inconclusive(fmt.Sprintf("%s has %d requests, p%g needs %d", r.name, n, p, need))
		}
	}
	row.Change = relative(row.Old, row.New)
	return row
}

// rateRow returns the error-rate row's point estimates, already
// inconclusive when a run has no request.
func (rep *Report) rateRow(k *record.Key, fo, no, fc, nc int64) Row {
	row := Row{Key: k, Metric: "error rate", Low: math.NaN(), High: math.NaN()}
	if no > 0 {
		row.Old = float64(fo) / float64(no)
	}
	if nc > 0 {
		row.New = float64(fc) / float64(nc)
	}
	row.Change = relative(row.Old, row.New)
	switch {
	case no == 0:
		row.inconclusive("baseline has no requests")
	case nc == 0:
		row.inconclusive("new run has no requests")
	}
	return row
}

// rateDiffs returns replicates of the difference of two failure rates,
// plus normal noise of standard deviation sd.
func (rep *Report) rateDiffs(k *record.Key, fo, no, fc, nc int64, sd float64, r int) []float64 {
	name := []string{"rate"}
	if k != nil {
		name = append(name, k.Scenario, k.Endpoint, k.Phase)
	}
	ro, rc := make([]float64, r), make([]float64, r)
	rateResample(rep.cfg.rng(append(name, "old")...), fo, no, ro)
	rateResample(rep.cfg.rng(append(name, "new")...), fc, nc, rc)
	return addNoise(rep.cfg.rng(append(name, "noise")...), diffs(ro, rc), sd)
}

// decideLatency sets the row's interval and verdict from replicates of
// New-Old in microseconds. The threshold is the larger of the relative and
// the absolute minimum effect.
func (rep *Report) decideLatency(row *Row, d []float64, conf float64) {
	if row.Verdict != "" {
		return
	}
	cfg := rep.cfg
	lo, hi := interval(d, conf)
	row.Low, row.High = lo/1e3, hi/1e3
	thr := cfg.minEffect * row.Old
	why := fmt.Sprintf("%g%% of the baseline", 100*cfg.minEffect)
	if abs := float64(cfg.minAbsolute) / float64(time.Millisecond); abs > thr {
		thr, why = abs, "the absolute minimum"
	}
	row.decide(thr, unsigned(formatMs(thr))+" ("+why+")", formatMs)
}

// decideRate sets the row's interval and verdict from replicates of New-Old.
func (rep *Report) decideRate(row *Row, d []float64, conf float64) {
	if row.Verdict != "" {
		return
	}
	row.Low, row.High = interval(d, conf)
	thr := rep.cfg.minRateEffect
	row.decide(thr, unsigned(formatPoints(thr)), formatPoints)
}

// decide sets the verdict from the point estimate and the interval, against
// the threshold thr (in the row's unit, described by what): a change counts
// when the interval excludes zero and the estimate exceeds thr; its absence
// when the whole interval lies within ±thr (a test of equivalence: a small
// but certain change is no change); anything else is inconclusive.
func (r *Row) decide(thr float64, what string, format func(float64) string) {
	d := r.New - r.Old
	switch {
	case r.Low > 0 && d > thr:
		r.Verdict = Regression
		r.Reason = fmt.Sprintf("%s exceeds the threshold of %s, and the CI excludes 0", format(d), what)
	case r.High < 0 && d < -thr:
		r.Verdict = Improvement
		r.Reason = fmt.Sprintf("%s exceeds the threshold of %s, and the CI excludes 0", format(d), what)
	case r.Low >= -thr && r.High <= thr:
		r.Verdict = NoChange
		r.Reason = fmt.Sprintf("the CI lies within ±%s", what)
	case r.Low > 0 || r.High < 0:
		r.Verdict = Inconclusive
		r.Reason = fmt.Sprintf("the CI excludes 0 but not that the change is within ±%s", what)
	default:
		r.Verdict = Inconclusive
		r.Reason = fmt.Sprintf("the CI includes 0 and reaches beyond ±%s: too noisy to tell", what)
	}
}

func (r *Row) inconclusive(reason string) {
	r.Verdict, r.Reason = Inconclusive, reason
}

func fewIntervals(no, nc int) string {
	switch {
	case no < minIntervals:
		return fmt.Sprintf("baseline has %d non-empty intervals, %d needed", no, minIntervals)
	case nc < minIntervals:
		return fmt.Sprintf("new run has %d non-empty intervals, %d needed", nc, minIntervals)
	}
	return ""
}

func overall(rows []Row) Verdict {
	has := func(v Verdict) bool {
		return slices.ContainsFunc(rows, func(r Row) bool { return r.Verdict == v })
	}
	switch {
	case has(Regression):
		return Regression
	case has(Inconclusive):
		return Inconclusive
	case has(Improvement):
		return Improvement
	}
	return NoChange
}

type replicates struct{ pct, rate []float64 }

func newReplicates(n int) replicates {
	return replicates{make([]float64, n), make([]float64, n)}
}

// diffs returns the replicates of new-old, pairing independent resamples.
func diffs(old, cur []float64) []float64 {
	out := make([]float64, len(old))
	for i := range out {
		out[i] = cur[i] - old[i]
	}
	return out
}

// widen scales the replicates' deviations from the point estimate d by f.
func widen(reps []float64, d, f float64) []float64 {
	for i, x := range reps {
		reps[i] = d + f*(x-d)
	}
	return reps
}

// addNoise adds to each replicate an independent normal deviate of
// standard deviation sd.
func addNoise(rng *rand.Rand, reps []float64, sd float64) []float64 {
	if sd > 0 {
		for i := range reps {
			reps[i] += sd * rng.NormFloat64()
		}
	}
	return reps
}

func meanSquare(a, b float64) float64 { return (a*a + b*b) / 2 }

// interval returns the percentile bootstrap confidence interval of level
// conf from the replicates.
func interval(reps []float64, conf float64) (lo, hi float64) {
	s := slices.Clone(reps)
	slices.Sort(s)
	alpha := (1 - conf) / 2
	i := int(math.Floor(alpha * float64(len(s))))
	j := int(math.Ceil((1-alpha)*float64(len(s)))) - 1
	return s[min(i, len(s)-1)], s[max(min(j, len(s)-1), 0)]
}

func relative(old, cur float64) float64 {
	switch {
	case old != 0:
		return (cur - old) / old
	case cur > 0:
		return math.Inf(1)
	case cur < 0:
		return math.Inf(-1)
	}
	return 0
}
