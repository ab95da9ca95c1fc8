package summary

import (
	"math"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/taskready/taskready/loadtest/record"
	"github.com/taskready/taskready/loadtest/threshold"
)

// Metrics returns the k6 metrics of snap: the built-in HTTP metrics and
// iteration_duration of the whole run, one sub-metric per tagged threshold
// selector, the write ledger's counters when w is not nil, and the
// verdicts of vs in their "thresholds" maps. elapsed is the run's
// duration, which k6 divides counters by for their rates.
func Metrics(snap record.Snapshot, w *Writes, elapsed time.Duration, vs []threshold.Verdict) map[string]Metric {
	out := map[string]Metric{}
	put := func(name string, m Metric) {
		if len(m.Values) > 0 {
			out[name] = m
		}
	}
	// iterations counts the completed ones, as k6's does (an iteration cut
	// short at the end is not one), so a threshold on it sees this count.
	whole := snap.SelectIterations(nil)
	for _, name := range record.Measured {
		s := snap.Total
		if record.IsIterationMetric(name) {
			s = whole
		}
		put(name, metricOf(name, s, elapsed))
	}
	if w != nil {
		for _, name := range record.WriteMetrics {
			n, _ := w.Count(name)
			out[name] = Metric{Values: map[string]float64{"count": float64(n), "rate": rate(float64(n), elapsed)}}
		}
	}
	for _, v := range vs {
		sel := v.Threshold.Selector
		key := sel.String()
		m, ok := out[key]
		if !ok {
			m = metricOf(sel.Metric, selection(snap, sel), elapsed)
			if m.Values == nil {
				m.Values = map[string]float64{}
			}
		}
		if m.Thresholds == nil {
			m.Thresholds = map[string]bool{}
		}
		m.Thresholds[v.Threshold.Source] = !v.Passed
		out[key] = m
	}
	return out
}

// metricOf is one metric of s in k6's summary-export form.
func metricOf(name string, s record.Stats, elapsed time.Duration) Metric {
	m := Metric{Values: map[string]float64{}}
	perSecond := func(n float64) float64 { return rate(n, elapsed) }
	switch name {
	case record.MetricDuration, record.MetricDurationUncorrected, record.MetricIterationDuration:
		if s.Count == 0 {
			return Metric{}
		}
		d := s.Corrected // iteration_duration: from the scheduled start
		if name == record.MetricDurationUncorrected {
			d = s.Latency
		}
		m.Values["avg"] = ms(d.Mean)
		m.Values["min"] = ms(d.Min)
		m.Values["med"] = ms(d.Median)
		m.Values["max"] = ms(d.Max)
		m.Values["p(90)"] = ms(d.P90)
		m.Values["p(95)"] = ms(d.P95)
		m.Values["p(99)"] = ms(d.P99)
	case record.MetricReqs, record.MetricIterations:
		m.Values["count"] = float64(s.Count)
		m.Values["rate"] = perSecond(float64(s.Count))
	case record.MetricDataReceived:
		m.Values["count"] = float64(s.BytesIn)
		m.Values["rate"] = perSecond(float64(s.BytesIn))
	case record.MetricDataSent:
		m.Values["count"] = float64(s.BytesOut)
		m.Values["rate"] = perSecond(float64(s.BytesOut))
	case record.MetricFailed:
		// A rate metric's passes count its true values: for
		// http_req_failed, the failed requests.
		if s.Count == 0 {
			return Metric{}
		}
		m.Values["passes"] = float64(s.Failures)
		m.Values["fails"] = float64(s.Count - s.Failures)
		m.Values["value"] = s.Rate
	case record.MetricChecks:
		n := s.ChecksPassed + s.ChecksFailed
		if n == 0 {
			return Metric{}
		}
		m.Values["passes"] = float64(s.ChecksPassed)
		m.Values["fails"] = float64(s.ChecksFailed)
		m.Values["value"] = float64(s.ChecksPassed) / float64(n)
	default:
		return Metric{}
	}
	return m
}

// Breakdowns returns the statistics per scenario and endpoint (phases
// merged), sorted by name, and per phase (scenarios and endpoints
// merged), in the snapshot's order: InTimeOrder puts them in the order
// they ran.
func Breakdowns(snap record.Snapshot) (endpoints, phases []Breakdown) {
	eachEndpoint(snap, func(scenario, endpoint string, st record.Stats) {
		b := breakdownOf(st)
		b.Scenario, b.Endpoint = scenario, endpoint
		endpoints = append(endpoints, b)
	})
	seenPhase := map[string]bool{}
	for _, k := range snap.Keys {
		if p := k.Key.Phase; p != "" && !seenPhase[p] {
			seenPhase[p] = true
			b := breakdownOf(snap.Select(map[string]string{record.TagPhase: p}))
			b.Phase = p
			phases = append(phases, b)
		}
	}
	sort.Slice(endpoints, func(i, j int) bool {
		if endpoints[i].Scenario != endpoints[j].Scenario {
			return endpoints[i].Scenario < endpoints[j].Scenario
		}
		return endpoints[i].Endpoint < endpoints[j].Endpoint
	})
	return endpoints, phases
}

