package report

import (
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/taskready/taskready/internal/render"
	"github.com/taskready/taskready/loadtest/summary"
)

// Chart geometry, in SVG user units. The SVG scales to its container's
// width; the CSS gives it a minimum width so that on a phone it scrolls
// instead of shrinking its labels to nothing.
const (
	chartW     = 1140.0
	plotH      = 185.0
	marginL    = 62.0
	marginR    = 18.0
	marginB    = 34.0
	laneH      = 16.0
	laneGap    = 6.0
	noLaneTop  = 14.0
	maxPlotted = 600 // points per series; more are merged (see plotPoints)
	// offScale: a bound more than this many times the data's top is
	// marked at the top edge rather than stretching the axis to it, which
	// would flatten the data into a line at the bottom.
	offScale = 1.5
)

// Colours of the series: few and distinct, the same in legends, charts
// and tables, and legible for the common colour-vision deficiencies
// (blue, orange and purple rather than red against green).
const (
	colRequests = "#2563eb"
	colFailures = "#dc2626"
	colP50      = "#0891b2"
	colP95      = "#7c3aed"
	colP99      = "#ea580c"
	colErrors   = "#dc2626"
	colPassRule = "#475569"
	colFailRule = "#dc2626"
	colBaseline = "#0f766e"
	colTarget   = "#64748b"
	colDropped  = "#dc2626"
	colBars     = "#2563eb"
)

// statusColours are the status classes' colours in the status chart, in
// the order they are drawn: success in the request colour, client errors
// orange, server errors red, no response purple.
var statusColours = []struct{ class, color string }{
	{"2xx", "#2563eb"}, {"3xx", "#0891b2"}, {"4xx", "#ea580c"}, {"5xx", "#dc2626"}, {"1xx", "#64748b"}, {"no response", "#7c3aed"},
}

// bandFills are the phase colours, pale enough that the lines in front of
// them keep their contrast.
var bandFills = []string{"#dbeafe", "#dcfce7", "#fde68a", "#fbcfe8", "#e9d5ff", "#ccfbf1", "#fed7aa", "#e2e8f0"}

// chartView is one chart, every coordinate computed, ready for the
// template: the template only places what is here and escapes the labels.
type chartView struct {
	ID, Title, Desc string
	W, H            float64
	X0, X1, Y0, Y1  float64 // the plot box: left, right, top, bottom
	XTicks, YTicks  []tickView
	XLabel, YLabel  string
	Lanes           []laneView
	Bands           []bandView
	Seps            []float64 // x of the boundaries between shaded phases
	Faults          []faultBand
	Areas, Lines    []pathView
	Dots            []dotView
	Rules           []ruleView
	Hovers          []hoverView
	Legend          []legendView
	Bars            []barView  // a histogram's bars (no time axis)
	Marks           []markView // vertical markers: a histogram's percentiles
	Empty           string     // shown instead of data
	// RulesKey, BandsKey and FaultsKey name the threshold lines, phase
	// bands and fault windows for the legend's toggles.
	RulesKey, BandsKey, FaultsKey string
}

// faultBand is a fault's window over the plot, hatched, its name at the
// top and what it did in its tooltip.
type faultBand struct {
	X, W, Y, H     float64
	Label, Title   string
	LabelX, LabelY float64
}

// colFault is the fault windows' colour: failure, not a phase.
const colFault = "#dc2626"

// barView is one bar of a histogram, with its tooltip.
type barView struct {
	X, Y, W, H float64
	Title      string
}

// markView is a vertical marker across the plot, labelled at the top.
type markView struct {
	X, LabelY     float64
	Label, Stroke string
	Key, Anchor   string
	Dash          bool
}

type tickView struct {
	Pos   float64
	Label string
}

// laneView is one scenario's row of phase labels above the plot.
type laneView struct {
	Y     float64
	Label string // the scenario, "" when all scenarios share one schedule
	Title string
	Spans []bandView
}

