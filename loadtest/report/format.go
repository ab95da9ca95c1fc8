package report

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/taskready/taskready/internal/render"
	"github.com/taskready/taskready/loadtest/summary"
)

// kind is what a metric measures, which decides how its numbers read: k6
// thresholds carry no units, so "p(95)=72.13" only means milliseconds
// because http_req_duration is a time trend.
type kind int

const (
	kindUnknown kind = iota
	kindTime         // a trend of milliseconds
	kindTrend        // a trend of plain numbers
	kindRate         // a fraction of true values
	kindCounter      // a count, and its rate per second
	kindGauge        // a last value with min and max
)

// k6's built-in metrics, and ours, by kind; anything else is guessed from
// the values a summary holds for it.
var builtinKinds = map[string]kind{
	"http_req_duration":             kindTime,
	"http_req_duration_uncorrected": kindTime,
	"http_req_blocked":              kindTime,
	"http_req_connecting":           kindTime,
	"http_req_tls_handshaking":      kindTime,
	"http_req_sending":              kindTime,
	"http_req_waiting":              kindTime,
	"http_req_receiving":            kindTime,
	"iteration_duration":            kindTime,
	"group_duration":                kindTime,
	"checks":                        kindRate,
	"http_req_failed":               kindRate,
	"http_reqs":                     kindCounter,
	"iterations":                    kindCounter,
	"data_received":                 kindCounter,
	"data_sent":                     kindCounter,
	"dropped_iterations":            kindCounter,
	"vus":                           kindGauge,
	"vus_max":                       kindGauge,
}

// metricName is the metric of a k6 selector, without its tags.
func metricName(selector string) string {
	if i := strings.IndexByte(selector, '{'); i >= 0 {
		return strings.TrimSpace(selector[:i])
	}
	return strings.TrimSpace(selector)
}

// kindOf says what selector measures: by name for the built-ins, else by
// the values the summary export holds for it, as a custom metric of an
// imported k6 run has no declared type.
func kindOf(s *summary.Summary, selector string) kind {
	if k, ok := builtinKinds[metricName(selector)]; ok {
		return k
	}
	m, ok := s.Metrics[selector]
	if !ok {
		m = s.Metrics[metricName(selector)]
	}
	has := func(k string) bool { _, ok := m.Values[k]; return ok }
	switch {
	case has("passes"):
		return kindRate
	case has("count"):
		return kindCounter
	case has("avg") || has("med"):
		if strings.HasSuffix(metricName(selector), "_duration") {
			return kindTime
		}
		return kindTrend
	case has("value"):
		return kindGauge
	}
	return kindUnknown
}

// statValue formats v, the statistic agg of a metric of kind k, the way
// k6's end-of-test summary does: times in ms with units, rates as
// percentages, counter rates per second.
func statValue(k kind, agg string, v float64) string {
	if !finite(v) {
		return "n/a"
	}
	switch {
	case agg == "count":
		return render.Trim(v, 2)
	case agg == "rate" && k == kindRate:
		return percent(v)
	case agg == "rate":
		return render.Trim(v, 2) + "/s"
	case k == kindTime:
		return millis(v)
	}
	return render.Trim(v, 2)
}

// observed is a threshold's observed statistic as k6 prints it, "p(95)=72.13ms",
// or "no data" when its metric had none. A threshold whose expression
// does not parse (reports render whatever an imported summary holds)
// shows the value alone.
func observed(s *summary.Summary, t summary.Threshold) string {
	p, ok := t.Parsed()
	if t.Observed == nil || !ok {
		return observedValue(s, t)
	}
	agg := p.Expr.Aggregation()
	return agg + "=" + statValue(kindOf(s, t.Metric), agg, *t.Observed)
}

// observedValue is observed without the statistic's name, for tables that
// already show the expression beside it.
func observedValue(s *summary.Summary, t summary.Threshold) string {
	if t.Observed == nil {
		return "no data"
	}
	agg := ""
	if p, ok := t.Parsed(); ok {
		agg = p.Expr.Aggregation()
	}
	return statValue(kindOf(s, t.Metric), agg, *t.Observed)
}

// recoveryBound is "http_req_duration p(95) < 300ms": the recovery's
// condition in the metric's own units.
func recoveryBound(s *summary.Summary, r summary.Recovery) string {
	return r.Metric + " " + r.Stat + " < " + statValue(kindOf(s, r.Metric), r.Stat, r.Below)
}

