package record

import (
	"fmt"
	"time"
)

// Defaults of the options. The CLI reuses them as flag defaults.
const (
	// DefaultInterval is the width of one bucket of the time series.
	DefaultInterval = time.Second
	// DefaultHighestTrackable is the largest latency the histograms hold;
	// larger ones are recorded at this value and counted in Stats.Clamped.
	DefaultHighestTrackable = 60 * time.Second
	// DefaultSignificantFigures is the precision of the run-wide histograms:
	// 3 keeps every value within 0.1%.
	DefaultSignificantFigures = 3
	// DefaultIntervalSignificantFigures is the precision of the per-interval
	// histograms: 2 keeps every value within 1%, which is plenty for a
	// percentile-over-time chart and bounds an interval's buckets to a few
	// thousand however many samples it gets.
	DefaultIntervalSignificantFigures = 2
)

// Option configures a Recorder. Options are applied in order; New returns
// an error if the result is out of range.
type Option func(*config)

type config struct {
	interval        time.Duration
	highest         time.Duration
	sigFigs         int
	intervalSigFigs int
	failed          func(Sample) bool
}

func defaultConfig() config {
	return config{
		interval:        DefaultInterval,
		highest:         DefaultHighestTrackable,
		sigFigs:         DefaultSignificantFigures,
		intervalSigFigs: DefaultIntervalSignificantFigures,
		failed:          DefaultFailed,
	}
}

// Interval sets the width of one bucket of the time series (default 1s).
func Interval(d time.Duration) Option { return func(c *config) { c.interval = d } }

// HighestTrackable sets the largest latency the histograms hold (default
// 60s). Record a timeout's worth: larger values are clamped to it.
func HighestTrackable(d time.Duration) Option { return func(c *config) { c.highest = d } }

// SignificantFigures sets the precision (1 to 5 decimal digits) of the
// run-wide histograms (default 3).
func SignificantFigures(n int) Option { return func(c *config) { c.sigFigs = n } }

// IntervalSignificantFigures sets the precision (1 to 5 decimal digits) of
// the per-interval histograms (default 2).
func IntervalSignificantFigures(n int) Option { return func(c *config) { c.intervalSigFigs = n } }

// Failed sets the rule that decides whether a sample counts as a failure
// (default DefaultFailed). A nil f restores the default.
func Failed(f func(Sample) bool) Option {
	return func(c *config) {
		if f == nil {
			f = DefaultFailed
		}
		c.failed = f
	}
}

// validate reports the first option that is out of range.
func (c config) validate() error {
	switch {
	case c.interval <= 0:
		return fmt.Errorf("record: interval %s is not positive", c.interval)
	case c.highest < 2*time.Microsecond:
		return fmt.Errorf("record: highest trackable latency %s is below 2µs", c.highest)
	case c.sigFigs < 1 || c.sigFigs > 5:
		return fmt.Errorf("record: significant figures %d are not within 1 to 5", c.sigFigs)
	case c.intervalSigFigs < 1 || c.intervalSigFigs > 5:
		return fmt.Errorf("record: interval significant figures %d are not within 1 to 5", c.intervalSigFigs)
	}
	return nil
}

// highestMicros is the histograms' highest trackable value in microseconds.
func (c config) highestMicros() int64 { return int64(c.highest / time.Microsecond) }
