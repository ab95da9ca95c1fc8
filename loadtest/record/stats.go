package record

import (
	"maps"
	"slices"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// Stats are the derived numbers of a selection of samples.
type Stats struct {
	// Count is the number of requests, Failures those the Failed rule
	// counts as failed, and Rate is Failures/Count (0 when Count is 0).
	Count    int64   `json:"count"`
	Failures int64   `json:"failures"`
	Rate     float64 `json:"rate"`
	// RPS is the rate at which the requests started: (Count-1) over the
	// time from the first start to the last, which is exact for an even
	// schedule; 0 with fewer than two starts apart.
	RPS float64 `json:"rps"`
	// Duration is the time from the first request's start to the last's.
	Duration time.Duration `json:"duration"`
	// ChecksPassed and ChecksFailed count the checked samples by outcome.
	ChecksPassed int64 `json:"checks_passed"`
	ChecksFailed int64 `json:"checks_failed"`
	// BytesIn and BytesOut are the bytes received and sent.
	BytesIn  int64 `json:"bytes_in"`
	BytesOut int64 `json:"bytes_out"`
	// Clamped counts the samples whose corrected latency exceeded the
	// highest trackable latency: the histograms hold them at that value
	// (the exact Max is kept).
	Clamped int64 `json:"clamped"`
	// Statuses counts requests by HTTP status, 0 for no response.
	Statuses map[int]int64 `json:"statuses,omitempty"`
	// Reasons counts the failed requests, and those whose check failed,
	// by why (see Reason): at most MaxReasons names per Key, the rest
	// under ReasonOther.
	Reasons map[string]int64 `json:"reasons,omitempty"`
	// Latency is timed from the request's actual start; Corrected from its
	// intended start (coordinated omission corrected). They are equal for
	// requests that left on schedule and in closed-model runs.
	Latency   Dist `json:"latency"`
	Corrected Dist `json:"corrected"`

	// iterations marks the Stats of whole iterations
	// (Snapshot.SelectIterations): only iteration_duration reads them.
	iterations bool
}

// Dist is a latency distribution. Min, Max and Mean are exact; the
// percentiles come from the HDR histogram, to its precision (0.1% by
// default), and never lie outside [Min, Max].
type Dist struct {
	Min    time.Duration `json:"min"`
	Max    time.Duration `json:"max"`
	Mean   time.Duration `json:"mean"`
	Median time.Duration `json:"med"`
	P90    time.Duration `json:"p90"`
	P95    time.Duration `json:"p95"`
	P99    time.Duration `json:"p99"`

	h *hdr.Histogram // nil when empty
}

// Percentile returns the latency that p percent of the requests did not
// exceed, for p within [0, 100]; 0 for an empty distribution.
func (d Dist) Percentile(p float64) time.Duration {
	if d.h == nil || d.h.TotalCount() == 0 {
		return 0
	}
	if p <= 0 {
		return d.Min
	}
	if p >= 100 {
		return d.Max
	}
	v := time.Duration(d.h.ValueAtPercentile(p)) * time.Microsecond
	return min(max(v, d.Min), d.Max)
}

// Count returns the number of values in the distribution.
func (d Dist) Count() int64 {
	if d.h == nil {
		return 0
	}
	return d.h.TotalCount()
}

func statsOf(a *agg) Stats {
	s := Stats{
		Count:        a.count,
		Failures:     a.failures,
		ChecksPassed: a.checksPassed,
		ChecksFailed: a.checksFailed,
		BytesIn:      a.bytesIn,
		BytesOut:     a.bytesOut,
		Clamped:      a.clamped,
		Latency:      distOf(&a.lat),
		Corrected:    distOf(&a.cor),
	}
	if a.count == 0 {
		return s
	}
	s.Statuses = a.statuses.counts()
	s.Reasons = maps.Clone(map[string]int64(a.reasons))
	s.Rate = float64(a.failures) / float64(a.count)
	s.Duration = time.Duration(a.lastStart - a.firstStart)
	if a.count > 1 && s.Duration > 0 {
		s.RPS = float64(a.count-1) / s.Duration.Seconds()
	}
	return s
}

func distOf(d *dist) Dist {
	n := d.h.TotalCount()
	if n == 0 {
		return Dist{}
	}
	out := Dist{
		Min:  d.min,
		Max:  d.max,
		Mean: time.Duration(d.sumUs/n) * time.Microsecond,
		h:    d.h,
	}
	// The exact sum is in whole microseconds: keep the remainder too.
	out.Mean += time.Duration(float64(d.sumUs%n) / float64(n) * float64(time.Microsecond))
	out.Median = out.Percentile(50)
	out.P90 = out.Percentile(90)
	out.P95 = out.Percentile(95)
	out.P99 = out.Percentile(99)
	return out
}

// The statistics Value knows, named as in k6 thresholds.
const (
	StatAvg        = "avg"
	StatMed        = "med"
	StatMin        = "min"
	StatMax        = "max"
	StatPercentile = "p"
	StatCount      = "count"
	StatRate       = "rate"
	StatValue      = "value"
)

// Value returns one statistic in k6's units, for threshold evaluation:
//
//	avg, med, min, max, p   the corrected latency (http_req_duration), in ms;
//	                        p takes percentile in (0, 100]
//	count                   the number of requests
//	rate, value             the failure rate, Failures/Count (http_req_failed;
//	                        k6's summary export calls a rate's number "value")
//
// ok is false when the selection has no samples (k6 then skips the
// threshold), for an unknown stat and for a percentile outside (0, 100].
// Use Metric to read a statistic of another k6 metric, such as the request
// rate of http_reqs or the uncorrected latency.
func (s Stats) Value(stat string, percentile float64) (float64, bool) {
	m, _ := s.Metric(MetricDuration)
	switch stat {
	case StatCount:
		m, _ = s.Metric(MetricReqs)
	case StatRate, StatValue:
		m, _ = s.Metric(MetricFailed)
		stat = StatRate
	}
	return m.Value(stat, percentile)
}

// The k6 built-in metrics that Metric knows, and one of our own.
const (
	// MetricDuration is a trend of the corrected latency.
	MetricDuration = "http_req_duration"
	// MetricDurationUncorrected is a trend of the latency timed from the
	// actual start (not a k6 metric: k6 has no correction).
	MetricDurationUncorrected = "http_req_duration_uncorrected"
	// MetricReqs is a counter of requests: count, and rate per second.
	MetricReqs = "http_reqs"
	// MetricFailed is a rate: the share of failed requests.
	MetricFailed = "http_req_failed"
	// MetricChecks is a rate: the share of passed checks.
	MetricChecks = "checks"
	// MetricDataReceived and MetricDataSent are counters of bytes on the
	// wire: count, and rate per second.
	MetricDataReceived = "data_received"
	MetricDataSent     = "data_sent"
	// MetricIterationDuration is a trend of whole iterations' durations,
	// timed as k6 times them from the iteration's start, which in the open
	// model is its scheduled start (see Snapshot.SelectIterations).
	MetricIterationDuration = "iteration_duration"
	// MetricIterations is a counter of whole iterations: count, and rate
	// per second.
	MetricIterations = "iterations"
)

// Measured lists the k6 metrics whose statistics Stats and Snapshot can
// give; a threshold on any other could never be judged here.
var Measured = []string{
	MetricDuration, MetricDurationUncorrected, MetricReqs, MetricFailed, MetricChecks,
	MetricDataReceived, MetricDataSent, MetricIterationDuration, MetricIterations,
}

// The write ledger's counters (loadtest/ledger): acknowledged task writes
// found lost, resurrected or duplicated when read back after the load,
// and writes the client saw fail that happened all the same. They are
// measured once the load has stopped, not from its samples, and carry no
// tags.
const (
	MetricLostWrites        = "lost_writes"
	MetricResurrectedWrites = "resurrected_writes"
	MetricDuplicatedWrites  = "duplicated_writes"
	MetricAmbiguousWrites   = "ambiguous_writes"
)

// WriteMetrics lists the write ledger's counters.
var WriteMetrics = []string{MetricLostWrites, MetricResurrectedWrites, MetricDuplicatedWrites, MetricAmbiguousWrites}

// IsIterationMetric reports whether the metric name reads whole
// iterations (Snapshot.SelectIterations) rather than requests.
func IsIterationMetric(name string) bool {
	return name == MetricIterationDuration || name == MetricIterations
}

// Metric is Stats seen as one k6 metric, whose type decides what its
// statistics mean (a counter's rate is per second, a rate metric's is a
// share).
type Metric struct {
	name string
	s    Stats
}

// Metric returns the view of s as the named metric (see MetricDuration and
// the constants after it), and false for a name it does not know or that
// does not apply to s: iteration_duration to the Stats of iterations
// (Snapshot.SelectIterations) only, the others to requests only.
// Snapshot.Metric picks the right selection.
func (s Stats) Metric(name string) (Metric, bool) {
	if !slices.Contains(Measured, name) || IsIterationMetric(name) != s.iterations {
		return Metric{}, false
	}
	return Metric{name: name, s: s}, true
}

// Name returns the metric's name.
func (m Metric) Name() string { return m.name }

// Value returns the statistic stat of the metric in k6's units
// (milliseconds for trends, a fraction for rates, per second for a
// counter's rate), with the stat names of Stats.Value. ok is false when
// there is no data, when the metric does not have stat (as k6 would refuse
// it), and for a percentile outside (0, 100]. A counter always has data:
// with no samples its count and rate are 0, so that http_reqs count>0
// fails a run that sent nothing instead of passing it for lack of data.
func (m Metric) Value(stat string, percentile float64) (float64, bool) {
	s := m.s
	switch m.name {
	case MetricReqs, MetricIterations:
		return counterValue(float64(s.Count), s, stat)
	case MetricDataReceived:
		return counterValue(float64(s.BytesIn), s, stat)
	case MetricDataSent:
		return counterValue(float64(s.BytesOut), s, stat)
	}
	if s.Count == 0 {
		return 0, false
	}
	switch m.name {
	case MetricDuration, MetricIterationDuration:
		return trendValue(s.Corrected, stat, percentile)
	case MetricDurationUncorrected:
		return trendValue(s.Latency, stat, percentile)
	case MetricFailed:
		if stat != StatRate {
			return 0, false
		}
		return s.Rate, true
	case MetricChecks:
		n := s.ChecksPassed + s.ChecksFailed
		if stat != StatRate || n == 0 {
			return 0, false
		}
		return float64(s.ChecksPassed) / float64(n), true
	}
	return 0, false
}

func trendValue(d Dist, stat string, percentile float64) (float64, bool) {
	var v time.Duration
	switch stat {
	case StatAvg:
		v = d.Mean
	case StatMed:
		v = d.Median
	case StatMin:
		v = d.Min
	case StatMax:
		v = d.Max
	case StatPercentile:
		if !(percentile > 0 && percentile <= 100) { // also rejects NaN
			return 0, false
		}
		v = d.Percentile(percentile)
	default:
		return 0, false
	}
	return ms(v), true
}

// counterValue returns a counter's total, or its rate per second: the total
// spread at the requests' rate, total/Count*RPS.
func counterValue(total float64, s Stats, stat string) (float64, bool) {
	switch stat {
	case StatCount:
		return total, true
	case StatRate:
		if s.Count == 0 || s.RPS == 0 {
			return 0, true // nothing counted, or in no time: none per second
		}
		return total / float64(s.Count) * s.RPS, true
	}
	return 0, false
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