// bandView is a phase: shaded behind the plot, or labelled in a lane.
type bandView struct {
	X, W, Y, H     float64
	Fill           string
	Label, Title   string
	LabelX, LabelY float64
}

// pathView is a line or area of one series; Key ties it to its legend
// entry, which hides and shows it.
type pathView struct {
	D, Stroke, Fill, Dash string
	Width                 float64
	Key                   string
}

type dotView struct {
	X, Y, R   float64
	Fill, Key string
}

// ruleView is a threshold or baseline line; OffScale marks a bound above
// the axis, drawn as an arrow at the top edge with its label.
type ruleView struct {
	X0, X1, Y      float64
	Stroke, Label  string
	LabelX, LabelY float64
	Anchor, Key    string
	Dash           string
	Crossed        bool
	OffScale       bool
}

type hoverView struct {
	X, W  float64
	Title string
}

// legendView is one legend entry; Kind is "line", "dash", "area", "rule",
// "baseline", "bar" or "band". Key names what it hides and shows when
// clicked.
type legendView struct {
	Label, Color, Kind, Key string
}

// seriesDef is one line of a chart: its legend and how to read a point;
// ok=false leaves a gap, as a latency without requests is not zero.
type seriesDef struct {
	Label, Color string
	Dash, Area   bool
	Value        func(p plotPoint) (v float64, ok bool)
	Format       func(v float64) string
}

// ruleDef is a horizontal bound (a threshold) over the whole run or over
// the spans of one phase, or a baseline's value.
type ruleDef struct {
	Value    float64
	Label    string
	Crossed  bool
	Baseline bool
	Spans    [][2]float64 // nil for the whole run
}

// chartSpec is what differs between the charts.
type chartSpec struct {
	ID, Title, Desc, YLabel string
	MinTop                  float64 // the least y range, so that noise near 0 looks like noise
	Series                  []seriesDef
	Rules                   []ruleDef
	Tick                    func(v, step float64) string
}

// timeAxis is what the charts of one report share: the x range, the phase
// lanes and bands.
type timeAxis struct {
	End      float64
	Timeline []summary.Span
	Faults   []summary.Fault
}

// buildChart lays out one chart of pp on the report's time axis.
func buildChart(spec chartSpec, pp []plotPoint, ax timeAxis) chartView {
	c := chartView{ID: spec.ID, Title: spec.Title, Desc: spec.Desc, YLabel: spec.YLabel, W: chartW}
	lanes := phaseLanes(ax.Timeline)
	c.Y0 = noLaneTop
	if len(lanes) > 0 {
		c.Y0 = laneGap + float64(len(lanes))*laneH + laneGap
	}
	c.Y1 = c.Y0 + plotH
	c.H = c.Y1 + marginB
	c.X0, c.X1 = marginL, chartW-marginR
	end := ax.End
	if !finite(end) || end <= 0 {
		end = 1
	}
	x := func(t float64) float64 {
		return c.X0 + math.Max(0, math.Min(1, t/end))*(c.X1-c.X0)
	}
	rules, top := c.yRange(spec, pp)
	step, top := render.NiceScale(top, 5)
	y := func(v float64) float64 {
		return c.Y1 - math.Max(0, math.Min(1, v/top))*(c.Y1-c.Y0)
	}
	for i := 0; float64(i)*step <= top+step/2; i++ {
		v := float64(i) * step
		c.YTicks = append(c.YTicks, tickView{Pos: y(v), Label: spec.Tick(v, step)})
	}
	c.XTicks, c.XLabel = timeTicks(end, x)

	c.Lanes, c.Bands, c.Seps = phaseBands(lanes, x, c.Y0, c.Y1)
	c.RulesKey, c.BandsKey, c.FaultsKey = spec.ID+"-thresholds", spec.ID+"-phases", spec.ID+"-faults"
	if len(c.Bands) > 0 {
		c.Legend = append(c.Legend, legendView{Label: "phases", Color: bandFills[0], Kind: "band", Key: c.BandsKey})
	}
	c.Faults = faultBands(ax.Faults, end, x, c.Y0, c.Y1)
	if len(c.Faults) > 0 {
		c.Legend = append(c.Legend, legendView{Label: "faults", Color: colFault, Kind: "fault", Key: c.FaultsKey})
	}
	for i, sd := range spec.Series {
		kind := "line"
		switch {
		case sd.Dash:
			kind = "dash"
		case sd.Area:
			kind = "area"
		}
		key := spec.ID + "-" + strconv.Itoa(i)
		c.Legend = append(c.Legend, legendView{Label: sd.Label, Color: sd.Color, Kind: kind, Key: key})
		c.addSeries(sd, key, pp, x, y)
	}
	thresholds, baselines := false, false
	for _, r := range rules {
		key := c.RulesKey
		if r.Baseline {
			key, baselines = spec.ID+"-baseline", true
		} else {
			thresholds = true
		}
		if r.Value > top {
			c.addOffScale(r, key)
			continue
		}
		c.addRule(r, key, x, y(r.Value))
	}
	if thresholds {
		c.Legend = append(c.Legend, legendView{Label: "threshold", Color: colPassRule, Kind: "rule", Key: c.RulesKey})
	}
	if baselines {
		c.Legend = append(c.Legend, legendView{Label: "baseline", Color: colBaseline, Kind: "baseline", Key: spec.ID + "-baseline"})
	}
	c.Hovers = hovers(spec.Series, pp, x)
	if len(pp) == 0 {
		c.Empty = "no data: the run recorded no time series"
	}
	return c
}

