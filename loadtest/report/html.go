package report

import (
	"embed"
	"html/template"
	"io"
	"strconv"
	"strings"

	"github.com/taskready/taskready/internal/render"
	"github.com/taskready/taskready/loadtest/summary"
)

//go:embed report.html.tmpl
var templateFiles embed.FS

// htmlTemplate is parsed once; html/template escapes every value by the
// context it lands in, text, attribute or SVG, so names from a scenario
// file cannot break the page.
var htmlTemplate = template.Must(template.New("report.html.tmpl").Funcs(template.FuncMap{
	"n":   num,
	"add": func(a, b float64) float64 { return a + b },
	"sub": func(a, b float64) float64 { return a - b },
	"mid": func(a, b float64) float64 { return (a + b) / 2 },
}).ParseFS(templateFiles, "report.html.tmpl"))

// HTML writes s as one self-contained HTML page that fetches nothing when opened.
func HTML(w io.Writer, s *summary.Summary) error {
	if s == nil {
		return ErrNilSummary
	}
	return render.HTML(w, htmlTemplate, newHTMLView(s))
}

type htmlView struct {
	Name, Description string
	Status            statusView
	Meta, Env         []kv
	Reasons           []string
	Thresholds        []thresholdView
	ThresholdsPassed  int
	ThresholdsCrossed int
	Validity          validityView
	Recoveries        []recoveryView
	RecoveriesFailed  int
	Faults            []faultView
	Writes            *writesView
	Comparison        *comparisonView
	KPIs              []kpiView
	Charts            []chartView
	Endpoints, Phases []breakdownView
	Failures          []failureView
	Journeys          []journeyView
	Scenarios         []scenarioView
	Checks            []checkView
	Format            string
}

type kv struct{ K, V string }

// writesView is the write ledger's section.
type writesView struct {
	W          *summary.Writes
	Unverified int64
	Read, More string
}

// statusView is the outcome badge; Class picks its colour: "passed"
// green, "failed" red, "invalid" amber.
type statusView struct {
	Label, Class string
	Exit         int
}

type thresholdView struct {
	OK, NoData, Abort              bool
	Metric, Expr, Observed, Reason string
}

type validityView struct {
	Valid    bool
	CPU, Lag string
	Checks   []summary.ValidityCheck
}

// faultView is a row of the faults table.
type faultView struct {
	Name, What, When                   string
	Failed                             bool // not played, or not undone
	Errors                             int64
	ErrorsText, Window, P95, Recovered string
}

type recoveryView struct {
	OK                               bool
	After, Condition, Within, Result string
	Reason                           string
}

type comparisonView struct {
	Baseline, Verdict, Class string
	Rows                     []comparisonRowView
	// Card is what the verdict card shows of Rows: the whole run's rows
	// and those that changed, at most maxCardRows; More counts the rest,
	// which the table below lists.
	Card []comparisonRowView
	More int
}

// maxCardRows bounds the comparison card: a run with many endpoints and
// phases compares hundreds of selections, which belong in the table.
const maxCardRows = 8

type comparisonRowView struct {
	Mark, Class, Name, Metric, Old, New, Change, CI, Verdict, Reason string
}

type kpiView struct {
	Label, Value, Sub, Class string
}

type breakdownView struct {
	Name, Sub                                               string
	Requests, Failures, FailurePct, RPS, P50, P95, P99, Max string
	P95U, Statuses                                          string
	Failing, Empty                                          bool
}

// journeyView is one journey's whole iterations, in ms from their
// scheduled start, with the p95 from their actual start (P95U).
type journeyView struct {
	Name, Sub, Iterations, Rate, P50, P95, P99, Max, P95U string
}

type scenarioView struct {
	Name, Executor, Target, Achieved, Share, Planned, Iterations, Dropped, VUs string
	Short, Closed                                                              bool
}

type checkView struct {
	Group, Name, Passes, Fails, Rate string
	OK                               bool
}

