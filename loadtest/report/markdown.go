package report

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/taskready/taskready/internal/render"
	"github.com/taskready/taskready/loadtest/summary"
)

// Markdown writes s as GitHub-flavoured Markdown for a CI job summary or a pull-request comment.
func Markdown(w io.Writer, s *summary.Summary) error {
	if s == nil {
		return ErrNilSummary
	}
	m := &mdWriter{s: s}
	m.title()
	m.details()
	m.comparison()
	_, err := m.WriteTo(w)
	return err
}

// details are the sections between the title and the comparison, which
// Comment moves to the top.
func (m *mdWriter) details() {
	m.thresholds()
	m.validity()
	m.faults()
	m.writes()
	m.recoveries()
	m.endpoints()
	m.failures()
	m.phases()
	m.journeys()
	m.scenarios()
}

type mdWriter struct {
	s *summary.Summary
	render.Markdown
}

func (m *mdWriter) title() {
	r := m.s.Run
	o := outcome(m.s)
	name := r.Name
	if name == "" {
		name = r.ID
	}
	m.P("## ", render.MarkdownText(name), ": **", statusLabel(o.Status), "** (exit ", strconv.Itoa(o.ExitCode), ")")
	m.P()
	var meta []string
	if r.Target != "" {
		meta = append(meta, "target "+render.MarkdownCode(r.Target))
	}
	meta = append(meta, "started "+render.Time(r.Start), "duration "+seconds(r.Duration))
	if r.Engine != "" {
		meta = append(meta, "engine "+render.MarkdownText(r.Engine))
	}
	if r.ID != "" {
		meta = append(meta, "run "+render.MarkdownCode(r.ID))
	}
	m.P(strings.Join(meta, " · "))
	if len(o.Reasons) > 0 {
		m.P()
		for _, reason := range o.Reasons {
			m.P("- ", render.MarkdownText(reason))
		}
	}
}

func (m *mdWriter) section(title string) {
	m.P()
	m.P("### ", title)
	m.P()
}

func (m *mdWriter) thresholds() {
	ts := m.s.Run.Thresholds
	if len(ts) == 0 {
		return
	}
	passed := 0
	rows := make([][]string, 0, len(ts))
	for _, t := range ts {
		result := "pass"
		switch {
		case !t.Passed:
			result = "**crossed**"
		case t.Observed == nil:
			result = "pass (no data)"
		}
		if t.Passed {
			passed++
		}
		rows = append(rows, []string{render.MarkdownCode(t.Metric), render.MarkdownCode(t.Expression), render.MarkdownText(observedValue(m.s, t)), result})
	}
	m.section("Thresholds: " + strconv.Itoa(passed) + " of " + strconv.Itoa(len(ts)) + " passed")
	m.Table("llrl", []string{"metric", "expression", "observed", "result"}, rows)
}

func (m *mdWriter) validity() {
	v := m.s.Run.Validity
	m.P()
	line := "**Validity:** valid"
	if !v.Valid {
		var failed []string
		for _, c := range v.Checks {
			if !c.OK {
				failed = append(failed, render.MarkdownText(c.Name)+" was "+render.MarkdownText(c.Observed)+" (limit "+render.MarkdownText(c.Limit)+")")
			}
		}
		line = "**Validity: INVALID**"
		if len(failed) > 0 {
			line += ", " + strings.Join(failed, "; ")
		}
	}
	lag := ""
	if v.HasSendLag() {
		lag = " · send lag p99 " + millis(v.SendLagP99)
	}
	m.P(line, " · generator CPU ", render.MarkdownText(percent(v.GeneratorCPU)), lag)
}

func (m *mdWriter) faults() {
	fs := m.s.Run.Faults
	if len(fs) == 0 {
		return
	}
	m.section("Faults")
	rows := make([][]string, 0, len(fs))
	for _, f := range fs {
		errs, window, p95, recovered := faultCells(f)
		when := faultWhen(f)
		if f.Error != "" {
			when += ": " + f.Error
		}
		rows = append(rows, []string{render.MarkdownCode(f.Name), render.MarkdownText(faultWhat(f)), render.MarkdownText(when),
			errs, window, render.MarkdownText(p95), recovered})
	}
	m.Table("lllrlll", []string{"fault", "action", "when", "errors during", "error window", "p95 before → during", "recovered after"}, rows)
}

