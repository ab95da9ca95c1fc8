package report

import (
	"math"
	"strings"
	"testing"

	"github.com/taskready/taskready/loadtest/summary"
)

func TestMillis(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		ms   float64
		want string
	}{
		{0, "0s"}, {0.0004, "400ns"}, {0.5, "500µs"}, {72.1377, "72.14ms"}, {62, "62ms"}, {999.99, "999.99ms"},
		{1500, "1.5s"}, {59999, "60s"}, {61000, "1m1s"}, {3723000, "1h2m3s"}, {-5, "-5ms"},
		{math.NaN(), "n/a"}, {math.Inf(1), "n/a"},
	} {
		if got := millis(tc.ms); got != tc.want {
			t.Errorf("millis(%v) = %q; want %q", tc.ms, got, tc.want)
		}
	}
}

func TestBytesSI(t *testing.T) {
	t.Parallel()
	// go-humanize's Bytes, as k6 prints data_received and data_sent.
	for _, tc := range []struct {
		n    float64
		want string
	}{
		{0, "0 B"}, {9, "9 B"}, {512, "512 B"}, {262871, "263 kB"}, {47919.5, "48 kB"}, {8837325, "8.8 MB"}, {15.9, "16 B"},
		{math.NaN(), "n/a"}, {-1, "n/a"},
	} {
		if got := bytesSI(tc.n); got != tc.want {
			t.Errorf("bytesSI(%v) = %q; want %q", tc.n, got, tc.want)
		}
	}
}

// TestObserved: the observed statistic is named by the threshold's parsed
// aggregation, however the expression was spaced, and an expression that
// does not parse shows its value alone rather than failing the report.
func TestObserved(t *testing.T) {
	t.Parallel()
	s := &summary.Summary{}
	v := 72.134
	for _, tc := range []struct {
		metric, expr, want string
	}{
		{"http_req_duration", "p(95)<300", "p(95)=72.13ms"},
		{"http_req_duration", " p( 99 ) <= 1e3 ", "p(99)=72.13ms"},
		{"http_req_duration{endpoint:list}", "avg!=3", "avg=72.13ms"},
		{"http_reqs", "count===5", "count=72.13"},
		{"http_req_duration", "p(95)<abc", "72.13ms"},
		{"http_req_duration", "avg", "72.13ms"},
	} {
		th := summary.Threshold{Metric: tc.metric, Expression: tc.expr, Observed: &v}
		if got := observed(s, th); got != tc.want {
			t.Errorf("observed(%s %q) = %q; want %q", tc.metric, tc.expr, got, tc.want)
		}
	}
}

func TestStatValue(t *testing.T) {
	t.Parallel()
	s := &summary.Summary{Metrics: map[string]summary.Metric{
		"custom_rate":            {Values: map[string]float64{"passes": 1, "fails": 1, "value": 0.5}},
		"custom_count":           {Values: map[string]float64{"count": 3, "rate": 1.5}},
		"custom_trend":           {Values: map[string]float64{"avg": 3}},
		"login_duration{step:2}": {Values: map[string]float64{"avg": 3}},
	}}
	for _, tc := range []struct {
		metric, agg string
		v           float64
		want        string
	}{
		{"http_req_duration{endpoint:list}", "p(95)", 84.6129947, "84.61ms"},
		{"http_req_failed", "rate", 0.0123, "1.23%"},
		{"checks", "rate", 1, "100.00%"},
		{"http_reqs", "rate", 91.328759, "91.33/s"},
		{"http_reqs", "count", 501, "501"},
		{"vus_max", "value", 14, "14"},
		{"custom_rate", "rate", 0.5, "50.00%"},
		{"custom_count", "count", 3, "3"},
		{"custom_trend", "avg", 3.14159, "3.14"},
		{"login_duration{step:2}", "avg", 3.14159, "3.14ms"},
		{"unknown", "avg", math.NaN(), "n/a"},
	} {
		if got := statValue(kindOf(s, tc.metric), tc.agg, tc.v); got != tc.want {
			t.Errorf("statValue(%s %s, %v) = %q; want %q", tc.metric, tc.agg, tc.v, got, tc.want)
		}
	}
}

func TestTimeAxis(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		end, step float64
	}{
		{1, 0.1}, {10, 1}, {180, 15}, {600, 60}, {3600, 300}, {86400, 7200},
	} {
		if got := timeStep(tc.end); got != tc.step {
			t.Errorf("timeStep(%v) = %v; want %v", tc.end, got, tc.step)
		}
	}
	for _, tc := range []struct {
		t    float64
		want string
	}{
		{0, "0:00"}, {75, "1:15"}, {3600, "1:00:00"}, {3725, "1:02:05"}, {math.NaN(), "0:00"}, {-3, "0:00"},
	} {
		if got := clock(tc.t); got != tc.want {
			t.Errorf("clock(%v) = %q; want %q", tc.t, got, tc.want)
		}
	}
}

