package report

import (
	"errors"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/taskready/taskready/internal/render"
	"github.com/taskready/taskready/loadtest/summary"
)

// TextOption configures Text.
type TextOption func(*textConfig)

// ErrNilSummary is returned by every renderer given a nil summary.
var ErrNilSummary = errors.New("report: nil summary")

type textConfig struct {
	color bool
}

// Color turns ANSI colours on or off (off by default: CI logs and files are not terminals).
func Color(on bool) TextOption {
	return func(c *textConfig) { c.color = on }
}

// Text writes s as a k6-style end-of-run summary for a terminal, ending with the outcome line.
func Text(w io.Writer, s *summary.Summary, opts ...TextOption) error {
	if s == nil {
		return ErrNilSummary
	}
	var c textConfig
	for _, o := range opts {
		o(&c)
	}
	t := &textWriter{s: s, Terminal: render.Terminal{Color: c.color}}
	t.header()
	t.thresholds()
	t.faults()
	t.writes()
	t.recoveries()
	t.validity()
	t.totals()
	t.comparison()
	t.outcome()
	_, err := t.WriteTo(w)
	return err
}

// textWriter builds the summary in memory, so that a failing writer sees
// one write and the report is never half written by our own doing.
type textWriter struct {
	s *summary.Summary
	render.Terminal
}

// blank ends a paragraph unless one just ended.
func (t *textWriter) blank() {
	if !strings.HasSuffix(t.String(), "\n\n") {
		t.Line()
	}
}

func (t *textWriter) mark(ok bool) string {
	if ok {
		return t.Paint(render.Green, "✓")
	}
	return t.Paint(render.Red, "✗")
}

func (t *textWriter) section(title string) {
	t.Line()
	t.Line("  ", t.Paint(render.Bold, "█ "+title))
	t.Line()
}

func (t *textWriter) header() {
	r := t.s.Run
	name := r.Name
	if name == "" {
		name = r.ID
	}
	head := t.Paint(render.Bold, name)
	if r.Target != "" {
		head += " → " + r.Target
	}
	parts := []string{head, seconds(r.Duration)}
	if r.Engine != "" {
		parts = append(parts, "engine "+r.Engine)
	}
	t.Line()
	t.Line("  █ ", strings.Join(parts, "  ·  "))
	var detail []string
	if r.ID != "" && r.ID != name {
		detail = append(detail, "run "+r.ID)
	}
	if !r.Start.IsZero() {
		detail = append(detail, "started "+render.Time(r.Start))
	}
	if len(detail) > 0 {
		t.Line("    ", t.Paint(render.Faint, strings.Join(detail, " · ")))
	}
	if env := environment(r.Environment); len(env) > 0 {
		var kv []string
		for _, e := range env {
			kv = append(kv, e[0]+" "+e[1])
		}
		t.Line("    ", t.Paint(render.Faint, strings.Join(kv, ", ")))
	}
}

// thresholds groups the verdicts by selector, in the order the scenario
// file states them, as k6 does.
func (t *textWriter) thresholds() {
	ts := t.s.Run.Thresholds
	if len(ts) == 0 {
		return
	}
	t.section("THRESHOLDS")
	var order []string
	by := map[string][]summary.Threshold{}
	for _, th := range ts {
		if _, ok := by[th.Metric]; !ok {
			order = append(order, th.Metric)
		}
		by[th.Metric] = append(by[th.Metric], th)
	}
	for i, m := range order {
		if i > 0 {
			t.Line()
		}
		t.Line("    ", m)
		for _, th := range by[m] {
			tail := ""
			if th.AbortOnFail {
				tail = t.Paint(render.Faint, "  (abortOnFail)")
			}
			t.Line("    ", t.mark(th.Passed), " '", th.Expression, "' ", observed(t.s, th), tail)
		}
	}
}

