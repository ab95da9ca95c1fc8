package dashboards

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"

	"github.com/taskready/taskready/loadtest/record"
	"github.com/taskready/taskready/loadtest/scenario"
	"github.com/taskready/taskready/loadtest/threshold"
)

// lsel is the selector of the load dashboard's queries: its scenario and
// endpoint variables.
const lsel = `scenario=~"$scenario", endpoint=~"$endpoint"`

// Load is the load-test dashboard of one scenario file, watched while
// `harness run -metrics-addr` runs it: target against achieved rate,
// latency by endpoint and phase, errors, dropped iterations, the
// generator's CPU, one panel per threshold with its bound drawn as a
// line, and the phases and faults as annotations. Its variables list the file's
// scenarios and endpoints, so a new endpoint or threshold in the file
// appears here when the dashboards are generated again.
func Load(f *scenario.File) *dashboard.DashboardBuilder {
	b := board("taskready-load-"+f.Name, "Load test: "+f.Name, loadDescription(f)).
		Tags([]string{"taskready", "load-test", f.Name}).
		Refresh("5s").
		Time("now-30m", "now").
		WithVariable(datasourceVariable()).
		WithVariable(listVariable("scenario", "Scenario", scenarioNames(f))).
		WithVariable(listVariable("endpoint", "Endpoint", endpoints(f))).
		Annotation(phaseAnnotations())
	if len(f.Faults) > 0 {
		b.Annotation(faultAnnotations())
	}

	b.WithRow(row("Load"))
	open := hasOpenModel(f)
	if open {
		b.WithPanel(targetVsAchieved())
	}
	b.WithPanel(requestsByEndpoint()).WithPanel(errorsByEndpoint())
	if open {
		b.WithPanel(droppedIterations())
	}
	b.WithPanel(generatorCPU())

	b.WithRow(row("Latency"))
	b.WithPanel(latencyByEndpoint()).WithPanel(latencyByPhase())

	if groups := thresholdGroups(f); len(groups) > 0 {
		b.WithRow(row("Thresholds"))
		for _, g := range groups {
			b.WithPanel(thresholdPanel(g))
		}
	}
	return b
}

func loadDescription(f *scenario.File) string {
	d := "The harness's own series while it runs " + f.Path + " (harness run -metrics-addr)."
	if f.Description != "" {
		d = f.Description + " " + d
	}
	return d
}

// listVariable is a multi-value variable over fixed values, "All" by
// default.
func listVariable(name, label string, values []string) *dashboard.CustomVariableBuilder {
	return dashboard.NewCustomVariableBuilder(name).
		Label(label).
		Values(dashboard.StringOrMap{String: cog.ToPtr(strings.Join(values, ","))}).
		Multi(true).
		IncludeAll(true).
		AllValue(".*").
		Current(all)
}

func scenarioNames(f *scenario.File) []string {
	var names []string
	for _, s := range f.Scenarios {
		names = append(names, s.Name)
	}
	return names
}

// endpoints lists the endpoint tags of the journeys the scenarios run,
// sorted.
func endpoints(f *scenario.File) []string {
	var out []string
	for _, s := range f.Scenarios {
		for _, wj := range s.Journeys {
			j := f.Journeys[wj.Name]
			if j == nil {
				continue
			}
			for _, st := range j.Steps {
				if e := st.Endpoint; e != "" && !slices.Contains(out, e) {
					out = append(out, e)
				}
			}
		}
	}
	slices.Sort(out)
	return out
}

func hasOpenModel(f *scenario.File) bool {
	return slices.ContainsFunc(f.Scenarios, func(s scenario.Scenario) bool { return s.Executor.Open() })
}

// phaseAnnotations mark each phase of each scenario on every graph.
func phaseAnnotations() *dashboard.AnnotationQueryBuilder {
	return dashboard.NewAnnotationQueryBuilder().
		Name("Phases").
		Datasource(datasource).
		Enable(true).
		IconColor("rgba(255, 176, 85, 0.6)").
		Expr(record.SeriesPhase + `{scenario=~"$scenario"} == 1`).
		TitleFormat("{{phase}}").
		TextFormat("scenario {{scenario}}").
		TagKeys("scenario,phase").
		Step("1s")
}

// faultAnnotations mark each fault of the scenario while it is active:
// the failure, beside what it did to every graph.
func faultAnnotations() *dashboard.AnnotationQueryBuilder {
	return dashboard.NewAnnotationQueryBuilder().
		Name("Faults").
		Datasource(datasource).
		Enable(true).
		IconColor("rgba(220, 38, 38, 0.7)").
		Expr(record.SeriesFaultActive + ` == 1`).
		TitleFormat("fault {{fault}}").
		TextFormat("{{action}} {{target}}").
		TagKeys("fault,target,action").
		Step("1s")
}

