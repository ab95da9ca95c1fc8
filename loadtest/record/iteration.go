package record

import (
	"fmt"
	"sort"
)

// IterationKey identifies one aggregate of whole iterations: the tags
// iteration_duration is broken down by. Requests are keyed by Key; an
// iteration has no endpoint, and its journey is what tells iterations
// apart.
type IterationKey struct {
	Scenario, Journey, Phase string
}

// TagJourney is the tag key of an iteration's journey, which only
// iterations are selected by (Key has none: a request's endpoint already
// names what it did).
const TagJourney = "journey"

// Tag returns the value of tag key name ("scenario", "journey" or
// "phase") and whether k has such a tag.
func (k IterationKey) Tag(name string) (string, bool) {
	switch name {
	case TagScenario:
		return k.Scenario, true
	case TagJourney:
		return k.Journey, true
	case TagPhase:
		return k.Phase, true
	}
	return "", false
}

// Match reports whether k has every tag of tags with the same value. A tag
// key that IterationKey does not have never matches.
func (k IterationKey) Match(tags map[string]string) bool {
	for name, want := range tags {
		if got, ok := k.Tag(name); !ok || got != want {
			return false
		}
	}
	return true
}

func (k IterationKey) less(o IterationKey) bool {
	if k.Scenario != o.Scenario {
		return k.Scenario < o.Scenario
	}
	if k.Journey != o.Journey {
		return k.Journey < o.Journey
	}
	return k.Phase < o.Phase
}

// TagsOf returns the tag keys a selection of the named metric may use:
// scenario, journey and phase for iteration_duration and iterations,
// scenario, endpoint and phase for the request metrics.
func TagsOf(metric string) []string {
	if IsIterationMetric(metric) {
		return []string{TagScenario, TagJourney, TagPhase}
	}
	return []string{TagScenario, TagEndpoint, TagPhase}
}

// CheckMetricTags is CheckTags for a selection of the named metric, whose
// tags TagsOf lists: a threshold on iteration_duration{endpoint:list} or
// http_req_duration{journey:browse} would select nothing.
func CheckMetricTags(metric string, tags map[string]string) error {
	allowed := TagsOf(metric)
	names := make([]string, 0, len(tags))
	for name := range tags {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		ok := false
		for _, a := range allowed {
			ok = ok || a == name
		}
		if !ok {
			return fmt.Errorf("record: %s is not tagged by %q; use %s, %s or %s", metric, name, allowed[0], allowed[1], allowed[2])
		}
	}
	return nil
}

// addIteration records an iteration sample (Sample.Iteration).
func (r *Recorder) addIteration(s Sample) {
	k := IterationKey{Scenario: s.Scenario, Journey: s.Journey, Phase: s.Phase}
	a, ok := r.iters[k]
	if !ok {
		a = newAgg(r.cfg)
		r.iters[k] = a
	}
	startNs := s.Start.UnixNano()
	a.recordIteration(startNs, s.Latency, s.corrected(startNs), r.highest)
	r.grow(r.seriesIndex(startNs)).iterations++
	r.addBusy(startNs, startNs+int64(max(s.Latency, 0)))
}

func sortedIterationKeys(m map[IterationKey]*agg) []IterationKey {
	ks := make([]IterationKey, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Slice(ks, func(i, j int) bool { return ks[i].less(ks[j]) })
	return ks
}

// IterationKeyStats is the Stats of one IterationKey's iterations.
type IterationKeyStats struct {
	Key   IterationKey `json:"key"`
	Stats Stats        `json:"stats"`
}

// SelectIterations returns the Stats of the whole iterations whose tags
// match every entry of tags ("scenario", "journey", "phase"), as in the
// sub-metric iteration_duration{journey:browse}. Count is the number of
// iterations and RPS the rate they started at; Corrected is their duration
// from their scheduled start (k6's iteration_duration, which in the open
// model includes how late the iteration started) and Latency from their
// actual start, equal in the closed model. The request statistics
// (failures, checks, bytes, statuses) are zero. An empty or nil map
// selects every iteration.
func (s Snapshot) SelectIterations(tags map[string]string) Stats {
	var matched []int
	for i, ks := range s.Iterations {
		if ks.Key.Match(tags) {
			matched = append(matched, i)
		}
	}
	switch len(matched) {
	case 0:
		return Stats{iterations: true}
	case 1:
		return s.Iterations[matched[0]].Stats
	}
	m := newAgg(s.cfg)
	for _, i := range matched {
		m.merge(s.iterAggs[i])
	}
	return iterationStatsOf(m)
}

// iterationStatsOf is statsOf for an aggregate of iterations.
func iterationStatsOf(a *agg) Stats {
	st := statsOf(a)
	st.Statuses = nil
	st.Rate = 0
	st.iterations = true
	return st
}

// Metric returns the named k6 metric (see Stats.Metric) of the samples
// whose tags match tags: iteration_duration reads the whole iterations
// (SelectIterations), every other metric the requests (Select). ok is
// false for a name Stats.Metric does not know.
func (s Snapshot) Metric(name string, tags map[string]string) (Metric, bool) {
	if IsIterationMetric(name) {
		return s.SelectIterations(tags).Metric(name)
	}
	return s.Select(tags).Metric(name)
}