// Failures returns why requests failed, per scenario and endpoint
// (phases merged), the most frequent first; ties by scenario, endpoint
// and reason, so the order is the same every time.
func Failures(snap record.Snapshot) []Failure {
	var out []Failure
	eachEndpoint(snap, func(scenario, endpoint string, st record.Stats) {
		for reason, n := range st.Reasons {
			out = append(out, Failure{Scenario: scenario, Endpoint: endpoint, Reason: reason, Count: n,
				Share: float64(n) / float64(st.Count)})
		}
	})
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		switch {
		case a.Count != b.Count:
			return a.Count > b.Count
		case a.Scenario != b.Scenario:
			return a.Scenario < b.Scenario
		case a.Endpoint != b.Endpoint:
			return a.Endpoint < b.Endpoint
		}
		return a.Reason < b.Reason
	})
	return out
}

// eachEndpoint calls fn with the statistics of each scenario and
// endpoint of snap (phases merged), in the snapshot's order.
func eachEndpoint(snap record.Snapshot, fn func(scenario, endpoint string, st record.Stats)) {
	type se struct{ scenario, endpoint string }
	seen := map[se]bool{}
	for _, k := range snap.Keys {
		key := se{k.Key.Scenario, k.Key.Endpoint}
		if seen[key] {
			continue
		}
		seen[key] = true
		fn(key.scenario, key.endpoint, snap.SelectFunc(func(o record.Key) bool {
			return o.Scenario == key.scenario && o.Endpoint == key.endpoint
		}))
	}
}

// InTimeOrder sorts phases by when each first ran in timeline, the order
// a reader follows a run in; phases the timeline does not place (an
// imported run has none) keep their order, after those it does.
func InTimeOrder(phases []Breakdown, timeline []Span) {
	first := map[string]float64{}
	for _, s := range timeline {
		if f, ok := first[s.Phase]; !ok || s.From < f {
			first[s.Phase] = s.From
		}
	}
	sort.SliceStable(phases, func(i, j int) bool {
		fi, placedI := first[phases[i].Phase]
		fj, placedJ := first[phases[j].Phase]
		if placedI != placedJ {
			return placedI
		}
		return placedI && fi < fj
	})
}

// breakdownOf is the statistics of one selection.
func breakdownOf(s record.Stats) Breakdown {
	b := Breakdown{
		Requests: s.Count, Failures: s.Failures, FailureRate: s.Rate, RPS: s.RPS,
		ChecksPassed: s.ChecksPassed, ChecksFailed: s.ChecksFailed,
	}
	if s.Count > 0 {
		d := s.Corrected
		b.Min, b.Avg, b.Med, b.Max = ms(d.Min), ms(d.Mean), ms(d.Median), ms(d.Max)
		b.P90, b.P95, b.P99 = ms(d.P90), ms(d.P95), ms(d.P99)
		b.P95Uncorrected = ms(s.Latency.P95)
	}
	if len(s.Statuses) > 0 {
		b.Statuses = make(map[string]int64, len(s.Statuses))
		for code, n := range s.Statuses {
			label := strconv.Itoa(code)
			if code == 0 {
				label = "no response"
			}
			b.Statuses[label] = n
		}
	}
	return b
}

// Journeys returns the whole iterations' statistics per scenario and
// journey (phases merged), sorted by scenario, then journey.
func Journeys(snap record.Snapshot) []Journey {
	type sj struct{ scenario, journey string }
	var out []Journey
	seen := map[sj]bool{}
	for _, ks := range snap.Iterations { // sorted by scenario, journey
		key := sj{ks.Key.Scenario, ks.Key.Journey}
		if seen[key] {
			continue
		}
		seen[key] = true
		st := snap.SelectIterations(map[string]string{record.TagScenario: key.scenario, record.TagJourney: key.journey})
		j := Journey{Scenario: key.scenario, Journey: key.journey, Iterations: st.Count, Rate: st.RPS}
		d := st.Corrected
		j.Min, j.Avg, j.Med, j.Max = ms(d.Min), ms(d.Mean), ms(d.Median), ms(d.Max)
		j.P90, j.P95, j.P99 = ms(d.P90), ms(d.P95), ms(d.P99)
		j.P95Uncorrected = ms(st.Latency.P95)
		out = append(out, j)
	}
	return out
}