func targetVsAchieved() *dashboardPanel {
	return graph("Target vs achieved rate", "Iterations per second the open-model schedule calls for, and those that started. A gap is the generator or the system falling behind.", "ops").
		WithTarget(query(`sum by (scenario) (`+record.SeriesTargetRate+`{scenario=~"$scenario"})`, "target {{scenario}}")).
		WithTarget(query(`sum by (scenario) (rate(`+record.SeriesIterations+`{scenario=~"$scenario"}[$__rate_interval]))`, "achieved {{scenario}}"))
}

func requestsByEndpoint() *dashboardPanel {
	return graph("Requests per second by endpoint", "Requests the generator completed.", "reqps").
		WithTarget(query(`sum by (endpoint) (rate(`+record.SeriesRequests+`{`+lsel+`}[$__rate_interval]))`, "{{endpoint}}"))
}

// failed selects the requests k6 counts in http_req_failed: no response
// (status 0) or a status of 400 and above.
const failed = `status!~"[123].."`

func errorsByEndpoint() *dashboardPanel {
	// "or ... * 0" keeps a 0 line for endpoints without errors, so the
	// panel shows "no errors" rather than "no data".
	return graph("Errors per second by endpoint", "Requests that got no response or a status of 400 or more.", "reqps").
		WithTarget(query(`sum by (endpoint) (rate(`+record.SeriesRequests+`{`+lsel+`, `+failed+`}[$__rate_interval]) or rate(`+record.SeriesRequests+`{`+lsel+`}[$__rate_interval]) * 0)`, "{{endpoint}}"))
}

func droppedIterations() *dashboardPanel {
	return graph("Dropped iterations", "Open-model iterations that found no free VU (maxVUs reached). Over 1% makes the run invalid.", "ops").
		Min(0).
		WithTarget(query(`sum by (scenario) (rate(`+record.SeriesDroppedIterations+`{scenario=~"$scenario"}[$__rate_interval]))`, "{{scenario}}"))
}

func generatorCPU() *dashboardPanel {
	return graph("Generator CPU", "The harness's CPU as a share of all cores. Over 90% makes the run invalid: the numbers would describe the generator.", "percentunit").
		Min(0).Max(1).
		Thresholds(steps("green", 0.9, "red")).
		ThresholdsStyle(dashedThresholds()).
		WithTarget(query(`max(`+record.SeriesGeneratorCPU+`)`, "CPU"))
}

func latencyByEndpoint() *dashboardPanel {
	p := graph("Latency by endpoint (p50, p95, p99)", "Timed from each request's scheduled start (coordinated omission corrected). Dashed: the bounds of the file's duration thresholds. Pick one endpoint with the variable to read its three lines.", "s")
	for _, q := range []struct{ q, name string }{{"0.5", "p50"}, {"0.95", "p95"}, {"0.99", "p99"}} {
		p.WithTarget(query(`histogram_quantile(`+q.q+`, sum by (le, endpoint) (rate(`+record.SeriesRequestDuration+`_bucket{`+lsel+`}[$__rate_interval])))`, q.name+" {{endpoint}}"))
	}
	return p.
		WithTarget(query(`max by (expression, metric) (`+record.SeriesThresholdBound+`{metric=~"`+record.MetricDuration+`.*"})`, "bound {{metric}} {{expression}}")).
		OverrideByRegexp("^bound .*", []dashboard.DynamicConfigValue{
			{Id: "custom.lineStyle", Value: map[string]any{"fill": "dash", "dash": []int{10, 10}}},
			{Id: "color", Value: map[string]any{"mode": "fixed", "fixedColor": "red"}},
		})
}

func latencyByPhase() *dashboardPanel {
	p := graph("Latency by phase (p50, p95, p99)", "All endpoints of the selected scenarios, per phase.", "s")
	for _, q := range []struct{ q, name string }{{"0.5", "p50"}, {"0.95", "p95"}, {"0.99", "p99"}} {
		p.WithTarget(query(`histogram_quantile(`+q.q+`, sum by (le, phase) (rate(`+record.SeriesRequestDuration+`_bucket{`+lsel+`}[$__rate_interval])))`, q.name+" {{phase}}"))
	}
	return p
}

// thresholdGroup is the thresholds of one selector that Prometheus can
// draw: one panel, one line per expression.
type thresholdGroup struct {
	selector threshold.Selector
	items    []threshold.Threshold
}

