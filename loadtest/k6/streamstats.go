package k6

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/taskready/taskready/loadtest/record"
	"github.com/taskready/taskready/loadtest/threshold"
)

// DeclaredThresholds parses the thresholds the stream's metric
// declarations carry, by metric name, in the order k6 listed them. k6
// declares only those of whole metrics: add the sub-metrics' from the
// script or scenario file. The error joins every expression that does not
// parse; the others are returned anyway.
func (s *Stream) DeclaredThresholds() ([]threshold.Threshold, error) {
	var out []threshold.Threshold
	var errs []error
	for _, name := range sortedKeys(s.Metrics) {
		for _, src := range s.Metrics[name].Thresholds {
			t, err := threshold.Parse(name, src)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			out = append(out, t)
		}
	}
	return out, errors.Join(errs...)
}

// Evaluate evaluates each threshold against what the stream recorded, as
// k6 would at the end of the run. A threshold whose selection the stream
// cannot give (see Stats) fails, its Reason starting with "error: ".
func (s *Stream) Evaluate(ts []threshold.Threshold) []threshold.Verdict {
	snap := s.Recorder.Snapshot()
	out := make([]threshold.Verdict, 0, len(ts))
	for _, t := range ts {
		st, err := s.stats(&snap, t.Selector)
		if err != nil {
			out = append(out, threshold.Verdict{Threshold: t, Observed: math.NaN(), Reason: "error: " + err.Error()})
			continue
		}
		out = append(out, threshold.Evaluate(t, st))
	}
	return out
}

// Stats returns the statistics of the metric or sub-metric sel selects,
// for threshold evaluation, in k6's units. The stream gives:
//
//   - http_req_duration, http_req_failed and http_reqs, whole or selected
//     by scenario, endpoint and phase (the recorder's keys);
//   - iteration_duration, whole or selected by scenario, journey and phase;
//   - checks, whole or selected by scenario, group, check, endpoint and
//     phase;
//   - any other counter or gauge, whole;
//   - nothing of a metric that had no point and is no built-in trend or
//     rate (no data, as k6 has none).
//
// Anything else (other trends, other tags) is an error: it would
// otherwise pass for lack of data. A counter's rate is per second of the
// stream's span, End minus Start.
func (s *Stream) Stats(sel threshold.Selector) (threshold.Stats, error) {
	snap := s.Recorder.Snapshot()
	return s.stats(&snap, sel)
}

// recorderTags are the tags a recorder selection may use.
var recorderTags = record.TagsOf(record.MetricDuration)

// checkTags are the tags Stream.Checks keeps.
var checkTags = []string{"scenario", "group", "check", "endpoint", "phase"}

func (s *Stream) stats(snap *record.Snapshot, sel threshold.Selector) (threshold.Stats, error) {
	switch sel.Metric {
	case record.MetricDuration, record.MetricFailed, record.MetricReqs:
		tags, err := selectTags(sel, recorderTags)
		if err != nil {
			return nil, err
		}
		st := snap.Select(tags)
		if sel.Metric == record.MetricReqs {
			return s.counter(float64(st.Count)), nil
		}
		m, _ := st.Metric(sel.Metric) // a name Metric knows
		return threshold.StatsFunc(func(stat threshold.Stat, p float64) (float64, bool) {
			return m.Value(stat.String(), p)
		}), nil
	case record.MetricIterationDuration:
		tags, err := selectTags(sel, record.TagsOf(sel.Metric))
		if err != nil {
			return nil, err
		}
		m, _ := snap.Metric(sel.Metric, tags) // a name Metric knows
		return threshold.StatsFunc(func(stat threshold.Stat, p float64) (float64, bool) {
			return m.Value(stat.String(), p)
		}), nil
	case record.MetricChecks:
		if _, err := selectTags(sel, checkTags); err != nil {
			return nil, err
		}
		var passes, fails int64
		for _, c := range s.Checks {
			v := map[string]string{"scenario": c.Scenario, "group": c.Group, "check": c.Name, "endpoint": c.Endpoint, "phase": c.Phase}
			if sel.Matches(v) {
				passes, fails = passes+c.Passes, fails+c.Fails
			}
		}
		return threshold.StatsFunc(func(stat threshold.Stat, _ float64) (float64, bool) {
			if stat != threshold.StatRate || passes+fails == 0 {
				return 0, false
			}
			return float64(passes) / float64(passes+fails), true
		}), nil
	}
	typ := s.Metrics[sel.Metric].Type
	if typ == 0 {
		typ, _ = threshold.BuiltinType(sel.Metric)
	}
	_, counted := s.Counters[sel.Metric]
	g, gauged := s.Gauges[sel.Metric]
	if len(sel.Tags) > 0 && (typ != 0 || counted || gauged) {
		return nil, fmt.Errorf("%s: the stream keeps %s whole, not by tags", sel, sel.Metric)
	}
	switch {
	case typ == threshold.Counter || counted:
		return s.counter(s.Counters[sel.Metric]), nil
	case typ == threshold.Gauge || gauged:
		return threshold.StatsFunc(func(stat threshold.Stat, _ float64) (float64, bool) {
			return g.Last, stat == threshold.StatValue && g.Seen
		}), nil
	case typ == 0:
		// No point, no declaration, no built-in: no data, as in k6.
		return threshold.StatsFunc(func(threshold.Stat, float64) (float64, bool) { return 0, false }), nil
	}
	return nil, fmt.Errorf("%s: the stream keeps no %s metric but http_req_duration and iteration_duration", sel, typ)
}

// counter is the Stats of a counter's total: its count, and its rate per
// second of the stream's span, as k6 divides by the test's duration.
func (s *Stream) counter(total float64) threshold.Stats {
	span := s.End.Sub(s.Start).Seconds()
	return threshold.StatsFunc(func(stat threshold.Stat, _ float64) (float64, bool) {
		switch stat {
		case threshold.StatCount:
			return total, true
		case threshold.StatRate:
			return total / span, span > 0
		}
		return 0, false
	})
}

// selectTags returns sel's tags as a map, or an error naming the first tag
// outside allowed.
func selectTags(sel threshold.Selector, allowed []string) (map[string]string, error) {
	if len(sel.Tags) == 0 {
		return nil, nil
	}
	m := make(map[string]string, len(sel.Tags))
	for _, t := range sel.Tags {
		if !slices.Contains(allowed, t.Key) {
			return nil, fmt.Errorf("%s: the stream keeps %s by %v only, not by %q", sel, sel.Metric, allowed, t.Key)
		}
		m[t.Key] = t.Value
	}
	return m, nil
}
