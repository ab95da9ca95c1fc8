package report_test

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/taskready/taskready/loadtest/k6"
	"github.com/taskready/taskready/loadtest/report"
	"github.com/taskready/taskready/loadtest/summary"
)

// gitlabWidget is what GitLab's merge-request widget reads of a load
// performance report, read as its code reads it: metrics.http_reqs.rate
// (RPS), metrics.http_req_waiting["p(90)"] and ["p(95)"] (TTFB P90 and
// P95), and metrics.checks.passes and .fails (the share of checks
// passed).
type gitlabWidget struct {
	Metrics struct {
		HTTPReqs *struct {
			Rate *float64 `json:"rate"`
		} `json:"http_reqs"`
		Waiting *struct {
			P90 *float64 `json:"p(90)"`
			P95 *float64 `json:"p(95)"`
			Max *float64 `json:"max"` // not read by the widget
		} `json:"http_req_waiting"`
		Checks *struct {
			Passes *float64 `json:"passes"`
			Fails  *float64 `json:"fails"`
		} `json:"checks"`
	} `json:"metrics"`
	Notes map[string]string `json:"taskready"`
}

func renderLoadPerformance(t *testing.T, s *summary.Summary) (gitlabWidget, []byte) {
	t.Helper()
	var b bytes.Buffer
	if err := report.LoadPerformance(&b, s); err != nil {
		t.Fatal(err)
	}
	var w gitlabWidget
	if err := json.Unmarshal(b.Bytes(), &w); err != nil {
		t.Fatalf("%v\n%s", err, b.Bytes())
	}
	return w, b.Bytes()
}

// Every field the widget reads is there, with the run's numbers, and the
// document is one k6's own summary-export reader takes.
func TestLoadPerformanceCarriesWhatGitLabReads(t *testing.T) {
	t.Parallel()
	s := fullSummary()
	w, raw := renderLoadPerformance(t, s)
	m := w.Metrics
	if m.HTTPReqs == nil || m.HTTPReqs.Rate == nil || m.Waiting == nil || m.Waiting.P90 == nil || m.Waiting.P95 == nil ||
		m.Checks == nil || m.Checks.Passes == nil || m.Checks.Fails == nil {
		t.Fatalf("a field the widget reads is missing:\n%s", raw)
	}
	uncorrected := s.Metrics["http_req_duration_uncorrected"].Values
	checks := s.Metrics["checks"].Values
	for _, c := range []struct {
		name      string
		got, want float64
	}{
		{"RPS", *m.HTTPReqs.Rate, s.Metrics["http_reqs"].Values["rate"]},
		{"TTFB P90", *m.Waiting.P90, uncorrected["p(90)"]},
		{"TTFB P95", *m.Waiting.P95, uncorrected["p(95)"]},
		{"checks passed", *m.Checks.Passes, checks["passes"]},
		{"checks failed", *m.Checks.Fails, checks["fails"]},
	} {
		if c.got != c.want || c.want == 0 {
			t.Errorf("%s = %g; want %g (non-zero)", c.name, c.got, c.want)
		}
	}
	if note := w.Notes["http_req_waiting"]; !strings.HasPrefix(note, "copied from http_req_duration_uncorrected") || !strings.Contains(note, "upper bound") {
		t.Errorf("the note on http_req_waiting is %q; want where it comes from and what it bounds", note)
	}
	if _, ok := s.Metrics["http_req_waiting"]; ok {
		t.Error("LoadPerformance changed the summary it was given")
	}
	exp, err := k6.ReadSummaryExport(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("k6's summary-export reader refuses it: %v", err)
	}
	if got := exp.Metrics["http_req_waiting"].Values["p(95)"]; got != uncorrected["p(95)"] {
		t.Errorf("read back, http_req_waiting p(95) = %g; want %g", got, uncorrected["p(95)"])
	}
}

// A summary of k6's results has k6's own time to first byte: it is kept,
// and nothing is said to be copied. A value JSON cannot hold, and checks
// that counted nothing (the widget would show NaN%), are left out.
func TestLoadPerformanceKeepsMeasuredWaiting(t *testing.T) {
	t.Parallel()
	s := invalidSummary()
	s.Metrics["http_req_waiting"] = summary.Metric{Values: map[string]float64{"p(90)": 7.5, "p(95)": 9.25, "max": math.Inf(1)}}
	s.Metrics["checks"] = summary.Metric{Values: map[string]float64{"passes": 0, "fails": 0, "value": math.NaN()}}
	w, raw := renderLoadPerformance(t, s)
	if w.Metrics.Waiting == nil || *w.Metrics.Waiting.P90 != 7.5 || *w.Metrics.Waiting.P95 != 9.25 {
		t.Errorf("http_req_waiting was not kept as measured:\n%s", raw)
	}
	if w.Notes != nil {
		t.Errorf("notes %v for a measured http_req_waiting; want none", w.Notes)
	}
	if w.Metrics.Checks != nil || w.Metrics.Waiting.Max != nil {
		t.Errorf("empty checks or an infinite value were written:\n%s", raw)
	}
}
