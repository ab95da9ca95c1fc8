package report

import (
	"math"

	"github.com/taskready/taskready/internal/render"
	"github.com/taskready/taskready/loadtest/summary"
)

// histogram is the latency distribution chart: one bar per bucket of the
// summary's Distribution (1-2-5 steps, so equal widths read as a log
// scale), as a share of all requests, with the run's percentiles, and
// the baseline's when there is one, marked across it.
func histogram(s *summary.Summary) (chartView, bool) {
	bs := s.Run.Distribution
	var total int64
	for _, b := range bs {
		total += max(b.Count, 0)
	}
	if len(bs) == 0 || total == 0 {
		return chartView{}, false
	}
	c := chartView{ID: "chart-distribution", Title: "Latency distribution",
		Desc:   "share of requests by corrected latency, in buckets of 1-2-5 steps; the lines mark the run's percentiles",
		YLabel: "requests (%)", XLabel: "latency (ms, each bucket up to its label)", W: chartW}
	c.Y0, c.Y1 = noLaneTop, noLaneTop+plotH
	c.H = c.Y1 + marginB
	c.X0, c.X1 = marginL, chartW-marginR
	top := 0.0
	for _, b := range bs {
		top = math.Max(top, 100*float64(max(b.Count, 0))/float64(total))
	}
	step, top := render.NiceScale(top, 5)
	y := func(v float64) float64 { return c.Y1 - math.Max(0, math.Min(1, v/top))*(c.Y1-c.Y0) }
	for i := 0; float64(i)*step <= top+step/2; i++ {
		v := float64(i) * step
		c.YTicks = append(c.YTicks, tickView{Pos: y(v), Label: tickNumber(v, step) + "%"})
	}
	bw := (c.X1 - c.X0) / float64(len(bs))
	// Every label when they fit, else every other one (or fewer).
	every := int(math.Ceil(float64(len(bs)) * 44 / (c.X1 - c.X0)))
	var prev float64
	for i, b := range bs {
		share := 100 * float64(max(b.Count, 0)) / float64(total)
		x := c.X0 + float64(i)*bw
		from := "0"
		if i > 0 {
			from = render.Trim(prev, 1)
		}
		c.Bars = append(c.Bars, barView{X: x + 1, Y: y(share), W: math.Max(bw-2, 1), H: c.Y1 - y(share),
			Title: from + "–" + render.Trim(b.UpTo, 1) + " ms: " + thousands(b.Count) + " requests (" + render.Trim(share, 2) + "%)"})
		if i%max(every, 1) == 0 {
			c.XTicks = append(c.XTicks, tickView{Pos: x + bw/2, Label: bucketLabel(b.UpTo)})
		}
		prev = b.UpTo
	}
	c.Legend = append(c.Legend, legendView{Label: "requests", Color: colBars, Kind: "bar", Key: c.ID + "-bars"})
	// x places a latency within its bucket, on the log scale the 1-2-5
	// steps make.
	x := func(v float64) (float64, bool) {
		for i, b := range bs {
			if v > b.UpTo {
				continue
			}
			lo := lowerBound(b.UpTo)
			frac := 0.0
			if v > lo {
				frac = math.Log(v/lo) / math.Log(b.UpTo/lo)
			}
			return c.X0 + (float64(i)+frac)*bw, true
		}
		return 0, false
	}
	type mark struct {
		label, key, color string
		baseline          bool
		v                 float64
		ok                bool
	}
	var marks []mark
	for _, q := range []struct{ label, key, color string }{{"p50", "med", colP50}, {"p95", "p(95)", colP95}, {"p99", "p(99)", colP99}} {
		v, ok := metricValue(s, "http_req_duration", q.key)
		marks = append(marks, mark{q.label, c.ID + "-" + q.label, q.color, false, v, ok})
	}
	for _, r := range baselineRules(s) {
		marks = append(marks, mark{r.Label, c.ID + "-baseline", colBaseline, true, r.Value, true})
	}
	seen := map[string]bool{}
	for _, m := range marks {
		if !m.ok || !finite(m.v) {
			continue
		}
		px, ok := x(m.v)
		if !ok {
			continue
		}
		label, name, kind := m.label+" "+millis(m.v), m.label, "line"
		if m.baseline { // its label holds its value already
			label, name, kind = m.label, "baseline", "baseline"
		}
		mv := markView{X: px, LabelY: c.Y0 + 12 + 13*float64(len(c.Marks)), Label: label, Stroke: m.color, Key: m.key, Anchor: "start", Dash: m.baseline}
		if px > (c.X0+c.X1)/2 {
			mv.Anchor = "end"
		}
		c.Marks = append(c.Marks, mv)
		if !seen[m.key] {
			seen[m.key] = true
			c.Legend = append(c.Legend, legendView{Label: name, Color: m.color, Kind: kind, Key: m.key})
		}
	}
	return c, true
}

// lowerBound is the 1-2-5 step below up: 5 → 2, 2 → 1, 1 → 0.5.
func lowerBound(up float64) float64 {
	mag := math.Pow(10, math.Floor(math.Log10(up)+1e-9))
	if lead := up / mag; lead > 4 {
		return up / 2.5
	}
	return up / 2
}

// bucketLabel is a bucket's upper bound in ms, or in s from a second up.
func bucketLabel(ms float64) string {
	if ms >= 1000 {
		return render.Trim(ms/1000, 1) + "s"
	}
	return render.Trim(ms, 1) + "ms"
}