func TestNum(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		v    float64
		want string
	}{
		{12.34, "12.3"}, {-0.04, "0"}, {100, "100"}, {math.NaN(), "0"}, {math.Inf(-1), "0"},
	} {
		if got := num(tc.v); got != tc.want {
			t.Errorf("num(%v) = %q; want %q", tc.v, got, tc.want)
		}
	}
}

func TestPlotPointsMerges(t *testing.T) {
	t.Parallel()
	var pts []summary.Point
	for i := range 1800 {
		p := summary.Point{T: float64(1799 - i), Requests: 10, Failures: 1, RPS: 10, P50: 5, P95: 9, P99: 12}
		if i == 700 {
			p.P99 = 500
		}
		pts = append(pts, p)
	}
	pp := plotPoints(pts)
	if len(pp) > maxPlotted {
		t.Fatalf("%d points; want at most %d", len(pp), maxPlotted)
	}
	var reqs, fails int64
	worst := 0.0
	for i, p := range pp {
		reqs += p.Requests
		fails += p.Failures
		worst = math.Max(worst, p.P99)
		if i > 0 && p.T <= pp[i-1].T {
			t.Fatalf("points out of order at %d: %v after %v", i, p.T, pp[i-1].T)
		}
		if p.RPS != 10 {
			t.Errorf("merged point %d has %v req/s; want the 10 of its intervals", i, p.RPS)
		}
	}
	if reqs != 18000 || fails != 1800 {
		t.Errorf("merged counts %d requests, %d failures; want 18000 and 1800", reqs, fails)
	}
	if worst != 500 {
		t.Errorf("worst p99 after merging = %v; want the 500 spike kept", worst)
	}
}

func TestThresholdRules(t *testing.T) {
	t.Parallel()
	s := &summary.Summary{Run: summary.Run{
		Timeline: []summary.Span{{Scenario: "a", Phase: "spike", From: 10, To: 20}, {Scenario: "b", Phase: "spike", From: 12, To: 22}},
		Thresholds: []summary.Threshold{
			{Metric: "http_req_duration", Expression: "p(95)<300", Passed: true},
			{Metric: "http_req_duration{phase:spike}", Expression: "p(99)<1500", Passed: false},
			{Metric: "http_req_duration{endpoint:list}", Expression: "p(95)<200", Passed: true}, // not about the whole series
			{Metric: "http_req_duration{phase:none}", Expression: "p(95)<200", Passed: true},    // a phase that never ran
			{Metric: "http_req_duration", Expression: "avg<100", Passed: true},                  // no avg on the chart
		},
	}}
	rules := thresholdRules(s, "http_req_duration", map[string]bool{"p(95)": true, "p(99)": true}, 1, millis)
	if len(rules) != 2 {
		t.Fatalf("%d rules; want 2: %+v", len(rules), rules)
	}
	if r := rules[0]; r.Value != 300 || r.Spans != nil || r.Crossed || !strings.HasPrefix(r.Label, "p(95) < 300ms") {
		t.Errorf("untagged rule = %+v", r)
	}
	if r := rules[1]; r.Value != 1500 || len(r.Spans) != 2 || !r.Crossed || !strings.Contains(r.Label, "in spike") {
		t.Errorf("phase rule = %+v", r)
	}
}

func TestPhaseLanes(t *testing.T) {
	t.Parallel()
	same := []summary.Span{{Scenario: "a", Phase: "x", From: 0, To: 5}, {Scenario: "b", Phase: "x", From: 0, To: 5}}
	if l := phaseLanes(same); len(l) != 1 || l[0].scenario != "" {
		t.Errorf("two scenarios on one schedule: %+v; want one unlabelled lane", l)
	}
	diff := append(same, summary.Span{Scenario: "b", Phase: "y", From: 5, To: 9})
	if l := phaseLanes(diff); len(l) != 2 || l[0].scenario != "a" || l[1].scenario != "b" {
		t.Errorf("two schedules: %+v; want lanes a and b", l)
	}
	bad := []summary.Span{{Phase: "x", From: math.NaN(), To: 3}, {Phase: "y", From: 4, To: 2}}
	if l := phaseLanes(bad); len(l) != 0 {
		t.Errorf("broken spans: %+v; want none", l)
	}
}

