package report

import (
	"math"
	"sort"
	"strings"

	"github.com/taskready/taskready/internal/render"
	"github.com/taskready/taskready/loadtest/summary"
)

// plotPoint is one plotted interval: [T, T+W) seconds from the start.
type plotPoint struct {
	summary.Point
	W float64
}

// plotPoints sorts the series and merges neighbours down to maxPlotted
// points: an hour at one point a second is 3600 points, more than a chart
// has pixels. Counts add up; latencies keep the worst of the merged
// intervals, because a spike must survive the merge.
func plotPoints(pts []summary.Point) []plotPoint {
	sorted := make([]summary.Point, 0, len(pts))
	for _, p := range pts {
		if finite(p.T) && p.T >= 0 {
			sorted = append(sorted, p)
		}
	}
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].T < sorted[j].T })
	// The interval is the smallest step between points: a gap in the
	// series is missing intervals, not wider ones. One point alone is
	// taken as the usual one second.
	width := 0.0
	for i := 1; i < len(sorted); i++ {
		if d := sorted[i].T - sorted[i-1].T; d > 0 && (width == 0 || d < width) {
			width = d
		}
	}
	if width == 0 {
		width = 1
	}
	k := (len(sorted) + maxPlotted - 1) / maxPlotted
	out := make([]plotPoint, 0, len(sorted)/max(k, 1)+1)
	for i := 0; i < len(sorted); i += max(k, 1) {
		group := sorted[i:min(i+max(k, 1), len(sorted))]
		m := plotPoint{Point: summary.Point{T: group[0].T}, W: width * float64(len(group))}
		for _, p := range group {
			m.Requests += p.Requests
			m.Failures += p.Failures
			m.Iterations += p.Iterations
			m.Dropped += p.Dropped
			// The target and the VUs are levels: merged points take their
			// mean.
			m.Target += clean(p.Target) / float64(len(group))
			m.VUs += clean(p.VUs) / float64(len(group))
			for class, n := range p.Statuses {
				if m.Statuses == nil {
					m.Statuses = map[string]int64{}
				}
				m.Statuses[class] += n
			}
			if p.Requests > 0 {
				m.P50 = math.Max(m.P50, clean(p.P50))
				m.P95 = math.Max(m.P95, clean(p.P95))
				m.P99 = math.Max(m.P99, clean(p.P99))
				m.Max = math.Max(m.Max, clean(p.Max))
				m.P95Uncorrected = math.Max(m.P95Uncorrected, clean(p.P95Uncorrected))
			}
		}
		// A point's own rate is kept, as the summary computed it with the
		// real interval; merged or missing rates are recomputed.
		if g := group[0]; len(group) == 1 && finite(g.RPS) && g.RPS >= 0 && (g.RPS > 0 || g.Requests == 0) {
			m.RPS = g.RPS
		} else {
			m.RPS = float64(m.Requests) / m.W
		}
		out = append(out, m)
	}
	return out
}

// clean turns a value that cannot be drawn into 0.
func clean(v float64) float64 {
	if !finite(v) {
		return 0
	}
	return v
}

// thresholdRules are the thresholds on metric that a chart of the whole
// run can show: untagged ones over the whole run, and those tagged only
// with a phase over that phase's spans. A threshold on one endpoint is
// about requests the chart does not single out, so it is left out.
// scale converts the bound to the chart's unit.
func thresholdRules(s *summary.Summary, metric string, aggs map[string]bool, scale float64, unit func(float64) string) []ruleDef {
	var out []ruleDef
	for _, t := range s.Run.Thresholds {
		p, ok := t.Parsed()
		if !ok || p.Selector.Metric != metric {
			continue
		}
		agg, bound := p.Expr.Aggregation(), p.Expr.Value
		if !aggs[agg] {
			continue
		}
		r := ruleDef{Value: bound * scale, Crossed: !t.Passed}
		tags, phase := p.Selector.Tags, ""
		switch {
		case len(tags) == 0:
		case len(tags) == 1 && tags[0].Key == "phase" && tags[0].Value != "":
			phase = tags[0].Value
			for _, sp := range s.Run.Timeline {
				if sp.Phase == phase && sp.To > sp.From {
					r.Spans = append(r.Spans, [2]float64{sp.From, sp.To})
				}
			}
			if len(r.Spans) == 0 {
				continue
			}
		default:
			continue
		}
		r.Label = agg + " " + p.Expr.Op.String() + " " + unit(bound)
		if phase != "" {
			r.Label += " in " + phase
		}
		if r.Crossed {
			r.Label += " ✗ crossed"
		} else {
			r.Label += " ✓"
		}
		out = append(out, r)
	}
	return out
}

