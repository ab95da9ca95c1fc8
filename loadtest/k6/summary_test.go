package k6

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/taskready/taskready/loadtest/threshold"
)

// The fixtures are real k6 v2.2.0 output (testdata/k6/README.md): passing/
// and threshold-crossed/, whose only difference is the threshold on
// http_req_duration{endpoint:create}, p(95)<2000 and p(95)<50.
var fixtures = []string{"passing", "threshold-crossed"}

func fixturePath(dir, file string) string { return filepath.Join("testdata", "k6", dir, file) }

func readSummary(t *testing.T, dir string) *SummaryExport {
	t.Helper()
	f, err := os.Open(fixturePath(dir, "summary-export.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s, err := ReadSummaryExport(f)
	if err != nil {
		t.Fatalf("ReadSummaryExport(%s): %v", dir, err)
	}
	return s
}

func TestReadSummaryExportPassing(t *testing.T) {
	s := readSummary(t, "passing")
	if s.Crossed() {
		t.Error("Crossed() = true for a run whose thresholds all passed")
	}
	got := s.Thresholds()
	want := []struct {
		metric, expr string
		observed     float64
	}{
		{"checks", "rate>0.99", 1},
		{"http_req_duration{endpoint:create}", "p(95)<2000", 80.17464119999993},
		{"http_req_duration{endpoint:list}", "p(95)<800", 85.761327},
		{"http_req_failed", "rate<0.01", 0},
	}
	if len(got) != len(want) {
		t.Fatalf("Thresholds() = %+v, want %d results", got, len(want))
	}
	for i, w := range want {
		g := got[i]
		if g.Metric != w.metric || g.Expression != w.expr || !g.Passed || g.Observed != w.observed {
			t.Errorf("Thresholds()[%d] = %+v, want %s %s passed, observed %v", i, g, w.metric, w.expr, w.observed)
		}
	}
	if got[1].Selector.Metric != "http_req_duration" || got[1].Selector.String() != "http_req_duration{endpoint:create}" {
		t.Errorf("selector = %v", got[1].Selector)
	}
}

func TestReadSummaryExportCrossed(t *testing.T) {
	s := readSummary(t, "threshold-crossed")
	if !s.Crossed() {
		t.Fatal("Crossed() = false; k6 exited 99 and printed ✗ 'p(95)<50'")
	}
	var crossed []ThresholdResult
	for _, r := range s.Thresholds() {
		if !r.Passed {
			crossed = append(crossed, r)
		}
	}
	if len(crossed) != 1 {
		t.Fatalf("crossed thresholds = %+v, want exactly one", crossed)
	}
	c := crossed[0]
	if c.Metric != "http_req_duration{endpoint:create}" || c.Expression != "p(95)<50" {
		t.Errorf("crossed = %s %s, want http_req_duration{endpoint:create} p(95)<50", c.Metric, c.Expression)
	}
	// k6-stdout.txt: ✗ 'p(95)<50' p(95)=72.13ms
	if math.Abs(c.Observed-72.1377) > 1e-4 {
		t.Errorf("observed = %v, want 72.1377 (ms)", c.Observed)
	}
	stdout, err := os.ReadFile(fixturePath("threshold-crossed", "k6-stdout.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(stdout), "✗ 'p(95)<50' p(95)=72.13ms") {
		t.Error("k6-stdout.txt does not show the crossing the export's true stands for")
	}
}

func TestReadSummaryExportMetrics(t *testing.T) {
	s := readSummary(t, "threshold-crossed")
	for _, tc := range []struct {
		metric string
		typ    threshold.MetricType
		key    string
		want   float64
	}{
		{"http_reqs", threshold.Counter, "count", 501},
		{"iterations", threshold.Counter, "count", 350},
		{"http_req_failed", threshold.Rate, "value", 0},
		{"checks", threshold.Rate, "passes", 500},
		{"vus", threshold.Gauge, "max", 6},
		{"vus_max", threshold.Gauge, "value", 14},
		{"http_req_duration", threshold.Trend, "max", 449.959781},
		{"http_req_duration{endpoint:list}", threshold.Trend, "p(90)", 74.21914459999999},
	} {
		m, ok := s.Metrics[tc.metric]
		if !ok {
			t.Errorf("no metric %s", tc.metric)
			continue
		}
		if m.Type != tc.typ || m.Values[tc.key] != tc.want {
			t.Errorf("%s: type %v, %s = %v; want %v, %v", tc.metric, m.Type, tc.key, m.Values[tc.key], tc.typ, tc.want)
		}
	}
	// http_req_failed: passes are the non-zero values, the failed requests.
	nonZero, zero, ok := s.Metrics["http_req_failed"].RateCounts()
	if !ok || nonZero != 0 || zero != 501 {
		t.Errorf("http_req_failed RateCounts = %d, %d, %v; want 0 failed, 501 not", nonZero, zero, ok)
	}
	// A Metric is a threshold.Stats: k6's own numbers give k6's verdict.
	for _, r := range s.Thresholds() {
		th, err := threshold.Parse(r.Metric, r.Expression)
		if err != nil {
			t.Fatal(err)
		}
		if v := threshold.Evaluate(th, s.Metrics[r.Metric]); v.Passed != r.Passed {
			t.Errorf("%s: re-evaluated on the export's values: %v; k6 said passed=%v", th, v, r.Passed)
		}
	}
	if len(s.SetupData) == 0 || !strings.Contains(string(s.SetupData), "token") {
		t.Errorf("SetupData = %s", s.SetupData)
	}
}

func TestReadSummaryExportGroups(t *testing.T) {
	g := readSummary(t, "passing").RootGroup
	if g.Name != "" || len(g.Checks) != 1 || g.Checks[0].Name != "list 200" || g.Checks[0].Passes != 201 {
		t.Errorf("root group = %+v", g)
	}
	if len(g.Groups) != 1 {
		t.Fatalf("root groups = %+v", g.Groups)
	}
	sub := g.Groups[0]
	if sub.Name != "create and delete" || sub.Path != "::create and delete" || len(sub.Checks) != 2 {
		t.Fatalf("group = %+v", sub)
	}
	// In the file's order.
	if c := sub.Checks; c[0].Name != "create 201" || c[1].Name != "delete 200" || c[0].Passes != 160 || c[1].Fails != 0 ||
		c[0].Path != "::create and delete::create 201" {
		t.Errorf("checks = %+v", c)
	}
}

func TestReadSummaryExportErrors(t *testing.T) {
	for _, in := range []string{
		``,
		`[]`,
		`{}`,
		`{"metrics": []}`,
		`{"metrics": {"x": 1}}`,
		`{"metrics": {"x": {"thresholds": {"rate<1": "yes"}}}}`,
		`{"metrics": {}, "root_group": {"groups": 3}}`,
	} {
		if _, err := ReadSummaryExport(strings.NewReader(in)); err == nil {
			t.Errorf("ReadSummaryExport(%q): no error", in)
		}
	}
	// Lists instead of objects, unknown fields and non-numbers are read.
	s, err := ReadSummaryExport(strings.NewReader(`{"state": {}, "metrics": {"c": {"count": 3, "rate": 1, "note": "x",
		"thresholds": {"count>5": true}}}, "root_group": {"checks": [{"name": "a", "passes": 1}]}}`))
	if err != nil {
		t.Fatal(err)
	}
	if m := s.Metrics["c"]; m.Type != threshold.Counter || m.Values["count"] != 3 || !s.Crossed() || len(s.RootGroup.Checks) != 1 {
		t.Errorf("got %+v", s)
	}
	if r := s.Thresholds(); len(r) != 1 || r[0].Passed || r[0].Observed != 3 {
		t.Errorf("Thresholds() = %+v", r)
	}
}

// A file no k6 run writes is refused with what is wrong with it, rather
// than gated on: its verdicts would be trusted on numbers that mean nothing.
func TestReadSummaryExportRefusesWhatK6NeverWrites(t *testing.T) {
	for _, tc := range []struct{ name, in, says string }{
		{"no metrics", `{"metrics": {}, "root_group": {"checks": {}}}`, "empty"},
		{"a negative count", `{"metrics": {"http_reqs": {"count": -501, "rate": 91.3}}}`, "negative count -501"},
		{"a negative rate of a counter", `{"metrics": {"iterations": {"count": 3, "rate": -1}}}`, "negative rate"},
		{"negative passes", `{"metrics": {"checks": {"passes": -1, "fails": 0, "value": 0}}}`, "negative passes"},
		{"a share above 1", `{"metrics": {"http_req_failed": {"passes": 0, "fails": 3, "value": 1.5}}}`, "between 0 and 1"},
		{"a negative duration", `{"metrics": {"http_req_duration{endpoint:create}": {"avg": 2, "min": -3, "p(95)": 4}}}`, "negative min -3"},
		{"a count past float64's integers", `{"metrics": {"http_reqs": {"count": 1e300}}}`, "beyond any count"},
		{"a check with negative fails", `{"metrics": {"http_reqs": {"count": 1}}, "root_group": {"checks": {"c": {"name": "c", "passes": 1, "fails": -2}}}}`, "negative passes or fails"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadSummaryExport(strings.NewReader(tc.in))
			if err == nil || !strings.Contains(err.Error(), tc.says) {
				t.Fatalf("ReadSummaryExport(%s) = %v; want an error saying %q", tc.in, err, tc.says)
			}
		})
	}
	// A custom trend or gauge may go below zero: a clock offset, a balance.
	s, err := ReadSummaryExport(strings.NewReader(`{"metrics": {"http_reqs": {"count": 2, "rate": 1}, "clock_skew": {"avg": -3, "min": -9, "max": 2, "p(95)": 1}}}`))
	if err != nil || s.Metrics["clock_skew"].Values["min"] != -9 {
		t.Errorf("a custom trend below zero: %v, %+v", err, s)
	}
}