func (m *mdWriter) writes() {
	w := m.s.Run.Writes
	if w == nil {
		return
	}
	m.section("Writes")
	m.P(render.MarkdownText(writesRead(w)), ".")
	m.P()
	m.Table("rrrrr", []string{"lost", "resurrected", "duplicated", "ambiguous", "unverified"}, [][]string{{
		strconv.FormatInt(w.Lost, 10), strconv.FormatInt(w.Resurrected, 10), strconv.FormatInt(w.Duplicated, 10),
		strconv.FormatInt(w.Ambiguous, 10), strconv.FormatInt(w.Unverified+w.Untracked, 10)}})
	if w.Error != "" {
		m.P()
		m.P(render.MarkdownText(w.Error))
	}
	if len(w.Findings) == 0 {
		return
	}
	rows := make([][]string, 0, len(w.Findings))
	for _, f := range w.Findings {
		rows = append(rows, []string{f.Kind, render.MarkdownCode(f.ID), render.MarkdownText(f.Owner), render.MarkdownText(f.Want), render.MarkdownText(f.Got)})
	}
	m.P()
	m.Table("lllll", []string{"finding", "task", "owner", "expected", "the API answered"}, rows)
	if more := moreFindings(w); more != "" {
		m.P()
		m.P(render.MarkdownText(more))
	}
}

func (m *mdWriter) recoveries() {
	rs := m.s.Run.Recoveries
	if len(rs) == 0 {
		return
	}
	m.section("Recoveries")
	rows := make([][]string, 0, len(rs))
	for _, r := range rs {
		result := "pass"
		if !r.Passed {
			result = "**failed**: " + render.MarkdownText(r.Reason)
		}
		rows = append(rows, []string{render.MarkdownCode(r.After), render.MarkdownText(recoveryBound(m.s, r)), seconds(r.Within), render.MarkdownText(recoveryResult(r)), result})
	}
	m.Table("lllll", []string{"after phase", "condition", "within", "result", "verdict"}, rows)
}

// breakdownCells are the columns the endpoint and phase tables share; a
// selection without requests has no statistics, rather than zeros.
func breakdownCells(b summary.Breakdown) []string {
	if b.Requests == 0 {
		return []string{"0", "–", "–", "–", "–", "–"}
	}
	return []string{
		strconv.FormatInt(b.Requests, 10), fixed(b.FailureRate*100, 2),
		fixed(b.Med, 1), fixed(b.P95, 1), fixed(b.P99, 1), fixed(b.RPS, 2),
	}
}

func (m *mdWriter) endpoints() {
	var rows [][]string
	for _, b := range m.s.Run.Endpoints {
		rows = append(rows, append([]string{render.MarkdownCode(b.Scenario), render.MarkdownCode(b.Endpoint)}, breakdownCells(b)...))
	}
	if len(rows) == 0 {
		return
	}
	m.section("Endpoints")
	m.Table("llrrrrrr", []string{"scenario", "endpoint", "requests", "failure %", "p50 ms", "p95 ms", "p99 ms", "rps"}, rows)
}

// failures is why requests failed, every reason the summary names.
func (m *mdWriter) failures() {
	fs := failures(m.s)
	if len(fs) == 0 {
		return
	}
	rows := make([][]string, 0, len(fs))
	for _, f := range fs {
		rows = append(rows, []string{f.Count, render.MarkdownText(f.Reason), render.MarkdownCode(f.Endpoint), render.MarkdownCode(f.Scenario), f.Share})
	}
	m.section("Failures")
	m.Table("rlllr", []string{"count", "reason", "endpoint", "scenario", "of its requests"}, rows)
}

func (m *mdWriter) phases() {
	var rows [][]string
	for _, b := range m.s.Run.Phases {
		rows = append(rows, append([]string{render.MarkdownCode(b.Phase)}, breakdownCells(b)...))
	}
	if len(rows) == 0 {
		return
	}
	m.section("Phases")
	m.Table("lrrrrrr", []string{"phase", "requests", "failure %", "p50 ms", "p95 ms", "p99 ms", "rps"}, rows)
}

