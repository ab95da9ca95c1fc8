package threshold

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
)

// Stats gives the aggregated statistics of one metric or sub-metric.
//
// Value returns the statistic stat (with percentile in (0, 100] for
// StatPercentile) and ok=true, or ok=false when the statistic is undefined
// because the metric has no samples. A counter without samples has a
// count (and rate) of 0, which is data. Latencies are in milliseconds, as
// in k6; rates of rate metrics are fractions, of counters per second.
type Stats interface {
	Value(stat Stat, percentile float64) (v float64, ok bool)
}

// StatsFunc adapts a function to Stats.
type StatsFunc func(stat Stat, percentile float64) (float64, bool)

// Value implements Stats.
func (f StatsFunc) Value(stat Stat, percentile float64) (float64, bool) { return f(stat, percentile) }

var _ Stats = StatsFunc(nil)

// ErrNilStats is returned by Holds when it is given no Stats.
var ErrNilStats = errors.New("threshold: nil Stats")

// Holds evaluates e against s and returns whether it holds and the
// observed statistic.
//
// When s has no data for the statistic, Holds follows k6 and returns
// holds=true with observed NaN: a threshold on a metric without samples
// does not fail. It returns an error, and holds=false, when e is not valid
// (see Expression.Validate), s is nil, or s returns NaN or an infinity with
// ok=true.
func (e Expression) Holds(s Stats) (holds bool, observed float64, err error) {
	if err := e.Validate(); err != nil {
		return false, math.NaN(), err
	}
	if s == nil {
		return false, math.NaN(), ErrNilStats
	}
	v, ok := s.Value(e.Stat, e.Percentile)
	if !ok {
		return true, math.NaN(), nil
	}
	if !isFinite(v) {
		return false, v, fmt.Errorf("threshold %s: observed %s is %v", e, statLabel(e), v)
	}
	return e.Op.Compare(v, e.Value), v, nil
}

// Verdict is the outcome of one threshold.
type Verdict struct {
	// Threshold is what was evaluated.
	Threshold Threshold
	// Passed is true when the expression held or the metric had no data.
	Passed bool
	// Observed is the statistic the expression tested; NaN without data.
	Observed float64
	// Reason says in words why the threshold passed or failed:
	// "212.4 < 300", "412.9 is not < 300", "no data", or an error.
	Reason string
}

// Evaluate evaluates t against s, the statistics of t.Selector.
func Evaluate(t Threshold, s Stats) Verdict {
	holds, observed, err := t.Expr.Holds(s)
	v := Verdict{Threshold: t, Passed: holds, Observed: observed}
	switch {
	case err != nil:
		v.Reason = "error: " + err.Error()
	case math.IsNaN(observed):
		v.Reason = "no data"
	case holds:
		v.Reason = formatObserved(observed) + " " + t.Expr.Op.String() + " " + formatNumber(t.Expr.Value)
	default:
		v.Reason = formatObserved(observed) + " is not " + t.Expr.Op.String() + " " + formatNumber(t.Expr.Value)
	}
	return v
}

// NoData reports whether the metric had no samples to test.
func (v Verdict) NoData() bool {
	return v.Passed && math.IsNaN(v.Observed)
}

// String returns one line for people, a mark, the threshold and what was
// observed:
//
//	✓ http_req_duration{endpoint:list} p(95)<300  observed 212.4
//	✗ http_req_failed rate<0.01  observed 0.0312
//	✓ checks rate>0.99  no data
func (v Verdict) String() string {
	mark := "✗"
	if v.Passed {
		mark = "✓"
	}
	tail := "observed " + formatObserved(v.Observed)
	switch {
	case strings.HasPrefix(v.Reason, "error: "):
		tail = v.Reason
	case v.NoData():
		tail = "no data"
	}
	return mark + " " + v.Threshold.String() + "  " + tail
}

// Aborts reports whether this verdict stops the test at elapsed time into
// it, as k6 decides: the threshold failed, has abortOnFail, and its
// delayAbortEval, if any, has passed.
func (v Verdict) Aborts(elapsed time.Duration) bool {
	d := v.Threshold.DelayAbortEval
	return !v.Passed && v.Threshold.AbortOnFail && (d == 0 || elapsed > d)
}