func newHTMLView(s *summary.Summary) htmlView {
	r := s.Run
	o := outcome(s)
	v := htmlView{Name: r.Name, Description: r.Description, Reasons: o.Reasons, Format: r.Format + " v" + strconv.Itoa(r.Version)}
	if v.Name == "" {
		v.Name = r.ID
	}
	v.Status = statusView{Label: statusLabel(o.Status), Class: "failed", Exit: o.ExitCode}
	switch o.Status {
	case summary.StatusPassed:
		v.Status.Class = "passed"
	case summary.StatusInvalid, summary.StatusAborted:
		// Neither judged the system: the generator, or the user, stopped it.
		v.Status.Class = "invalid"
	}
	add := func(list *[]kv, k, val string) {
		if val != "" {
			*list = append(*list, kv{k, val})
		}
	}
	add(&v.Meta, "target", r.Target)
	add(&v.Meta, "started", render.Time(r.Start))
	add(&v.Meta, "duration", seconds(r.Duration))
	add(&v.Meta, "engine", r.Engine)
	add(&v.Meta, "run", r.ID)
	add(&v.Meta, "scenario file", r.File)
	for _, e := range environment(r.Environment) {
		add(&v.Env, e[0], e[1])
	}

	for _, t := range r.Thresholds {
		v.Thresholds = append(v.Thresholds, thresholdView{OK: t.Passed, NoData: t.Observed == nil, Abort: t.AbortOnFail,
			Metric: t.Metric, Expr: t.Expression, Observed: observedValue(s, t), Reason: t.Reason})
		if t.Passed {
			v.ThresholdsPassed++
		} else {
			v.ThresholdsCrossed++
		}
	}
	v.Validity = validityView{Valid: r.Validity.Valid, CPU: percent(r.Validity.GeneratorCPU), Lag: lagText(r.Validity), Checks: r.Validity.Checks}
	for _, rc := range r.Recoveries {
		v.Recoveries = append(v.Recoveries, recoveryView{OK: rc.Passed, After: rc.After, Condition: recoveryBound(s, rc),
			Within: seconds(rc.Within), Result: recoveryResult(rc), Reason: rc.Reason})
		if !rc.Passed {
			v.RecoveriesFailed++
		}
	}
	for _, f := range r.Faults {
		errs, window, p95, _ := faultCells(f)
		when := faultWhen(f)
		if f.Error != "" {
			when += ": " + f.Error
		}
		v.Faults = append(v.Faults, faultView{Name: f.Name, What: faultWhat(f), When: when, Failed: !f.Played || f.Error != "",
			Errors: f.Errors, ErrorsText: errs, Window: window, P95: p95, Recovered: faultRecovery(f)})
	}
	if w := r.Writes; w != nil {
		v.Writes = &writesView{W: w, Unverified: w.Unverified + w.Untracked, Read: writesRead(w), More: moreFindings(w)}
	}
	if c := r.Comparison; c != nil {
		cv := &comparisonView{Baseline: c.Baseline, Verdict: c.Verdict, Class: verdictClass(c.Verdict)}
		for _, row := range c.Rows {
			cv.Rows = append(cv.Rows, comparisonRowView{Mark: comparisonMark(row.Verdict), Class: verdictClass(row.Verdict),
				Name: row.Name, Metric: row.Metric, Old: comparisonValue(row.Metric, row.Old), New: comparisonValue(row.Metric, row.New),
				Change: signedPercent(row.Change), CI: comparisonCI(row.Metric, row.Low, row.High),
				Verdict: row.Verdict, Reason: row.Reason})
		}
		for i, row := range c.Rows {
			if len(cv.Card) < maxCardRows && (row.Name == "all" || row.Verdict == "regression" || row.Verdict == "improvement") {
				cv.Card = append(cv.Card, cv.Rows[i])
			}
		}
		cv.More = len(cv.Rows) - len(cv.Card)
		v.Comparison = cv
	}
	v.KPIs = kpis(s)
	v.Charts = charts(s)
	for _, b := range r.Endpoints {
		bv := breakdown(b)
		bv.Name, bv.Sub = b.Endpoint, b.Scenario
		v.Endpoints = append(v.Endpoints, bv)
	}
	v.Failures = failures(s)
	for _, b := range r.Phases {
		bv := breakdown(b)
		bv.Name = b.Phase
		v.Phases = append(v.Phases, bv)
	}
	for _, j := range r.Journeys {
		v.Journeys = append(v.Journeys, journeyView{Name: journeyName(j), Sub: j.Scenario, Iterations: thousands(j.Iterations),
			Rate: fixed(j.Rate, 2), P50: fixed(j.Med, 1), P95: fixed(j.P95, 1), P99: fixed(j.P99, 1), Max: fixed(j.Max, 1),
			P95U: fixed(j.P95Uncorrected, 1)})
	}
	for _, sc := range r.Scenarios {
		sv := scenarioView{Name: sc.Name, Executor: sc.Executor, Iterations: thousands(sc.Iterations),
			Dropped: thousands(sc.Dropped), VUs: thousands(sc.VUsMax), Closed: sc.TargetRate <= 0, Target: "closed model", Achieved: "–", Share: "–", Planned: "–"}
		if sc.TargetRate > 0 {
			share := sc.AchievedRate / sc.TargetRate
			sv.Target = render.Trim(sc.TargetRate, 2) + "/s"
			sv.Achieved = render.Trim(sc.AchievedRate, 2) + "/s"
			sv.Share = render.Trim(100*share, 1) + "%"
			// Below 95% of the schedule the generator or the system
			// fell behind; the row says so in colour.
			sv.Short = share < 0.95
		}
		if sc.Planned > 0 {
			sv.Planned = thousands(sc.Planned)
		}
		v.Scenarios = append(v.Scenarios, sv)
	}
	for _, cr := range checkRows(s) {
		c := cr.Check
		n := c.Passes + c.Fails
		rate := "–"
		if n > 0 {
			rate = percent(float64(c.Passes) / float64(n))
		}
		v.Checks = append(v.Checks, checkView{Group: strings.ReplaceAll(cr.Group, "::", " › "), Name: c.Name,
			Passes: thousands(c.Passes), Fails: thousands(c.Fails), Rate: rate, OK: c.Fails == 0})
	}
	return v
}

