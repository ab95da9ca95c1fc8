package report

import (
	"encoding/json"
	"io"
	"maps"

	"github.com/taskready/taskready/loadtest/summary"
)

// waitingSources are the metrics LoadPerformance takes http_req_waiting
// from when the summary has none, best first, with what the copy means.
var waitingSources = []struct{ metric, note string }{
	{"http_req_duration_uncorrected", "copied from http_req_duration_uncorrected: the latency as sent, from when a request was handed to the HTTP client to the last byte of its answer. The harness does not time the first byte apart, so this is an upper bound of the time to first byte: it adds sending the request, reading the answer's body and, on a new connection, the dial."},
	{"http_req_duration", "copied from http_req_duration: the latency to the last byte of the answer. The harness does not time the first byte apart, so this is an upper bound of the time to first byte."},
}

// loadPerformance is the document LoadPerformance writes: k6's
// --summary-export, plus a note on what was derived.
type loadPerformance struct {
	RootGroup *summary.Group            `json:"root_group,omitempty"`
	Metrics   map[string]summary.Metric `json:"metrics"`
	Notes     map[string]string         `json:"taskready,omitempty"`
}

// LoadPerformance writes s as GitLab's load performance report reads it:
// k6's --summary-export, of which GitLab's merge-request widget shows
// metrics.checks (passes and fails: the share of checks passed),
// metrics.http_req_waiting's "p(90)" and "p(95)" (as TTFB) and
// metrics.http_reqs.rate (as RPS), comparing them with the target
// branch's. The summary's metrics are k6's shape already and are written
// as they are. http_req_waiting, k6's time to first byte, is written as it
// is when the summary has it (an import of k6's results); a run of the
// harness has none, so it is copied from the latency as sent, and the
// document's "taskready" section says so (see waitingSources).
// Non-finite values, which JSON cannot hold, are left out, and so is a
// checks metric that counted no check.
func LoadPerformance(w io.Writer, s *summary.Summary) error {
	if s == nil {
		return ErrNilSummary
	}
	doc := loadPerformance{RootGroup: s.RootGroup, Metrics: make(map[string]summary.Metric, len(s.Metrics)+1)}
	for name, m := range s.Metrics {
		doc.Metrics[name] = finiteValues(m)
	}
	if _, ok := s.Metrics["http_req_waiting"]; !ok {
		for _, src := range waitingSources {
			if m, ok := s.Metrics[src.metric]; ok && len(m.Values) > 0 {
				// Its thresholds judged the metric it came from, not this one.
				doc.Metrics["http_req_waiting"] = finiteValues(summary.Metric{Values: m.Values})
				doc.Notes = map[string]string{"http_req_waiting": src.note}
				break
			}
		}
	}
	if c, ok := doc.Metrics["checks"]; ok && c.Values["passes"]+c.Values["fails"] == 0 {
		// As k6 leaves out a metric without samples: the widget would
		// divide 0 by 0 and show NaN%.
		delete(doc.Metrics, "checks")
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}

// finiteValues is a copy of m without its NaN and infinite values.
func finiteValues(m summary.Metric) summary.Metric {
	values := maps.Clone(m.Values)
	maps.DeleteFunc(values, func(_ string, v float64) bool { return !finite(v) })
	return summary.Metric{Values: values, Thresholds: m.Thresholds}
}