// charts builds the three charts of the HTML report from the series.
func charts(s *summary.Summary) []chartView {
	pp := plotPoints(s.Run.Series)
	end := s.Run.Duration
	if n := len(pp); n > 0 {
		end = math.Max(end, pp[n-1].T+pp[n-1].W)
	}
	ax := timeAxis{End: end, Timeline: s.Run.Timeline, Faults: s.Run.Faults}
	perSec := func(v float64) string { return render.Trim(v, 1) + "/s" }
	ms := func(v float64) string { return render.Trim(v, 1) + " ms" }
	always := func(f func(p plotPoint) float64) func(p plotPoint) (float64, bool) {
		return func(p plotPoint) (float64, bool) { return f(p), true }
	}
	withRequests := func(f func(p plotPoint) float64) func(p plotPoint) (float64, bool) {
		return func(p plotPoint) (float64, bool) { return f(p), p.Requests > 0 }
	}
	rate := buildChart(chartSpec{
		ID: "chart-rate", Title: "Request rate", Desc: "requests started per second, and those that failed",
		YLabel: "requests / s", MinTop: 1, Tick: tickNumber,
		Series: []seriesDef{
			{Label: "requests/s", Color: colRequests, Area: true, Format: perSec, Value: always(func(p plotPoint) float64 { return clean(p.RPS) })},
			{Label: "failed/s", Color: colFailures, Format: perSec, Value: always(func(p plotPoint) float64 { return float64(p.Failures) / p.W })},
		},
		Rules: thresholdRules(s, "http_reqs", map[string]bool{"rate": true}, 1, func(v float64) string { return render.Trim(v, 2) + "/s" }),
	}, pp, ax)
	latency := buildChart(chartSpec{
		ID: "chart-latency", Title: "Latency", Desc: "corrected for coordinated omission (a journey's first request timed from its scheduled start); dashed: p95 as sent",
		YLabel: "latency (ms)", MinTop: 1, Tick: tickNumber,
		Series: []seriesDef{
			{Label: "p50", Color: colP50, Format: ms, Value: withRequests(func(p plotPoint) float64 { return p.P50 })},
			{Label: "p95", Color: colP95, Format: ms, Value: withRequests(func(p plotPoint) float64 { return p.P95 })},
			{Label: "p99", Color: colP99, Format: ms, Value: withRequests(func(p plotPoint) float64 { return p.P99 })},
			{Label: "p95 uncorrected", Color: colP95, Dash: true, Format: ms, Value: withRequests(func(p plotPoint) float64 { return p.P95Uncorrected })},
		},
		Rules: append(thresholdRules(s, "http_req_duration", map[string]bool{"p(95)": true, "p(99)": true}, 1, millis), baselineRules(s)...),
	}, pp, ax)
	out := []chartView{rate}
	if hasIterations(pp) {
		out = append(out, buildChart(chartSpec{
			ID: "chart-iterations", Title: "Iterations", Desc: "iterations per second: the open-model schedules' target, those started in every scenario (closed-model ones start as their VUs finish), and those dropped for want of a free VU",
			YLabel: "iterations / s", MinTop: 1, Tick: tickNumber,
			Series: []seriesDef{
				{Label: "target/s", Color: colTarget, Dash: true, Format: perSec, Value: func(p plotPoint) (float64, bool) { return p.Target, p.Target > 0 }},
				{Label: "achieved/s", Color: colRequests, Format: perSec, Value: always(func(p plotPoint) float64 { return float64(p.Iterations) / p.W })},
				{Label: "dropped/s", Color: colDropped, Area: true, Format: perSec, Value: always(func(p plotPoint) float64 { return float64(p.Dropped) / p.W })},
			},
		}, pp, ax))
	}
	if hasVUs(pp) {
		out = append(out, buildChart(chartSpec{
			ID: "chart-vus", Title: "Virtual users", Desc: "VUs running an iteration, on average over each interval (the rest of the pool waits for its next iteration)",
			YLabel: "VUs busy", MinTop: 1, Tick: tickNumber,
			Series: []seriesDef{
				{Label: "busy VUs", Color: colP95, Area: true, Format: func(v float64) string { return render.Trim(v, 1) + " VUs" },
					Value: always(func(p plotPoint) float64 { return p.VUs })},
			},
		}, pp, ax))
	}
	out = append(out, latency)
	if st := statusSeries(pp, perSec); len(st) > 0 {
		out = append(out, buildChart(chartSpec{
			ID: "chart-statuses", Title: "Status codes", Desc: "responses per second by status class",
			YLabel: "responses / s", MinTop: 1, Tick: tickNumber, Series: st,
		}, pp, ax))
	}
	errs := buildChart(chartSpec{
		ID: "chart-errors", Title: "Error rate", Desc: "failed requests as a share of the requests started in each interval",
		YLabel: "failed (%)", MinTop: 1, Tick: func(v, step float64) string { return tickNumber(v, step) + "%" },
		Series: []seriesDef{
			{Label: "error rate", Color: colErrors, Area: true, Format: func(v float64) string { return render.Trim(v, 2) + "%" },
				Value: withRequests(func(p plotPoint) float64 { return 100 * float64(p.Failures) / float64(p.Requests) })},
		},
		Rules: thresholdRules(s, "http_req_failed", map[string]bool{"rate": true}, 100, percent),
	}, pp, ax)
	out = append(out, errs)
	if h, ok := histogram(s); ok {
		out = append(out, h)
	}
	return out
}