// yRange returns the bounds to draw and the top of the y range: the data
// and the bounds near it. A bound far above the data would flatten the
// data into a line at the bottom, so the axis stays scaled to the data
// and the bound is marked at its top edge (addOffScale).
func (c *chartView) yRange(spec chartSpec, pp []plotPoint) ([]ruleDef, float64) {
	top := 0.0
	for _, sd := range spec.Series {
		for _, p := range pp {
			if v, ok := sd.Value(p); ok && finite(v) {
				top = math.Max(top, v)
			}
		}
	}
	dataTop := top
	var rules []ruleDef
	for _, r := range spec.Rules {
		if !finite(r.Value) || r.Value < 0 {
			continue
		}
		rules = append(rules, r)
		if dataTop > 0 && r.Value > offScale*math.Max(dataTop, spec.MinTop) {
			continue // marked at the top edge, not drawn to scale
		}
		// Headroom above a bound, so that its line and label do not sit
		// on the plot's top edge.
		top = math.Max(top, r.Value*1.1)
	}
	return rules, math.Max(top, spec.MinTop)
}

// timeTicks are the x ticks up to end, in m:ss, or in seconds for a run
// too short for whole-second ticks; it returns the axis title to match.
func timeTicks(end float64, x func(float64) float64) ([]tickView, string) {
	var ticks []tickView
	title := "time since start (m:ss)"
	step := timeStep(end)
	for i := 0; float64(i)*step <= end+step/1000; i++ {
		t := float64(i) * step
		label := clock(t)
		if step < 1 {
			label, title = render.Trim(t, 1)+"s", "time since start"
		}
		ticks = append(ticks, tickView{Pos: x(t), Label: label})
	}
	return ticks, title
}

// hovers are the tooltip targets, one per plotted interval: SVG titles,
// which every browser shows without a script.
func hovers(series []seriesDef, pp []plotPoint, x func(float64) float64) []hoverView {
	out := make([]hoverView, 0, len(pp))
	for _, p := range pp {
		parts := []string{clock(p.T) + "–" + clock(p.T+p.W)}
		for _, sd := range series {
			val := "no requests"
			if v, ok := sd.Value(p); ok {
				val = sd.Format(v)
			}
			parts = append(parts, sd.Label+": "+val)
		}
		out = append(out, hoverView{X: x(p.T), W: math.Max(x(p.T+p.W)-x(p.T), 0.5), Title: strings.Join(parts, "\n")})
	}
	return out
}

