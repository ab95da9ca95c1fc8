package summary_test

import (
	"bytes"
	"testing"

	"github.com/taskready/taskready/loadtest/summary"
	"github.com/taskready/taskready/loadtest/threshold"
)

// TestThresholdParts: a threshold carries its parts from parsing into the
// summary and back out of its JSON; one whose text does not parse carries
// none, and Parsed says so.
func TestThresholdParts(t *testing.T) {
	th, err := threshold.Parse("http_req_duration{phase:spike}", "p(95) < 300")
	if err != nil {
		t.Fatal(err)
	}
	built := summary.Thresholds([]threshold.Verdict{{Threshold: th, Passed: true, Observed: 12}}, nil)
	odd := summary.Threshold{Metric: "http_req_duration", Expression: "p(95)<abc"}
	s := &summary.Summary{Run: summary.Run{Format: summary.Format, Version: summary.Version, Thresholds: append(built, odd)}}
	var buf bytes.Buffer
	if err := s.Write(&buf); err != nil {
		t.Fatal(err)
	}
	back, err := summary.Read(&buf)
	if err != nil {
		t.Fatal(err)
	}
	for name, got := range map[string]summary.Threshold{"built": built[0], "read": back.Run.Thresholds[0]} {
		p, ok := got.Parsed()
		if !ok || got.Parts == nil || p.Selector.Metric != "http_req_duration" || len(p.Selector.Tags) != 1 || p.Selector.Tags[0] != (threshold.Tag{Key: "phase", Value: "spike"}) ||
			p.Expr.Aggregation() != "p(95)" || p.Expr.Op != threshold.OpLess || p.Expr.Value != 300 {
			t.Errorf("%s: parts %+v (%v); want http_req_duration{phase:spike} p(95) < 300", name, p, ok)
		}
	}
	if got := back.Run.Thresholds[1]; got.Parts != nil {
		t.Errorf("an expression that does not parse read back with parts %+v", got.Parts)
	}
	if _, ok := odd.Parsed(); ok {
		t.Error("Parsed of p(95)<abc: ok; want not parsed")
	}
	hand := summary.Threshold{Metric: "checks", Expression: "rate>0.9"}
	if p, ok := hand.Parsed(); !ok || p.Expr.Stat != threshold.StatRate || p.Expr.Value != 0.9 {
		t.Errorf("a threshold written by hand parses to %+v (%v); want rate > 0.9", p, ok)
	}
}