// recoveryResult says when the statistic got back under its bound.
// faultWhat says what a fault did: "stop mongo-0", "latency 200ms ± 50ms
// on mongo", "down link redis".
func faultWhat(f summary.Fault) string {
	switch {
	case f.Detail != "":
		return f.Action + " " + f.Detail + " on " + f.Target
	case f.Action == "reset" || f.Action == "reset_peer" || f.Action == "down":
		return f.Action + " link " + f.Target
	}
	return f.Action + " " + f.Target
}

// faultWhen is its window: "10s–25s", "from 10s" for one never undone.
func faultWhen(f summary.Fault) string {
	if !f.Played {
		return "not played"
	}
	if f.End == nil {
		return "from " + seconds(f.Start)
	}
	return seconds(f.Start) + "–" + seconds(*f.End)
}

// faultCells are what a fault did to the load: errors during it, its
// error window, p95 before and during, and the time to recover.
func faultCells(f summary.Fault) (errs, window, p95, recovered string) {
	errs = fmt.Sprintf("%d of %d", f.Errors, f.Requests)
	window = "none"
	if f.FirstError != nil && f.LastError != nil {
		window = seconds(*f.FirstError) + "–" + seconds(*f.LastError)
	}
	p95 = "–"
	if f.P95Before != nil && f.P95During != nil {
		p95 = millis(*f.P95Before) + " → " + millis(*f.P95During)
	}
	switch {
	case !f.Played || f.End == nil:
		recovered = "–"
	case f.RecoveredAfter != nil:
		recovered = seconds(*f.RecoveredAfter)
	case f.BaselineSeconds == 0:
		recovered = "no baseline"
	default:
		recovered = "not before the end or the next fault"
	}
	return errs, window, p95, recovered
}

// faultRecovery says in words how the service came back from f.
func faultRecovery(f summary.Fault) string {
	switch _, _, _, after := faultCells(f); {
	case f.RecoveredAfter != nil:
		return "recovered after " + after
	case !f.Played:
		return "not played"
	case f.End == nil:
		return "never undone"
	case f.BaselineSeconds == 0:
		return "no baseline before it to judge recovery by"
	}
	return "not recovered before the run ended or the next fault began"
}

func recoveryResult(r summary.Recovery) string {
	if r.RecoveredAfter == nil {
		return "did not recover within " + seconds(r.Within)
	}
	return "recovered after " + seconds(*r.RecoveredAfter)
}

// millis formats a time in ms as k6 does: "72.13ms", "1.5s", "2m3s", with
// no trailing zeros.
func millis(ms float64) string {
	if !finite(ms) {
		return "n/a"
	}
	if ms < 0 {
		return "-" + millis(-ms)
	}
	switch {
	case ms == 0:
		return "0s"
	case ms < 0.001:
		return strconv.FormatInt(int64(ms*1e6), 10) + "ns"
	case ms < 1:
		return render.Trim(ms*1000, 2) + "µs"
	case ms < 1000:
		return render.Trim(ms, 2) + "ms"
	case ms < 60000:
		return render.Trim(ms/1000, 2) + "s"
	}
	return time.Duration(math.Round(ms/1000) * float64(time.Second)).String()
}

// seconds formats a span of seconds, "3m0s" or "12.5s", to a tenth of a
// second: a run's duration is not known better than its scheduling tick.
func seconds(s float64) string {
	if !finite(s) {
		return "n/a"
	}
	d := time.Duration(s * float64(time.Second)).Round(100 * time.Millisecond)
	return d.String()
}

// percent formats a fraction as k6 does, "12.34%".
func percent(frac float64) string {
	if !finite(frac) {
		return "n/a"
	}
	return strconv.FormatFloat(frac*100, 'f', 2, 64) + "%"
}