// addSeries draws sd as polylines broken where it has no value; a piece of
// one point is a short level line across its interval with a dot, which a
// polyline of one point would not show.
func (c *chartView) addSeries(sd seriesDef, key string, pp []plotPoint, x, y func(float64) float64) {
	var segs [][]plotPoint
	var cur []plotPoint
	for _, p := range pp {
		if v, ok := sd.Value(p); ok && finite(v) {
			cur = append(cur, p)
			continue
		}
		if len(cur) > 0 {
			segs = append(segs, cur)
			cur = nil
		}
	}
	if len(cur) > 0 {
		segs = append(segs, cur)
	}
	var line, area strings.Builder
	for _, seg := range segs {
		if len(seg) == 1 {
			p := seg[0]
			v, _ := sd.Value(p)
			line.WriteString("M" + num(x(p.T)) + " " + num(y(v)) + "H" + num(x(p.T+p.W)))
			c.Dots = append(c.Dots, dotView{X: x(p.T + p.W/2), Y: y(v), R: 3, Fill: sd.Color, Key: key})
			if sd.Area {
				area.WriteString("M" + num(x(p.T)) + " " + num(y(0)) + "V" + num(y(v)) + "H" + num(x(p.T+p.W)) + "V" + num(y(0)) + "Z")
			}
			continue
		}
		for i, p := range seg {
			v, _ := sd.Value(p)
			cmd := "L"
			if i == 0 {
				cmd = "M"
			}
			line.WriteString(cmd + num(x(p.T+p.W/2)) + " " + num(y(v)))
		}
		if sd.Area {
			first, last := seg[0], seg[len(seg)-1]
			area.WriteString("M" + num(x(first.T+first.W/2)) + " " + num(y(0)))
			for _, p := range seg {
				v, _ := sd.Value(p)
				area.WriteString("L" + num(x(p.T+p.W/2)) + " " + num(y(v)))
			}
			area.WriteString("L" + num(x(last.T+last.W/2)) + " " + num(y(0)) + "Z")
		}
	}
	if line.Len() == 0 {
		return
	}
	p := pathView{D: line.String(), Stroke: sd.Color, Fill: "none", Width: 1.8, Key: key}
	if sd.Dash {
		p.Dash, p.Width = "5 4", 1.5
	}
	c.Lines = append(c.Lines, p)
	if area.Len() > 0 {
		c.Areas = append(c.Areas, pathView{D: area.String(), Fill: sd.Color, Stroke: "none", Key: key})
	}
}

// addOffScale marks a bound above the axis: an arrow at the top edge
// over its span, so that the reader sees it exists and where it applies
// without the axis stretching to it.
func (c *chartView) addOffScale(r ruleDef, key string) {
	stroke, x0, x1 := colPassRule, c.X0, c.X1
	if r.Crossed {
		stroke = colFailRule
	}
	if r.Baseline {
		stroke = colBaseline
	}
	n := 0 // the marks before this one: each gets a line of its own
	for _, rv := range c.Rules {
		if rv.OffScale {
			n++
		}
	}
	c.Rules = append(c.Rules, ruleView{X0: x0, X1: x1, Y: c.Y0, Stroke: stroke, Label: "↑ " + r.Label + " (above the scale)",
		LabelX: x1 - 4, LabelY: c.Y0 + 12 + 13*float64(n), Anchor: "end", Key: key, Crossed: r.Crossed, OffScale: true})
}