// journeys is iteration_duration per journey: whole iterations, from
// their scheduled start in the open model.
func (m *mdWriter) journeys() {
	var rows [][]string
	for _, j := range m.s.Run.Journeys {
		name := "–"
		if j.Journey != "" {
			name = render.MarkdownCode(j.Journey)
		}
		rows = append(rows, []string{render.MarkdownCode(j.Scenario), name, strconv.FormatInt(j.Iterations, 10),
			fixed(j.Med, 1), fixed(j.P95, 1), fixed(j.P99, 1), fixed(j.Rate, 2)})
	}
	if len(rows) == 0 {
		return
	}
	m.section("Journeys (iteration_duration)")
	m.Table("llrrrrr", []string{"scenario", "journey", "iterations", "p50 ms", "p95 ms", "p99 ms", "per second"}, rows)
}

func (m *mdWriter) scenarios() {
	var rows [][]string
	for _, sc := range m.s.Run.Scenarios {
		target, achieved := "closed model", "–"
		if sc.TargetRate > 0 {
			target = render.Trim(sc.TargetRate, 2) + "/s"
			achieved = render.Trim(sc.AchievedRate, 2) + "/s (" + render.Trim(100*sc.AchievedRate/sc.TargetRate, 1) + "%)"
		}
		rows = append(rows, []string{render.MarkdownCode(sc.Name), render.MarkdownText(sc.Executor), target, achieved,
			strconv.FormatInt(sc.Iterations, 10), strconv.FormatInt(sc.Dropped, 10), strconv.FormatInt(sc.VUsMax, 10)})
	}
	if len(rows) == 0 {
		return
	}
	m.section("Scenarios")
	m.Table("llrrrrr", []string{"scenario", "executor", "target rate", "achieved", "iterations", "dropped", "VUs max"}, rows)
}

func (m *mdWriter) comparison() {
	c := m.s.Run.Comparison
	if c == nil {
		return
	}
	m.section("Comparison with baseline")
	m.P("Baseline ", render.MarkdownCode(c.Baseline), baselineRun(c.BaselineRun), ": **", render.MarkdownText(c.Verdict), "**")
	if c.Forced != "" {
		m.P()
		m.P("Compared anyway (-baseline-force): ", render.MarkdownText(c.Forced))
	}
	if cal := c.Calibration; cal != nil {
		m.P()
		m.P(render.MarkdownText(calibrationLine(cal)))
	}
	if len(c.Rows) == 0 {
		return
	}
	m.P()
	rows := make([][]string, 0, len(c.Rows))
	for _, r := range c.Rows {
		verdict := render.MarkdownText(r.Verdict)
		if r.Verdict == "regression" {
			verdict = "**" + verdict + "**"
		}
		rows = append(rows, []string{render.MarkdownText(r.Name), render.MarkdownCode(r.Metric), comparisonValue(r.Metric, r.Old), comparisonValue(r.Metric, r.New),
			signedPercent(r.Change), comparisonCI(r.Metric, r.Low, r.High), verdict, render.MarkdownText(r.Reason)})
	}
	m.Table("llrrrrll", []string{"selection", "statistic", "baseline", "this run", "change", "CI of new−old", "verdict", "reason"}, rows)
}

// calibrationLine says what the calibration the comparison used measured.
func calibrationLine(c *summary.Calibration) string {
	line := fmt.Sprintf("Minimum effect %s (calibrated in %s, which suggested %s): on this machine %s of %d A/A pairs were called a regression, and a p95 regression of %s or more is caught with 95%% confidence.",
		percent(c.MinEffect), c.File, percent(c.Suggested), percent(c.FalsePositiveRate), c.Pairs, percent(c.Detectable))
	if c.RunNoise > 0 {
		line += fmt.Sprintf(" Latency intervals include ±%s of run-to-run noise (measured: ±%s).", percent(c.RunNoise), percent(c.MeasuredRunNoise))
	}
	return line
}

// baselineRun names the run a baseline was, " (run ID, commit C, started
// T)", so that a reviewer knows which build the change is measured
// against; "" when the summary does not say.
func baselineRun(b *summary.BaselineRun) string {
	if b == nil || b.ID == "" {
		return ""
	}
	parts := []string{"run " + render.MarkdownCode(b.ID)}
	if b.Commit != "" {
		parts = append(parts, "commit "+render.MarkdownCode(b.Commit[:min(len(b.Commit), 12)]))
	}
	if !b.Start.IsZero() {
		parts = append(parts, "started "+render.Time(b.Start))
	}
	return " (" + strings.Join(parts, ", ") + ")"
}