func (t *textWriter) faults() {
	fs := t.s.Run.Faults
	if len(fs) == 0 {
		return
	}
	t.section("FAULTS")
	for _, f := range fs {
		mark := t.mark(f.Played && f.Error == "")
		t.Line("    ", mark, " ", f.Name, ": ", faultWhat(f), ", ", faultWhen(f))
		if f.Error != "" {
			t.Line("      ↳  ", f.Error)
		}
		if !f.Played {
			continue
		}
		errs, window, p95, _ := faultCells(f)
		t.Line("      ↳  errors ", errs, " (", window, ") · p95 ", p95, " · ", faultRecovery(f))
	}
}

func (t *textWriter) writes() {
	w := t.s.Run.Writes
	if w == nil {
		return
	}
	t.section("WRITES")
	t.Line("    ", t.mark(writesWhole(w)), " ", writesRead(w))
	t.Line("      ↳  ", writesFound(w))
	if w.Error != "" {
		t.Line("      ↳  ", w.Error)
	}
	for _, f := range w.Findings {
		t.Line("      ↳  ", findingLine(f))
	}
	if more := moreFindings(w); more != "" {
		t.Line("      ↳  ", more)
	}
}

func (t *textWriter) recoveries() {
	rs := t.s.Run.Recoveries
	if len(rs) == 0 {
		return
	}
	t.section("RECOVERIES")
	for _, r := range rs {
		t.Line("    ", t.mark(r.Passed), " after ", r.After, ": ", recoveryBound(t.s, r), " within ", seconds(r.Within))
		res := recoveryResult(r)
		if !r.Passed && r.Reason != "" {
			res += ": " + r.Reason
		}
		t.Line("      ↳  ", res)
	}
}

func (t *textWriter) validity() {
	v := t.s.Run.Validity
	t.section("VALIDITY")
	switch {
	case v.Valid && len(v.Checks) > 0:
		noun := " checks"
		if len(v.Checks) == 1 {
			noun = " check"
		}
		t.Line("    ", t.mark(true), " valid run (", strconv.Itoa(len(v.Checks)), noun, " passed)")
	case v.Valid:
		t.Line("    ", t.mark(true), " valid run")
	default:
		t.Line("    ", t.Paint(render.Yellow, "✗ INVALID run:"), " the numbers describe the load generator, not the system under test")
		for _, c := range v.Checks {
			if !c.OK {
				t.Line("      ", t.Paint(render.Yellow, "✗"), " ", c.Name, ": observed ", c.Observed, " (limit ", c.Limit, ")")
				if c.Note != "" {
					t.Line("        ", c.Note)
				}
			}
		}
	}
	t.Line()
	rows := []dotRow{
		{label: "generator_cpu", cells: []string{percent(v.GeneratorCPU), "of all cores"}},
	}
	if v.HasSendLag() {
		rows = append(rows, dotRow{label: "send_lag_p99", cells: []string{millis(v.SendLagP99)}})
	}
	t.dots(rows)
}

// totals is k6's TOTAL RESULTS: checks, HTTP, our phases, execution and
// network, with one dot-leader width for the HTTP, execution and network
// rows, as k6 aligns them.
func (t *textWriter) totals() {
	t.section("TOTAL RESULTS")
	t.checks()
	httpRows := t.httpRows()
	execRows := t.execRows()
	netRows := t.netRows()
	width := dotWidth(httpRows, execRows, netRows)
	t.Line("    ", t.Paint(render.Bold, "HTTP"))
	if len(httpRows) == 0 {
		t.Line("    no requests")
	}
	t.dotsWidth(httpRows, width)
	t.failures()
	t.phases()
	if len(execRows) > 0 {
		t.Line()
		t.Line("    ", t.Paint(render.Bold, "EXECUTION"))
		t.dotsWidth(execRows, width)
	}
	if len(netRows) > 0 {
		t.Line()
		t.Line("    ", t.Paint(render.Bold, "NETWORK"))
		t.dotsWidth(netRows, width)
	}
}