// bytesSI formats a byte count as k6 does (go-humanize's Bytes): SI units,
// one decimal under 10, "263 kB".
func bytesSI(n float64) string {
	if !finite(n) || n < 0 {
		return "n/a"
	}
	if n < 10 {
		return fmt.Sprintf("%d B", int64(n))
	}
	units := []string{"B", "kB", "MB", "GB", "TB", "PB", "EB"}
	e := int(math.Floor(math.Log(n) / math.Log(1000)))
	if e >= len(units) {
		e = len(units) - 1
	}
	v := math.Floor(n/math.Pow(1000, float64(e))*10+0.5) / 10
	if v < 10 {
		return fmt.Sprintf("%.1f %s", v, units[e])
	}
	return fmt.Sprintf("%.0f %s", v, units[e])
}

// fixed formats v with exactly prec decimals, for table columns whose
// digits should line up.
func fixed(v float64, prec int) string {
	if !finite(v) {
		return "n/a"
	}
	return strconv.FormatFloat(v, 'f', prec, 64)
}

// signedPercent formats a relative change (0.12) as "+12.0%".
func signedPercent(frac float64) string {
	if !finite(frac) {
		return "n/a"
	}
	return fmt.Sprintf("%+.1f%%", frac*100)
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// comparisonUnit is the unit of a compared statistic, which the summary's
// row does not carry: "ms" for a latency ("p95 latency" from
// loadtest/compare, or a k6 aggregation such as "p(95)"), "fraction" for
// an error rate, "" for anything else.
func comparisonUnit(metric string) string {
	m := strings.ToLower(metric)
	switch {
	case strings.Contains(m, "latency") || strings.Contains(m, "duration") || strings.HasSuffix(m, "_ms") ||
		strings.HasPrefix(m, "p(") || m == "avg" || m == "med" || m == "min" || m == "max":
		return "ms"
	case strings.Contains(m, "error") || strings.Contains(m, "failed") || strings.Contains(m, "failure"):
		return "fraction"
	}
	return ""
}

// comparisonValue formats a compared statistic in its unit.
func comparisonValue(metric string, v float64) string {
	switch comparisonUnit(metric) {
	case "ms":
		return millis(v)
	case "fraction":
		return percent(v)
	}
	return render.Trim(v, 2)
}

// comparisonDiff formats a difference new−old in the statistic's unit:
// milliseconds, or percentage points for a fraction, whose difference in
// percent would read as a relative change.
func comparisonDiff(metric string, v float64) string {
	if !finite(v) {
		return "n/a"
	}
	sign := "+"
	if v < 0 {
		sign, v = "-", -v
	}
	switch comparisonUnit(metric) {
	case "ms":
		return sign + millis(v)
	case "fraction":
		return sign + render.Trim(v*100, 2) + "pp"
	}
	return sign + render.Trim(v, 2)
}

// comparisonCI is the confidence interval of new−old. The summary stores an
// interval that could not be computed as 0..0, so that reads as none.
func comparisonCI(metric string, low, high float64) string {
	if low == 0 && high == 0 {
		return "–"
	}
	return comparisonDiff(metric, low) + " … " + comparisonDiff(metric, high)
}

// statusLabel is the outcome in capitals, as the last line of the terminal
// summary and the badge of the HTML report show it.
func statusLabel(st summary.Status) string {
	switch st {
	case summary.StatusPassed:
		return "PASSED"
	case summary.StatusCrossed:
		return "THRESHOLDS CROSSED"
	case summary.StatusRegression:
		return "REGRESSION"
	case summary.StatusInvalid:
		return "INVALID"
	case summary.StatusAborted:
		return "ABORTED"
	case "":
		return "UNKNOWN"
	}
	return strings.ToUpper(strings.ReplaceAll(string(st), "-", " "))
}

// outcome is the run's verdict; a summary whose outcome was never decided
// (a hand-written or partly imported one) is decided here from its own
// verdicts, on a copy, so the report never shows an empty status.
func outcome(s *summary.Summary) summary.Outcome {
	if s.Run.Outcome.Status != "" {
		return s.Run.Outcome
	}
	r := s.Run
	return r.Decide()
}

// metricValue returns the value key of metric name, and whether it is there.
func metricValue(s *summary.Summary, name, key string) (float64, bool) {
	m, ok := s.Metrics[name]
	if !ok {
		return 0, false
	}
	v, ok := m.Values[key]
	return v, ok && finite(v)
}

// checkTotals counts the checks: from the k6 "checks" metric when there is
// one, else from the group tree, which an export always has.
func checkTotals(s *summary.Summary) (passes, fails int64) {
	if p, ok := metricValue(s, "checks", "passes"); ok {
		f, _ := metricValue(s, "checks", "fails")
		return int64(p), int64(f)
	}
	s.RootGroup.Walk(func(_ *summary.Group, c *summary.Check) {
		passes += c.Passes
		fails += c.Fails
	})
	return passes, fails
}

// endpointLabel is the k6 tag set of a breakdown, "{ endpoint:list }", with
// the scenario only when the same endpoint appears in several scenarios.
func endpointLabel(b summary.Breakdown, shared map[string]bool) string {
	if b.Scenario != "" && (b.Endpoint == "" || shared[b.Endpoint]) {
		if b.Endpoint == "" {
			return "{ scenario:" + b.Scenario + " }"
		}
		return "{ endpoint:" + b.Endpoint + ", scenario:" + b.Scenario + " }"
	}
	return "{ endpoint:" + b.Endpoint + " }"
}

// journeyLabel is a journey's sub-metric as k6 would print it, with the
// scenario when the journey runs in several, or alone for iterations with
// no journey tag (a k6 script of someone else's).
func journeyLabel(j summary.Journey, shared map[string]bool) string {
	if j.Journey == "" {
		return "{ scenario:" + j.Scenario + " }"
	}
	if shared[j.Journey] {
		return "{ journey:" + j.Journey + ", scenario:" + j.Scenario + " }"
	}
	return "{ journey:" + j.Journey + " }"
}

// journeyName is a journey's name for a table cell: "–" for iterations
// that carried no journey tag.
func journeyName(j summary.Journey) string {
	if j.Journey == "" {
		return "–"
	}
	return j.Journey
}

// sharedJourneys returns the journey names that run in more than one
// scenario.
func sharedJourneys(js []summary.Journey) map[string]bool {
	seen := map[string]string{}
	shared := map[string]bool{}
	for _, j := range js {
		if sc, ok := seen[j.Journey]; ok && sc != j.Scenario {
			shared[j.Journey] = true
		}
		seen[j.Journey] = j.Scenario
	}
	return shared
}

// sharedEndpoints returns the endpoint names that appear in more than one
// scenario, whose rows must name the scenario to be told apart.
func sharedEndpoints(bs []summary.Breakdown) map[string]bool {
	seen := map[string]string{}
	shared := map[string]bool{}
	for _, b := range bs {
		if sc, ok := seen[b.Endpoint]; ok && sc != b.Scenario {
			shared[b.Endpoint] = true
		}
		seen[b.Endpoint] = b.Scenario
	}
	return shared
}

// statuses is "200 × 950 · 500 × 3": a breakdown's status codes in order.
func statuses(m map[string]int64) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, k+" × "+thousands(m[k]))
	}
	return strings.Join(parts, " · ")
}