func (c *chartView) addRule(r ruleDef, key string, x func(float64) float64, yv float64) {
	stroke, dash := colPassRule, "8 3 2 3"
	if r.Crossed {
		stroke = colFailRule
	}
	if r.Baseline {
		stroke, dash = colBaseline, "2 3"
	}
	spans := r.Spans
	if spans == nil {
		spans = [][2]float64{{0, math.Inf(1)}}
	}
	for i, sp := range spans {
		x0, x1 := x(sp[0]), x(sp[1])
		if x1-x0 < 1 {
			continue
		}
		rv := ruleView{X0: x0, X1: x1, Y: yv, Stroke: stroke, LabelX: x1 - 4, LabelY: yv - 5, Anchor: "end", Crossed: r.Crossed, Key: key, Dash: dash}
		if i == 0 {
			rv.Label = r.Label
			// A label needs room above the line; below the top edge it
			// goes under the line instead.
			if yv-c.Y0 < 14 {
				rv.LabelY = yv + 13
			}
			// A baseline's label goes to the left, where the thresholds'
			// labels (on the right) leave it room.
			if r.Baseline || utf8.RuneCountInString(r.Label)*6 > int(x1-x0) {
				rv.LabelX, rv.Anchor = x0+4, "start"
			}
		}
		c.Rules = append(c.Rules, rv)
	}
}

// timeStep is a tick step in seconds that people count in (10s, 30s, 1m,
// 5m, ...), giving at most about 12 ticks.
func timeStep(end float64) float64 {
	for _, s := range []float64{0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400} {
		if end/s <= 12 {
			return s
		}
	}
	return math.Ceil(end/12/86400) * 86400
}

// clock formats seconds from the start as m:ss, or h:mm:ss.
func clock(t float64) string {
	if !finite(t) || t < 0 {
		t = 0
	}
	s := int64(math.Round(t))
	h, m, sec := s/3600, s/60%60, s%60
	two := func(v int64) string {
		if v < 10 {
			return "0" + strconv.FormatInt(v, 10)
		}
		return strconv.FormatInt(v, 10)
	}
	if h > 0 {
		return strconv.FormatInt(h, 10) + ":" + two(m) + ":" + two(sec)
	}
	return strconv.FormatInt(m, 10) + ":" + two(sec)
}

// num formats a coordinate to a tenth of a unit; a value that is not a
// number becomes 0, so that no NaN or Inf ever reaches the SVG.
func num(v float64) string {
	if !finite(v) {
		v = 0
	}
	return render.Trim(math.Round(v*10)/10, 1)
}

// tickNumber labels a y tick with as many decimals as the step needs,
// and thousands as "k".
func tickNumber(v, step float64) string {
	if step >= 1000 {
		return render.Trim(v/1000, decimals(step/1000)) + "k"
	}
	return render.Trim(v, decimals(step))
}

func decimals(step float64) int {
	if step >= 1 || step <= 0 {
		return 0
	}
	return int(math.Ceil(-math.Log10(step) - 1e-9))
}

// faultBands lays out the windows of the faults that were played; one
// never undone runs to the end of the axis.
func faultBands(fs []summary.Fault, end float64, x func(float64) float64, y0, y1 float64) []faultBand {
	var out []faultBand
	var rowEnds []float64 // where each row's last label ends: labels never overlap
	for _, f := range fs {
		if !f.Played {
			continue
		}
		to := end
		if f.End != nil {
			to = *f.End
		}
		x0, x1 := x(f.Start), x(to)
		errs, window, p95, _ := faultCells(f)
		title := f.Name + ": " + faultWhat(f) + ", " + faultWhen(f) + "; errors " + errs + " (" + window + "); p95 " + p95 + "; " + faultRecovery(f)
		label := "⚡ " + f.Name
		// The first row with room for the label, about 6.5 px a character.
		row := 0
		for row < len(rowEnds) && rowEnds[row] > x0+3 {
			row++
		}
		if row == len(rowEnds) {
			rowEnds = append(rowEnds, 0)
		}
		rowEnds[row] = x0 + 3 + 6.5*float64(len([]rune(label)))
		out = append(out, faultBand{X: x0, W: math.Max(x1-x0, 1), Y: y0, H: y1 - y0, Label: label, Title: title,
			LabelX: x0 + 3, LabelY: y0 + 11 + 13*float64(row)})
	}
	return out
}