func (t *textWriter) checks() {
	passes, fails := checkTotals(t.s)
	total := passes + fails
	if total == 0 && len(checkRows(t.s)) == 0 {
		return
	}
	rate := 0.0
	if t.s.Run.Duration > 0 {
		rate = float64(total) / t.s.Run.Duration
	}
	frac := func(n int64) float64 {
		if total == 0 {
			return 0
		}
		return float64(n) / float64(total)
	}
	t.dots([]dotRow{
		{label: "checks_total", cells: []string{strconv.FormatInt(total, 10), fixed(rate, 6) + "/s"}},
		{label: "checks_succeeded", cells: []string{percent(frac(passes)), strconv.FormatInt(passes, 10) + " out of " + strconv.FormatInt(total, 10)}},
		{label: "checks_failed", cells: []string{percent(frac(fails)), strconv.FormatInt(fails, 10) + " out of " + strconv.FormatInt(total, 10)}},
	})
	rows := checkRows(t.s)
	if len(rows) > 0 {
		t.Line()
	}
	printed := map[string]bool{}
	for _, r := range rows {
		// Print every enclosing group not yet printed, so a group that
		// holds only sub-groups still shows in the tree.
		if r.Group != "" {
			parts := strings.Split(r.Group, "::")
			for i := range parts {
				path := strings.Join(parts[:i+1], "::")
				if !printed[path] {
					printed[path] = true
					t.blank()
					t.Line("    ", strings.Repeat("  ", i), "█ ", parts[i])
					t.Line()
				}
			}
		}
		ind := "    " + strings.Repeat("  ", r.Depth)
		c := r.Check
		t.Line(ind, t.mark(c.Fails == 0), " ", c.Name)
		if c.Fails > 0 {
			n := c.Passes + c.Fails
			t.Line(ind, "  ↳  ", strconv.FormatInt(c.Passes*100/n, 10), "% — ✓ ", strconv.FormatInt(c.Passes, 10), " / ✗ ", strconv.FormatInt(c.Fails, 10))
		}
	}
	t.Line()
}

func (t *textWriter) httpRows() []dotRow {
	var rows []dotRow
	m, ok := t.s.Metrics["http_req_duration"]
	withP99 := ok && hasValue(m, "p(99)")
	if ok && len(m.Values) > 0 {
		rows = append(rows, dotRow{label: "http_req_duration", cells: trendCells(m, withP99), group: 1})
	}
	shared := sharedEndpoints(t.s.Run.Endpoints)
	for _, b := range t.s.Run.Endpoints {
		if b.Requests == 0 {
			continue
		}
		cells := []string{"avg=" + millis(b.Avg), "min=" + millis(b.Min), "med=" + millis(b.Med), "max=" + millis(b.Max), "p(90)=" + millis(b.P90), "p(95)=" + millis(b.P95)}
		if withP99 {
			cells = append(cells, "p(99)="+millis(b.P99))
		}
		rows = append(rows, dotRow{label: "  " + endpointLabel(b, shared), cells: cells, group: 1})
	}
	if m, ok := t.s.Metrics["http_req_duration_uncorrected"]; ok && len(m.Values) > 0 {
		rows = append(rows, dotRow{label: "http_req_duration_uncorrected", cells: trendCells(m, withP99), group: 1})
	}
	if m, ok := t.s.Metrics["http_req_failed"]; ok && len(m.Values) > 0 {
		failed, total := m.Values["passes"], m.Values["passes"]+m.Values["fails"]
		rows = append(rows, dotRow{label: "http_req_failed", cells: []string{percent(m.Values["value"]), render.Trim(failed, 0) + " out of " + render.Trim(total, 0)}})
	}
	if m, ok := t.s.Metrics["http_reqs"]; ok && len(m.Values) > 0 {
		rows = append(rows, dotRow{label: "http_reqs", cells: []string{render.Trim(m.Values["count"], 0), fixed(m.Values["rate"], 6) + "/s"}})
	}
	return rows
}

func hasValue(m summary.Metric, k string) bool {
	_, ok := m.Values[k]
	return ok
}