func TestOutcomeDecidedWhenMissing(t *testing.T) {
	t.Parallel()
	s := &summary.Summary{Run: summary.Run{Validity: summary.Validity{Valid: true},
		Thresholds: []summary.Threshold{{Metric: "checks", Expression: "rate>0.9", Passed: false, Reason: "0.5 is not > 0.9"}}}}
	if o := outcome(s); o.Status != summary.StatusCrossed || o.ExitCode != summary.ExitCrossed {
		t.Errorf("outcome of an undecided summary = %+v; want thresholds-crossed, 99", o)
	}
	if s.Run.Outcome.Status != "" {
		t.Errorf("outcome changed the summary it reads")
	}
}

func TestPlotPointsInterval(t *testing.T) {
	t.Parallel()
	// A duplicate timestamp first must not hide the 5s interval.
	pp := plotPoints([]summary.Point{{T: 0, Requests: 1}, {T: 0, Requests: 1}, {T: 5, Requests: 1}, {T: 15, Requests: 1}})
	for _, p := range pp {
		if p.W != 5 {
			t.Errorf("point at %v is %vs wide; want the series' 5s interval", p.T, p.W)
		}
	}
	if pp := plotPoints([]summary.Point{{T: 7, Requests: 3}}); len(pp) != 1 || pp[0].W != 1 || pp[0].RPS != 3 {
		t.Errorf("a single point: %+v; want one point one second wide", pp)
	}
}

// TestJourneyLabel: a journey row reads as k6 prints a sub-metric, with
// the scenario when the journey runs in several, and iterations without
// a journey tag (a k6 script not exported by the harness) by scenario.
func TestJourneyLabel(t *testing.T) {
	js := []summary.Journey{
		{Scenario: "readers", Journey: "browse"},
		{Scenario: "writers", Journey: "browse"},
		{Scenario: "writers", Journey: "write"},
		{Scenario: "k6"},
	}
	shared := sharedJourneys(js)
	want := []string{"{ journey:browse, scenario:readers }", "{ journey:browse, scenario:writers }", "{ journey:write }", "{ scenario:k6 }"}
	for i, j := range js {
		if got := journeyLabel(j, shared); got != want[i] {
			t.Errorf("journeyLabel(%+v) = %q; want %q", j, got, want[i])
		}
	}
	if journeyName(js[3]) != "–" || journeyName(js[0]) != "browse" {
		t.Errorf("journeyName: %q, %q", journeyName(js[3]), journeyName(js[0]))
	}
}

// TestLatencyAxisScaledToData: a bound far above the data leaves the axis
// at the data's scale and is marked at its top edge instead; a bound near
// the data is drawn as a line, and one on a phase only across that
// phase's span.
func TestLatencyAxisScaledToData(t *testing.T) {
	s := &summary.Summary{Run: summary.Run{Duration: 20,
		Timeline: []summary.Span{{Scenario: "a", Phase: "warmup", From: 0, To: 10}, {Scenario: "a", Phase: "steady", From: 10, To: 20}},
		Thresholds: []summary.Threshold{
			{Metric: "http_req_duration", Expression: "p(95)<1000", Passed: true},
			{Metric: "http_req_duration{phase:steady}", Expression: "p(95)<150", Passed: true},
		}}}
	for i := range 20 {
		s.Run.Series = append(s.Run.Series, summary.Point{T: float64(i), Requests: 10, RPS: 10, P50: 50, P95: 120, P99: 130})
	}
	var lat chartView
	for _, c := range charts(s) {
		if c.ID == "chart-latency" {
			lat = c
		}
	}
	top := lat.YTicks[len(lat.YTicks)-1].Label
	if top != "200" {
		t.Errorf("latency axis tops out at %s; want 200, the data's scale (not the 1s bound)", top)
	}
	var off, steady []ruleView
	for _, r := range lat.Rules {
		switch {
		case r.OffScale:
			off = append(off, r)
		case r.Label != "":
			steady = append(steady, r)
		}
	}
	if len(off) != 1 || !strings.Contains(off[0].Label, "p(95) < 1s") || !strings.Contains(off[0].Label, "above the scale") {
		t.Errorf("off-scale marks %+v; want the 1s bound marked above the scale", off)
	}
	mid := (lat.X0 + lat.X1) / 2
	if len(steady) != 1 || steady[0].X0 < mid-1 || steady[0].X1 > lat.X1+1 || !strings.Contains(steady[0].Label, "in steady") {
		t.Errorf("steady's rule %+v; want it across the second half only, [%v, %v]", steady, mid, lat.X1)
	}
}