// comparisonMark is how a comparison verdict reads at a glance.
func comparisonMark(verdict string) string {
	switch verdict {
	case "regression":
		return "✗"
	case "inconclusive":
		return "?"
	}
	return "✓"
}

// checkRows is the checks of the group tree in Walk order, with the path of
// the group each is in ("" for the root).
func checkRows(s *summary.Summary) []checkRow {
	var rows []checkRow
	s.RootGroup.Walk(func(g *summary.Group, c *summary.Check) {
		rows = append(rows, checkRow{Group: strings.TrimPrefix(g.Path, "::"), Depth: strings.Count(g.Path, "::"), Check: c})
	})
	return rows
}

// checkRow is one check and where it sits.
type checkRow struct {
	Group string // "create and delete", or "outer::inner"
	Depth int    // 0 for the root group
	Check *summary.Check
}

// environment is the environment's fields that are set, as label and value.
func environment(e summary.Environment) [][2]string {
	var out [][2]string
	add := func(k, v string) {
		if v != "" {
			out = append(out, [2]string{k, v})
		}
	}
	add("provider", e.Provider)
	if e.APIInstances > 0 {
		add("API instances", strconv.Itoa(e.APIInstances))
	}
	add("host", e.Host)
	if e.OS != "" || e.Arch != "" {
		add("platform", strings.Trim(e.OS+"/"+e.Arch, "/"))
	}
	if e.CPUs > 0 {
		add("CPUs", strconv.Itoa(e.CPUs))
	}
	add("Go", e.GoVersion)
	add("harness", e.Harness)
	return out
}