func trendCells(m summary.Metric, withP99 bool) []string {
	keys := []string{"avg", "min", "med", "max", "p(90)", "p(95)"}
	if withP99 {
		keys = append(keys, "p(99)")
	}
	cells := make([]string, 0, len(keys))
	for _, k := range keys {
		v, ok := m.Values[k]
		if !ok {
			cells = append(cells, k+"=n/a")
			continue
		}
		cells = append(cells, k+"="+millis(v))
	}
	return cells
}

// failures says why requests failed, the most frequent reasons first,
// under http_req_failed whose count they explain.
func (t *textWriter) failures() {
	fs := failures(t.s)
	if len(fs) == 0 {
		return
	}
	t.Line()
	t.Line("    ", t.Paint(render.Bold, "FAILURES"), t.Paint(render.Faint, "  (requests that failed or failed their check, by reason)"))
	for _, f := range fs[:min(len(fs), maxTextFailures)] {
		t.Line("    ", t.Paint(render.Red, "✗"), " ", f.Count, " × ", f.Reason, " ", t.Paint(render.Faint, "("+f.Where+", "+f.Share+" of its requests)"))
	}
	if more := moreFailures(fs, maxTextFailures); more != "" {
		t.Line("      ", more)
	}
}

// phases is a table rather than dot rows: a phase is compared with the
// phases beside it, column by column.
func (t *textWriter) phases() {
	ps := t.s.Run.Phases
	if len(ps) == 0 {
		return
	}
	t.Line()
	rows := [][]string{{"PHASES", "requests", "rps", "failed", "p50", "p95", "p99", "max", "p95 uncorr."}}
	for _, p := range ps {
		rows = append(rows, []string{p.Phase, strconv.FormatInt(p.Requests, 10), fixed(p.RPS, 2), percent(p.FailureRate),
			millis(p.Med), millis(p.P95), millis(p.P99), millis(p.Max), millis(p.P95Uncorrected)})
	}
	widths := make([]int, len(rows[0]))
	for _, r := range rows {
		for i, c := range r {
			widths[i] = max(widths[i], utf8.RuneCountInString(c))
		}
	}
	for n, r := range rows {
		var sb strings.Builder
		for i, c := range r {
			if i == 0 {
				sb.WriteString(render.Pad(c, widths[i]))
				continue
			}
			sb.WriteString("  ")
			sb.WriteString(render.PadLeft(c, widths[i]))
		}
		text := sb.String()
		if n == 0 {
			text = t.Paint(render.Bold, "PHASES") + strings.TrimPrefix(text, "PHASES")
		}
		t.Line("    ", text)
	}
}

func (t *textWriter) execRows() []dotRow {
	r := t.s.Run
	var rows []dotRow
	var iters, dropped, vus int64
	for _, sc := range r.Scenarios {
		iters += sc.Iterations
		dropped += sc.Dropped
		vus += sc.VUsMax
	}
	perSecond := func(n float64) string {
		if r.Duration <= 0 {
			return fixed(0, 6) + "/s"
		}
		return fixed(n/r.Duration, 6) + "/s"
	}
	if v, ok := metricValue(t.s, "dropped_iterations", "count"); ok {
		dropped = int64(v)
	}
	if dropped > 0 {
		rows = append(rows, dotRow{label: "dropped_iterations", cells: []string{strconv.FormatInt(dropped, 10), perSecond(float64(dropped))}})
	}
	rows = append(rows, t.iterationRows()...)
	if v, ok := metricValue(t.s, "iterations", "count"); ok {
		iters = int64(v)
	}
	if len(r.Scenarios) > 0 || iters > 0 {
		rows = append(rows, dotRow{label: "iterations", cells: []string{strconv.FormatInt(iters, 10), perSecond(float64(iters))}})
	}
	for _, sc := range r.Scenarios {
		cells := []string{strconv.FormatInt(sc.Iterations, 10)}
		if sc.TargetRate > 0 {
			ach := "achieved=" + render.Trim(sc.AchievedRate, 2) + "/s"
			ach += " (" + render.Trim(100*sc.AchievedRate/sc.TargetRate, 1) + "%)"
			cells = append(cells, "target="+render.Trim(sc.TargetRate, 2)+"/s", ach)
		} else {
			cells = append(cells, sc.Executor, "closed model")
		}
		cells = append(cells, "dropped="+strconv.FormatInt(sc.Dropped, 10), "vus_max="+strconv.FormatInt(sc.VUsMax, 10))
		rows = append(rows, dotRow{label: "  { scenario:" + sc.Name + " }", cells: cells, group: 2})
	}
	if v, ok := metricValue(t.s, "vus_max", "max"); ok {
		vus = int64(v)
	} else if v, ok := metricValue(t.s, "vus_max", "value"); ok {
		vus = int64(v)
	}
	if vus > 0 {
		rows = append(rows, dotRow{label: "vus_max", cells: []string{strconv.FormatInt(vus, 10)}})
	}
	return rows
}

