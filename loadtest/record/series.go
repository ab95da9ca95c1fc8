package record

import (
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// The time series keeps one interval per bucket of Interval, indexed by the
// requests' start. Its memory must stay flat however long the run, so each
// interval keeps its histograms sparse (hdrhistogram's PackedHistogram,
// whose storage grows with the populated buckets) and coarse (2 significant
// figures by default), which bounds an interval to a few thousand buckets
// whatever its number of samples.
//
// Recording into a sparse histogram is a binary search, and populating a
// bucket shifts the following ones. To keep Add O(1), the latest intervals
// record into a window of dense histograms instead, which are folded into
// the interval's sparse histograms (and reset for reuse) when a newer
// interval takes their slot, or on flush. Samples older than the window,
// which only very slow requests produce, record into the sparse histograms
// directly.

// MaxSeries bounds the time series' length: when a sample needs an
// interval at this index or later, the series halves its resolution
// (adjacent intervals merge, the interval doubles) and goes on. A run of
// any length then holds at most MaxSeries intervals, about 3 MB at 500
// requests a second: at the default one second, 20 minutes at full
// resolution, 40 at 2 s, and so on (a 2-hour soak ends with 900 points
// of 8 s). The run-wide histograms are exact whatever the resolution.
const MaxSeries = 1200

// coarsen halves the series' resolution: intervals 2k and 2k+1 become
// interval k, and the interval doubles.
func (r *Recorder) coarsen() {
	r.flush()
	n := (len(r.intervals) + 1) / 2
	for k := range n {
		merged := r.intervals[2*k]
		if 2*k+1 < len(r.intervals) {
			if next := &r.intervals[2*k+1]; !next.empty() {
				hadHistograms := merged.lat != nil
				merged.merge(next)
				if hadHistograms && next.lat != nil {
					merged.lat.Compact()
					merged.cor.Compact()
				}
			}
		}
		r.intervals[k] = merged
	}
	clear(r.intervals[n:])
	r.intervals = r.intervals[:n]
	r.cfg.interval *= 2
}

// windowSize is the number of intervals the dense window holds: the current
// one and the one before, so that a request that started in the previous
// interval and ended in this one still takes the fast path.
const windowSize = 2

// interval is one bucket of the time series.
type interval struct {
	requests, failures int64
	// iterations counts the whole iterations that started in it, dropped
	// the open-model iterations due in it that found no VU, and busyNs
	// the time iterations ran within it, summed: busyNs/interval is the
	// mean number of VUs busy in it.
	iterations, dropped, busyNs int64
	// classes counts the requests by status class: 1xx to 5xx at 1 to
	// 5, no response (and any code outside 100-599) at 0.
	classes  [6]int64
	lat, cor *hdr.PackedHistogram // nil until the first request
}

// statusClass is the index of code in interval.classes.
func statusClass(code int) int {
	if code < 100 || code > 599 {
		return 0
	}
	return code / 100
}

// window holds the dense histograms of the latest intervals: slot j holds
// interval idx, with idx%windowSize == j, while n > 0.
type window [windowSize]struct {
	idx      int
	n        int64
	lat, cor *hdr.Histogram // allocated on first use, then reused
}

// hasRequests reports whether requests started in the interval.
func (iv *interval) hasRequests() bool { return iv.lat != nil && iv.requests > 0 }

// empty reports whether nothing at all was counted in the interval.
func (iv *interval) empty() bool {
	return !iv.hasRequests() && iv.iterations == 0 && iv.dropped == 0 && iv.busyNs == 0
}

// addBusy spreads an iteration that ran over [startNs, endNs) over the
// intervals it overlaps, as VU time.
func (r *Recorder) addBusy(startNs, endNs int64) {
	if endNs <= startNs {
		return
	}
	r.seriesIndex(endNs) // coarsen first, so that the whole span fits
	w := int64(r.cfg.interval)
	for t := startNs; t < endNs; {
		i := r.index(t)
		seg := min(endNs, r.startNs+int64(i+1)*w) - t
		if seg <= 0 || i == MaxIntervals-1 { // before the start, or the last interval: the rest goes here
			seg = endNs - t
		}
		r.grow(i).busyNs += seg
		t += seg
	}
}

// recordInterval records one sample in interval i.
func (r *Recorder) recordInterval(i int, lat, cor time.Duration, failed bool, status int) {
	iv := r.interval(i)
	iv.requests++
	if failed {
		iv.failures++
	}
	iv.classes[statusClass(status)]++
	latUs, _ := micros(lat, r.highest)
	corUs, _ := micros(cor, r.highest)
	sl := &r.open[i%windowSize]
	switch {
	case sl.n > 0 && sl.idx > i: // older than the window
		_ = iv.lat.RecordValue(latUs)
		_ = iv.cor.RecordValue(corUs)
		return
	case sl.n > 0 && sl.idx < i: // a newer interval takes the slot
		r.fold(sl.idx % windowSize)
	case sl.lat == nil:
		sl.lat = hdr.New(1, r.highest, r.cfg.intervalSigFigs)
		sl.cor = hdr.New(1, r.highest, r.cfg.intervalSigFigs)
	}
	sl.idx = i
	sl.n++
	_ = sl.lat.RecordValue(latUs)
	_ = sl.cor.RecordValue(corUs)
}

// fold moves window slot j into its interval's sparse histograms.
func (r *Recorder) fold(j int) {
	sl := &r.open[j]
	if sl.n == 0 {
		return
	}
	iv := &r.intervals[sl.idx]
	iv.lat.MergeFrom(sl.lat)
	iv.cor.MergeFrom(sl.cor)
	// The interval is (nearly always) complete: give back the growth slack.
	iv.lat.Compact()
	iv.cor.Compact()
	sl.lat.Reset()
	sl.cor.Reset()
	sl.n = 0
}

// flush folds the whole window, so that the intervals hold every sample.
func (r *Recorder) flush() {
	for j := range r.open {
		r.fold(j)
	}
}

// interval returns the bucket of index i, growing the series to hold it.
func (r *Recorder) interval(i int) *interval {
	iv := r.grow(i)
	if iv.lat == nil {
		iv.lat = hdr.NewPacked(1, r.highest, r.cfg.intervalSigFigs)
		iv.cor = hdr.NewPacked(1, r.highest, r.cfg.intervalSigFigs)
	}
	return iv
}

// grow extends the series to hold index i and returns that bucket, which
// may have no histograms yet.
func (r *Recorder) grow(i int) *interval {
	if i >= len(r.intervals) {
		if i < cap(r.intervals) {
			r.intervals = r.intervals[:i+1]
		} else {
			r.intervals = append(r.intervals, make([]interval, i+1-len(r.intervals))...)
		}
	}
	return &r.intervals[i]
}

// merge adds o (whose window was flushed) to iv.
func (iv *interval) merge(o *interval) {
	iv.requests += o.requests
	iv.failures += o.failures
	iv.iterations += o.iterations
	iv.dropped += o.dropped
	iv.busyNs += o.busyNs
	for c, n := range o.classes {
		iv.classes[c] += n
	}
	switch {
	case o.lat == nil:
	case iv.lat == nil:
		iv.lat, iv.cor = o.lat.Clone(), o.cor.Clone()
	default:
		iv.lat.Merge(o.lat)
		iv.cor.Merge(o.cor)
	}
}

// memory returns the bytes held by the interval's histograms.
func (iv *interval) memory() int {
	if iv.lat == nil {
		return 0
	}
	return iv.lat.GetMemorySize() + iv.cor.GetMemorySize()
}

// memory returns the bytes held by the window's dense histograms.
func (w *window) memory() int {
	n := 0
	for j := range w {
		if w[j].lat != nil {
			n += w[j].lat.ByteSize() + w[j].cor.ByteSize()
		}
	}
	return n
}
