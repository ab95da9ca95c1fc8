package record

import (
	"fmt"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// The accessors below hand out copies of the histograms themselves, for
// analyses the derived numbers of a Snapshot cannot support, such as
// resampling a run to compare it with a baseline (package compare).

// SeriesInterval is one non-empty interval of the time series, with copies of
// its histograms (in microseconds, at the interval significant figures).
type SeriesInterval struct {
	// Index is the interval's position: it holds the requests that started
	// within [Index*Interval, (Index+1)*Interval) of the recorder's start.
	Index int
	// Requests and Failures count the requests that started in it.
	Requests, Failures int64
	// Latency and Corrected hold the interval's latencies, timed from the
	// actual and from the intended start. Each holds Requests values.
	Latency, Corrected *hdr.PackedHistogram
}

// Series returns copies of the intervals with requests of the time series, in
// order: about Footprint().IntervalBytes of memory. Like Snapshot, it must
// not run concurrently with Add.
func (r *Recorder) Series() []SeriesInterval {
	r.flush()
	var out []SeriesInterval
	for i := range r.intervals {
		iv := &r.intervals[i]
		if !iv.hasRequests() {
			continue
		}
		out = append(out, SeriesInterval{
			Index:     i,
			Requests:  iv.requests,
			Failures:  iv.failures,
			Latency:   iv.lat.Clone(),
			Corrected: iv.cor.Clone(),
		})
	}
	return out
}

// Histogram returns a copy of the distribution's HDR histogram, in
// microseconds; nil when the distribution is empty.
func (d Dist) Histogram() *hdr.Histogram {
	if d.h == nil || d.h.TotalCount() == 0 {
		return nil
	}
	return d.h.Clone()
}

// Compatible returns nil when o's histograms and intervals have the same
// shape as r's (the condition of Merge), and an error wrapping
// ErrIncompatible otherwise: numbers measured at different precisions or
// interval widths are not comparable.
func (r *Recorder) Compatible(o *Recorder) error {
	if r.cfg.sameShape(o.cfg) {
		return nil
	}
	return fmt.Errorf("%w: interval %s/%s, highest %s/%s, significant figures %d/%d, interval significant figures %d/%d",
		ErrIncompatible, r.cfg.interval, o.cfg.interval, r.cfg.highest, o.cfg.highest,
		r.cfg.sigFigs, o.cfg.sigFigs, r.cfg.intervalSigFigs, o.cfg.intervalSigFigs)
}