// iterationRows are iteration_duration and its journeys, k6's trend row
// then one sub-row per journey as httpRows has one per endpoint.
func (t *textWriter) iterationRows() []dotRow {
	m, ok := t.s.Metrics["iteration_duration"]
	if !ok || len(m.Values) == 0 {
		return nil
	}
	withP99 := hasValue(m, "p(99)")
	rows := []dotRow{{label: "iteration_duration", cells: trendCells(m, withP99), group: 3}}
	shared := sharedJourneys(t.s.Run.Journeys)
	for _, j := range t.s.Run.Journeys {
		cells := []string{"avg=" + millis(j.Avg), "min=" + millis(j.Min), "med=" + millis(j.Med), "max=" + millis(j.Max), "p(90)=" + millis(j.P90), "p(95)=" + millis(j.P95)}
		if withP99 {
			cells = append(cells, "p(99)="+millis(j.P99))
		}
		rows = append(rows, dotRow{label: "  " + journeyLabel(j, shared), cells: cells, group: 3})
	}
	return rows
}

func (t *textWriter) netRows() []dotRow {
	var rows []dotRow
	for _, name := range []string{"data_received", "data_sent"} {
		if m, ok := t.s.Metrics[name]; ok && len(m.Values) > 0 {
			rows = append(rows, dotRow{label: name, cells: []string{bytesSI(m.Values["count"]), bytesSI(m.Values["rate"]) + "/s"}})
		}
	}
	return rows
}

func (t *textWriter) comparison() {
	c := t.s.Run.Comparison
	if c == nil {
		return
	}
	t.section("COMPARISON")
	t.Line("    vs ", c.Baseline, ": ", t.Paint(render.Bold, c.Verdict))
	if len(c.Rows) == 0 {
		return
	}
	t.Line()
	rows := make([]dotRow, 0, len(c.Rows))
	for _, r := range c.Rows {
		cells := []string{
			comparisonValue(r.Metric, r.Old) + " → " + comparisonValue(r.Metric, r.New),
			signedPercent(r.Change),
			ciText(r),
			r.Verdict,
		}
		rows = append(rows, dotRow{mark: comparisonMark(r.Verdict), label: r.Name + " " + r.Metric, cells: cells})
	}
	t.dots(rows)
}

func (t *textWriter) outcome() {
	o := outcome(t.s)
	code := render.Red
	switch o.Status {
	case summary.StatusPassed:
		code = render.Green
	case summary.StatusInvalid, summary.StatusAborted:
		code = render.Yellow
	}
	line := statusLabel(o.Status) + " (exit " + strconv.Itoa(o.ExitCode) + ")"
	t.Line()
	if len(o.Reasons) == 0 {
		t.Line(t.Paint(render.Bold+";"+code, line))
		return
	}
	t.Line(t.Paint(render.Bold+";"+code, line+":"), " ", strings.Join(o.Reasons, "; "))
}

// ciText is a comparison row's interval in words, for the terminal.
func ciText(r summary.ComparisonRow) string {
	ci := comparisonCI(r.Metric, r.Low, r.High)
	if ci == "–" {
		return "(no interval)"
	}
	return "(CI of new−old " + ci + ")"
}