// Distribution returns the corrected latencies of every request of snap
// in buckets of 1-2-5 steps (0.1, 0.2, 0.5, 1, 2, 5 ms, ...) from the
// first that holds any to the one that holds the slowest: a few dozen at
// most, read from the run-wide HDR histogram to its precision.
func Distribution(snap record.Snapshot) []Bucket {
	h := snap.Total.Corrected.Histogram()
	if h == nil {
		return nil
	}
	bounds := []float64{} // ms
	for decade := 0.1; decade < 1e6; decade *= 10 {
		bounds = append(bounds, decade, 2*decade, 5*decade)
	}
	counts := make([]int64, len(bounds))
	for _, bar := range h.Distribution() { // microseconds
		if bar.Count == 0 {
			continue
		}
		v := float64(bar.To) / 1000
		i := sort.SearchFloat64s(bounds, v-1e-9)
		counts[min(i, len(bounds)-1)] += bar.Count
	}
	first, last := -1, -1
	for i, n := range counts {
		if n > 0 {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	out := make([]Bucket, 0, last-first+1)
	for i := first; i <= last; i++ {
		out = append(out, Bucket{UpTo: math.Round(bounds[i]*10) / 10, Count: counts[i]})
	}
	return out
}

// Series returns the time series of snap.
func Series(snap record.Snapshot) []Point {
	pts := make([]Point, 0, len(snap.Intervals))
	width := snap.Interval.Seconds()
	for _, iv := range snap.Intervals {
		p := Point{T: iv.Offset.Seconds(), Requests: iv.Requests, Failures: iv.Failures, Iterations: iv.Iterations, Dropped: iv.Dropped, VUs: iv.BusyVUs}
		for class, n := range iv.Classes {
			if n == 0 {
				continue
			}
			if p.Statuses == nil {
				p.Statuses = map[string]int64{}
			}
			p.Statuses[statusClassName(class)] = n
		}
		if width > 0 {
			p.RPS = float64(iv.Requests) / width
		}
		if iv.Requests > 0 {
			p.P50, p.P95, p.P99, p.Max = ms(iv.Corrected.P50), ms(iv.Corrected.P95), ms(iv.Corrected.P99), ms(iv.Corrected.Max)
			p.P95Uncorrected = ms(iv.Latency.P95)
		}
		pts = append(pts, p)
	}
	return pts
}

// statusClassName names the index of record.IntervalPoint.Classes.
func statusClassName(class int) string {
	if class == 0 {
		return "no response"
	}
	return strconv.Itoa(class) + "xx"
}

// Thresholds converts verdicts, with the lines lines[i] of the file that
// stated them (nil or short for none).
func Thresholds(vs []threshold.Verdict, lines []int) []Threshold {
	out := make([]Threshold, 0, len(vs))
	for i, v := range vs {
		t := Threshold{
			Metric: v.Threshold.Selector.String(), Expression: v.Threshold.Source,
			Passed: v.Passed, Reason: v.Reason, AbortOnFail: v.Threshold.AbortOnFail,
		}
		if t.Expression == "" {
			t.Expression = v.Threshold.Expr.String()
		}
		if v.Threshold.Expr.Validate() == nil {
			t.Parts = &ThresholdParts{Selector: v.Threshold.Selector, Expr: v.Threshold.Expr}
		}
		if !math.IsNaN(v.Observed) {
			obs := v.Observed
			t.Observed = &obs
		}
		if i < len(lines) {
			t.Line = lines[i]
		}
		out = append(out, t)
	}
	return out
}

// Evaluate evaluates every threshold against snap: the selector's tags
// pick the samples, its metric name the statistic's meaning.
func Evaluate(snap record.Snapshot, w *Writes, ts []threshold.Threshold) []threshold.Verdict {
	out := make([]threshold.Verdict, 0, len(ts))
	for _, t := range ts {
		stats := StatsOf(snap, t.Selector)
		if slices.Contains(record.WriteMetrics, t.Selector.Metric) {
			stats = w.stats(t.Selector.Metric)
		}
		out = append(out, threshold.Evaluate(t, stats))
	}
	return out
}

// stats adapts one of the ledger's counters to threshold.Stats; a run
// that kept no ledger has no data for it, which fails the threshold: a
// gate on lost writes never passes on writes nobody read back.
func (w *Writes) stats(metric string) threshold.Stats {
	return threshold.StatsFunc(func(stat threshold.Stat, _ float64) (float64, bool) {
		if w == nil || stat != threshold.StatCount {
			return 0, false
		}
		n, ok := w.Count(metric)
		return float64(n), ok
	})
}

// StatsOf adapts the selection of sel in snap to threshold.Stats.
func StatsOf(snap record.Snapshot, sel threshold.Selector) threshold.Stats {
	m, ok := snap.Metric(sel.Metric, tagMap(sel))
	return threshold.StatsFunc(func(stat threshold.Stat, p float64) (float64, bool) {
		if !ok {
			return 0, false
		}
		return m.Value(stat.String(), p)
	})
}

// selection is what sel's metric reads in snap: the iterations for
// iteration_duration, the requests otherwise.
func selection(snap record.Snapshot, sel threshold.Selector) record.Stats {
	if record.IsIterationMetric(sel.Metric) {
		return snap.SelectIterations(tagMap(sel))
	}
	return snap.Select(tagMap(sel))
}

func tagMap(sel threshold.Selector) map[string]string {
	if len(sel.Tags) == 0 {
		return nil
	}
	m := make(map[string]string, len(sel.Tags))
	for _, t := range sel.Tags {
		m[t.Key] = t.Value
	}
	return m
}

// rate is a counter's k6 rate: n per second of the run.
func rate(n float64, elapsed time.Duration) float64 {
	if elapsed <= 0 {
		return 0
	}
	return n / elapsed.Seconds()
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