func verdictClass(verdict string) string {
	switch verdict {
	case "regression":
		return "bad"
	case "inconclusive":
		return "warn"
	}
	return "ok"
}

func breakdown(b summary.Breakdown) breakdownView {
	bv := breakdownView{Requests: thousands(b.Requests), Failures: thousands(b.Failures), FailurePct: percent(b.FailureRate),
		RPS: fixed(b.RPS, 2), Statuses: statuses(b.Statuses), Failing: b.Failures > 0, Empty: b.Requests == 0}
	if b.Requests > 0 {
		bv.P50, bv.P95, bv.P99, bv.Max, bv.P95U = fixed(b.Med, 1), fixed(b.P95, 1), fixed(b.P99, 1), fixed(b.Max, 1), fixed(b.P95Uncorrected, 1)
	} else {
		bv.P50, bv.P95, bv.P99, bv.Max, bv.P95U, bv.FailurePct, bv.RPS = "–", "–", "–", "–", "–", "–", "–"
	}
	return bv
}

// kpis are the headline numbers above the charts.
func kpis(s *summary.Summary) []kpiView {
	const none = "–"
	var out []kpiView
	reqs, hasReqs := metricValue(s, "http_reqs", "count")
	rate, _ := metricValue(s, "http_reqs", "rate")
	k := kpiView{Label: "Requests", Value: none, Sub: "no requests"}
	if hasReqs {
		k.Value, k.Sub = thousands(int64(reqs)), render.Trim(rate, 1)+" req/s"
	}
	out = append(out, k)

	k = kpiView{Label: "Failed requests", Value: none, Sub: "no requests"}
	if fr, ok := metricValue(s, "http_req_failed", "value"); ok {
		failed, _ := metricValue(s, "http_req_failed", "passes")
		fails, _ := metricValue(s, "http_req_failed", "fails")
		k.Value, k.Sub = percent(fr), thousands(int64(failed))+" of "+thousands(int64(failed+fails))
		if fr > 0 {
			k.Class = "bad"
		}
	}
	out = append(out, k)

	for _, q := range []struct{ label, key, subLabel, subKey string }{
		{"Latency p95", "p(95)", "median ", "med"},
		{"Latency p99", "p(99)", "max ", "max"},
	} {
		k = kpiView{Label: q.label, Value: none, Sub: "no requests"}
		if v, ok := metricValue(s, "http_req_duration", q.key); ok {
			k.Value, k.Sub = millis(v), ""
			if sv, ok := metricValue(s, "http_req_duration", q.subKey); ok {
				k.Sub = q.subLabel + millis(sv)
			}
		}
		out = append(out, k)
	}

	passes, fails := checkTotals(s)
	k = kpiView{Label: "Checks", Value: none, Sub: "no checks"}
	if n := passes + fails; n > 0 {
		k.Value, k.Sub = percent(float64(passes)/float64(n)), thousands(fails)+" of "+thousands(n)+" failed"
		if fails > 0 {
			k.Class = "bad"
		}
	}
	out = append(out, k)

	var iters, dropped int64
	for _, sc := range s.Run.Scenarios {
		iters += sc.Iterations
		dropped += sc.Dropped
	}
	k = kpiView{Label: "Iterations", Value: thousands(iters), Sub: thousands(dropped) + " dropped"}
	if dropped > 0 {
		k.Class = "warn"
	}
	return append(out, k)
}

// thousands formats n with thin separators, "16,833", which a table of
// counts needs to be read at a glance.
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// lagText is the send lag for the validity card, "" for a closed-model
// run, which has no schedule to be late for.
func lagText(v summary.Validity) string {
	if !v.HasSendLag() {
		return ""
	}
	return millis(v.SendLagP99)
}