// thresholdGroups groups the file's thresholds by selector, in file
// order. Those on checks and data volumes have no series in the
// harness's /metrics and stay in the run's reports only.
func thresholdGroups(f *scenario.File) []thresholdGroup {
	var out []thresholdGroup
	for _, t := range f.Thresholds {
		if _, _, ok := promQL(t.Threshold); !ok {
			continue
		}
		i := slices.IndexFunc(out, func(g thresholdGroup) bool { return g.selector.String() == t.Selector.String() })
		if i < 0 {
			out = append(out, thresholdGroup{selector: t.Selector})
			i = len(out) - 1
		}
		out[i].items = append(out[i].items, t.Threshold)
	}
	return out
}

func thresholdPanel(g thresholdGroup) *dashboardPanel {
	var unit string
	var bounds []any
	p := graph("Threshold "+g.selector.String(), "", "")
	var exprs []string
	for _, t := range g.items {
		q, u, _ := promQL(t)
		unit = u
		p.WithTarget(query(q, t.Expr.String()))
		exprs = append(exprs, t.Source)
		bound := t.Expr.Value
		if u == "s" {
			bound /= 1000 // milliseconds in the file, seconds in Prometheus
		}
		bounds = append(bounds, bound)
	}
	p.Unit(unit).Description("The file's thresholds " + strings.Join(exprs, ", ") + " on " + g.selector.String() + ", as Prometheus sees them over the rate interval; the run's verdict comes from the full histograms.")
	// Colors flip for lower bounds (rate>0.99): under the line is bad.
	good, bad := "green", "red"
	if op := g.items[0].Expr.Op; op == threshold.OpGreater || op == threshold.OpGreaterOrEqual {
		good, bad = bad, good
	}
	slices.SortFunc(bounds, func(a, b any) int { return cmpFloat(a.(float64), b.(float64)) })
	var st []any
	for _, b := range bounds {
		st = append(st, b, bad)
	}
	return p.Thresholds(steps(good, st...)).ThresholdsStyle(dashedThresholds())
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// promQL is the query of threshold t over the harness's series, and its
// unit; ok is false for metrics the harness does not export.
func promQL(t threshold.Threshold) (q, unit string, ok bool) {
	m := matchers(t.Selector)
	switch t.Selector.Metric {
	case record.MetricDuration, record.MetricDurationUncorrected:
		buckets := `sum by (le) (rate(` + record.SeriesRequestDuration + `_bucket{` + m + `}[$__rate_interval]))`
		switch t.Expr.Stat {
		case threshold.StatPercentile:
			return fmt.Sprintf("histogram_quantile(%s, %s)", strconv.FormatFloat(t.Expr.Percentile/100, 'f', -1, 64), buckets), "s", true
		case threshold.StatMed:
			return "histogram_quantile(0.5, " + buckets + ")", "s", true
		case threshold.StatMax:
			return "histogram_quantile(1, " + buckets + ")", "s", true
		case threshold.StatMin:
			return "histogram_quantile(0, " + buckets + ")", "s", true
		case threshold.StatAvg:
			return `sum(rate(` + record.SeriesRequestDuration + `_sum{` + m + `}[$__rate_interval])) / sum(rate(` + record.SeriesRequestDuration + `_count{` + m + `}[$__rate_interval]))`, "s", true
		}
	case record.MetricFailed:
		if t.Expr.Stat == threshold.StatRate {
			all := `rate(` + record.SeriesRequests + `{` + m + `}[$__rate_interval])`
			bad := `rate(` + record.SeriesRequests + `{` + join(m, failed) + `}[$__rate_interval])`
			return "sum(" + bad + " or " + all + " * 0) / sum(" + all + ")", "percentunit", true
		}
	case record.MetricReqs:
		switch t.Expr.Stat {
		case threshold.StatRate:
			return `sum(rate(` + record.SeriesRequests + `{` + m + `}[$__rate_interval]))`, "reqps", true
		case threshold.StatCount:
			return `sum(` + record.SeriesRequests + `{` + m + `})`, "short", true
		}
	}
	return "", "", false
}

// matchers turns a selector's tags into label matchers; the harness's
// labels are the record's tag keys (scenario, endpoint, phase).
func matchers(s threshold.Selector) string {
	var parts []string
	for _, t := range s.Tags {
		parts = append(parts, t.Key+"="+strconv.Quote(t.Value))
	}
	return strings.Join(parts, ", ")
}

func join(a, b string) string {
	if a == "" {
		return b
	}
	return a + ", " + b
}
