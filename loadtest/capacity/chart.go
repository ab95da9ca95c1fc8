package capacity

import (
	_ "embed" // capacity.html.tmpl
	"fmt"
	"html/template"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/taskready/taskready/internal/render"
)

// The chart's frame, in SVG units.
const (
	chartW, chartH            = 760.0, 300.0
	marginL, marginR, marginT = 64.0, 64.0, 20.0
	marginB                   = 44.0
)

//go:embed capacity.html.tmpl
var pageSource string

var page = template.Must(template.New("capacity").Funcs(template.FuncMap{
	"n":   func(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) },
	"add": func(a, b float64) float64 { return a + b },
}).Parse(pageSource))

// pageView is the page, every coordinate computed.
type pageView struct {
	Title, Summary string
	W, H           float64
	X0, X1, Y0, Y1 float64
	XTicks, YTicks []tick
	ETicks         []tick // the error rate's axis, on the right
	Latency, Error string // the two lines' paths
	Points         []point
	Steps          []stepRow
}

type tick struct {
	Pos   float64
	Label string
}

// point is one step on the chart: its p95 and its error rate, coloured
// by whether it held.
type point struct {
	X, Y, EY float64
	Passed   bool
	Title    string
}

type stepRow struct {
	Rate, Achieved, P95, Errors, Verdict, Reasons string
	Passed                                        bool
}

// WriteHTML writes the search as one self-contained page: p95 latency and
// error rate against the offered rate, each step a point that held
// (green) or did not (red), and the steps as a table.
func (r Report) WriteHTML(w io.Writer) error {
	steps := slices.Clone(r.Steps)
	slices.SortStableFunc(steps, func(a, b Step) int { return a.Rate - b.Rate })
	v := pageView{Title: "Capacity of " + r.Target, Summary: r.summary(), W: chartW, H: chartH,
		X0: marginL, X1: chartW - marginR, Y0: marginT, Y1: chartH - marginB}
	maxRate, maxP95, maxErr := 1.0, 1.0, 0.01
	for _, s := range steps {
		maxRate = math.Max(maxRate, float64(s.Rate))
		maxP95 = math.Max(maxP95, s.P95)
		maxErr = math.Max(maxErr, s.Errors)
	}
	xStep, xTop := render.NiceScale(maxRate, 5)
	yStep, yTop := render.NiceScale(maxP95, 5)
	eStep, eTop := render.NiceScale(maxErr, 5)
	x := func(r float64) float64 { return v.X0 + r/xTop*(v.X1-v.X0) }
	y := func(ms float64) float64 { return v.Y1 - ms/yTop*(v.Y1-v.Y0) }
	ey := func(e float64) float64 { return v.Y1 - e/eTop*(v.Y1-v.Y0) }
	for t := 0.0; t <= xTop+xStep/2; t += xStep {
		v.XTicks = append(v.XTicks, tick{x(t), render.Trim(t, 2) + "/s"})
	}
	for t := 0.0; t <= yTop+yStep/2; t += yStep {
		v.YTicks = append(v.YTicks, tick{y(t), render.Trim(t, 2) + " ms"})
	}
	for t := 0.0; t <= eTop+eStep/2; t += eStep {
		v.ETicks = append(v.ETicks, tick{ey(t), render.Trim(t*100, 2) + "%"})
	}
	var lat, errs []string
	for _, s := range steps {
		px, py, pe := x(float64(s.Rate)), y(s.P95), ey(s.Errors)
		lat = append(lat, fmt.Sprintf("%.1f,%.1f", px, py))
		errs = append(errs, fmt.Sprintf("%.1f,%.1f", px, pe))
		verdict := "held"
		if !s.Passed {
			verdict = "did not hold"
		}
		v.Points = append(v.Points, point{X: px, Y: py, EY: pe, Passed: s.Passed,
			Title: fmt.Sprintf("%d/s: %s; p95 %s, errors %s, achieved %s/s", s.Rate, verdict, render.Trim(s.P95, 2)+" ms", render.Trim(s.Errors*100, 2)+"%", render.Trim(s.Achieved, 2))})
		v.Steps = append(v.Steps, stepRow{Rate: strconv.Itoa(s.Rate) + "/s", Achieved: render.Trim(s.Achieved, 2) + "/s", P95: render.Trim(s.P95, 2) + " ms",
			Errors: render.Trim(s.Errors*100, 2) + "%", Verdict: string(s.Outcome), Reasons: strings.Join(s.Reasons, "; "), Passed: s.Passed})
	}
	if len(lat) > 0 {
		v.Latency, v.Error = "M"+strings.Join(lat, " L"), "M"+strings.Join(errs, " L")
	}
	return render.HTML(w, page, v)
}

// WriteText writes the steps as a table, in the order of their rates.
func (r Report) WriteText(w io.Writer) error {
	steps := slices.Clone(r.Steps)
	slices.SortStableFunc(steps, func(a, b Step) int { return a.Rate - b.Rate })
	var b strings.Builder
	fmt.Fprintf(&b, "  %8s  %9s  %10s  %7s  %s\n", "rate", "achieved", "p95", "errors", "verdict")
	for _, s := range steps {
		mark := "✓"
		if !s.Passed {
			mark = "✗"
		}
		fmt.Fprintf(&b, "  %8s  %9s  %10s  %7s  %s %s\n", strconv.Itoa(s.Rate)+"/s", render.Trim(s.Achieved, 2)+"/s", render.Trim(s.P95, 2)+"ms", render.Trim(s.Errors*100, 2)+"%", mark, s.Outcome)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// summary is the result in a sentence.
func (r Report) summary() string {
	bound := ""
	if r.LowerBound {
		bound = "at least "
	}
	return fmt.Sprintf("%s%d iterations/s of %s's journeys with %d API instance(s), each step held %s (%s)",
		bound, r.Rate, r.Scenario, r.APIInstances, render.Trim(float64(r.HoldMs)/1000, 2)+"s", r.Why)
}
