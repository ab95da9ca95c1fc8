package record

import (
	"time"
)

// Snapshot is what a Recorder measured, with every derived number (counts,
// rates, percentiles, the time series) computed once when it was taken. It
// holds copies: the Recorder may go on recording, and a Snapshot may be read
// from any number of goroutines.
type Snapshot struct {
	// Start is the origin of the time series.
	Start time.Time `json:"start"`
	// Interval is the width of one bucket of the series.
	Interval time.Duration `json:"interval"`
	// Elapsed runs from Start to the end of the latest response.
	Elapsed time.Duration `json:"elapsed"`
	// Total is every sample.
	Total Stats `json:"total"`
	// Keys breaks Total down by Key, sorted by scenario, endpoint, phase.
	Keys []KeyStats `json:"keys"`
	// Intervals is the time series of all samples, one point per interval
	// from Start to the interval of the latest request start, empty
	// intervals included. It is not broken down by Key: that keeps its
	// memory to one pair of small histograms per interval.
	Intervals []IntervalPoint `json:"intervals"`
	// Iterations breaks the whole iterations down by IterationKey, sorted
	// by scenario, journey, phase; empty when none was recorded. See
	// SelectIterations.
	Iterations []IterationKeyStats `json:"iterations,omitempty"`

	cfg      config
	aggs     []*agg // parallel to Keys: copies, for selections of several keys
	iterAggs []*agg // parallel to Iterations
}

// KeyStats is the Stats of one Key.
type KeyStats struct {
	Key   Key   `json:"key"`
	Stats Stats `json:"stats"`
}

// IntervalPoint is one bucket of the time series: the requests that started
// within [Offset, Offset+Interval) of the run's start.
type IntervalPoint struct {
	// Offset is the start of the interval, from Snapshot.Start.
	Offset time.Duration `json:"offset"`
	// Requests and Failures count the requests that started in the interval.
	Requests int64 `json:"requests"`
	Failures int64 `json:"failures"`
	// Iterations counts the whole iterations that started in the
	// interval, Dropped the open-model iterations due in it that found no
	// VU (see Recorder.AddDropped).
	Iterations int64 `json:"iterations"`
	Dropped    int64 `json:"dropped"`
	// BusyVUs is the mean number of VUs running an iteration over the
	// interval: the iterations' time within it over its width.
	BusyVUs float64 `json:"busy_vus"`
	// Classes counts the requests by status class: index 1 to 5 for 1xx
	// to 5xx, 0 for no response.
	Classes [6]int64 `json:"classes"`
	// Latency and Corrected are their percentiles, to the interval
	// histograms' precision (1% by default); zero when Requests is 0.
	Latency   Quantiles `json:"latency"`
	Corrected Quantiles `json:"corrected"`
}

// Quantiles are the percentiles of the time series.
type Quantiles struct {
	P50 time.Duration `json:"p50"`
	P95 time.Duration `json:"p95"`
	P99 time.Duration `json:"p99"`
	Max time.Duration `json:"max"`
}

// Snapshot computes the derived numbers of everything recorded so far. Its
// cost is proportional to the number of keys and intervals, not samples.
func (r *Recorder) Snapshot() Snapshot {
	r.flush()
	keys := sortedKeys(r.keys)
	s := Snapshot{
		Start:     r.start,
		Interval:  r.cfg.interval,
		Keys:      make([]KeyStats, len(keys)),
		Intervals: make([]IntervalPoint, len(r.intervals)),
		cfg:       r.cfg,
		aggs:      make([]*agg, len(keys)),
	}
	if len(r.keys) > 0 {
		s.Elapsed = time.Duration(max(r.lastEnd-r.startNs, 0))
	}
	for i, k := range keys {
		s.aggs[i] = r.keys[k].clone()
		s.Keys[i] = KeyStats{Key: k, Stats: statsOf(s.aggs[i])}
	}
	s.Total = s.SelectFunc(func(Key) bool { return true })
	if len(r.iters) > 0 {
		iks := sortedIterationKeys(r.iters)
		s.Iterations = make([]IterationKeyStats, len(iks))
		s.iterAggs = make([]*agg, len(iks))
		for i, k := range iks {
			s.iterAggs[i] = r.iters[k].clone()
			s.Iterations[i] = IterationKeyStats{Key: k, Stats: iterationStatsOf(s.iterAggs[i])}
		}
	}
	for i := range r.intervals {
		s.Intervals[i] = r.intervals[i].point(time.Duration(i) * r.cfg.interval)
		s.Intervals[i].BusyVUs = float64(r.intervals[i].busyNs) / float64(r.cfg.interval)
	}
	return s
}

// Select returns the Stats of the samples whose tags match every entry of
// tags, as in a k6 sub-metric: {"endpoint": "list"}, {"phase": "spike"},
// {"scenario": "browse", "phase": "steady"}. An empty or nil map selects
// everything. The tag keys are those of Key, "scenario", "endpoint" and
// "phase"; any other key matches nothing (CheckTags rejects it up front).
func (s Snapshot) Select(tags map[string]string) Stats {
	return s.SelectFunc(func(k Key) bool { return k.Match(tags) })
}

// SelectFunc returns the Stats of the samples whose Key satisfies match.
func (s Snapshot) SelectFunc(match func(Key) bool) Stats {
	var matched []int
	for i, ks := range s.Keys {
		if match(ks.Key) {
			matched = append(matched, i)
		}
	}
	switch len(matched) {
	case 0:
		return Stats{}
	case 1:
		return s.Keys[matched[0]].Stats
	}
	m := newAgg(s.cfg)
	for _, i := range matched {
		m.merge(s.aggs[i])
	}
	return statsOf(m)
}

// point computes the derived numbers of one interval.
func (iv *interval) point(offset time.Duration) IntervalPoint {
	p := IntervalPoint{Offset: offset, Iterations: iv.iterations, Dropped: iv.dropped, Classes: iv.classes}
	if !iv.hasRequests() {
		return p
	}
	p.Requests, p.Failures = iv.requests, iv.failures
	p.Latency = quantiles(iv.lat.ValueAtPercentilesSlice(seriesPercentiles), iv.lat.Max())
	p.Corrected = quantiles(iv.cor.ValueAtPercentilesSlice(seriesPercentiles), iv.cor.Max())
	return p
}

var seriesPercentiles = []float64{50, 95, 99}

func quantiles(us []int64, maxUs int64) Quantiles {
	return Quantiles{
		P50: time.Duration(us[0]) * time.Microsecond,
		P95: time.Duration(us[1]) * time.Microsecond,
		P99: time.Duration(us[2]) * time.Microsecond,
		Max: time.Duration(maxUs) * time.Microsecond,
	}
}