// hasIterations reports whether the series counts iterations: a run
// imported from k6 or written before they were counted has none to draw.
func hasIterations(pp []plotPoint) bool {
	for _, p := range pp {
		if p.Iterations > 0 || p.Dropped > 0 || p.Target > 0 {
			return true
		}
	}
	return false
}

// hasVUs reports whether the series measured busy VUs.
func hasVUs(pp []plotPoint) bool {
	for _, p := range pp {
		if p.VUs > 0 {
			return true
		}
	}
	return false
}

// statusSeries is one series per status class the run saw, per second.
func statusSeries(pp []plotPoint, format func(float64) string) []seriesDef {
	seen := map[string]bool{}
	for _, p := range pp {
		for class, n := range p.Statuses {
			if n > 0 {
				seen[class] = true
			}
		}
	}
	var out []seriesDef
	for _, sc := range statusColours {
		if !seen[sc.class] {
			continue
		}
		out = append(out, seriesDef{Label: sc.class, Color: sc.color, Format: format,
			Value: func(p plotPoint) (float64, bool) { return float64(p.Statuses[sc.class]) / p.W, true }})
	}
	return out
}

// baselineRules are the baseline's p95 and p99 of all requests, when the
// run was compared with one: drawn beside the run's own percentiles, so
// a regression shows where in the run it happened.
func baselineRules(s *summary.Summary) []ruleDef {
	c := s.Run.Comparison
	if c == nil {
		return nil
	}
	var out []ruleDef
	for _, r := range c.Rows {
		if r.Name != "all" || !strings.HasSuffix(r.Metric, " latency") || !finite(r.Old) {
			continue
		}
		out = append(out, ruleDef{Value: r.Old, Baseline: true,
			Label: "baseline " + strings.TrimSuffix(r.Metric, " latency") + " " + millis(r.Old)})
	}
	return out
}
