package record

// Footprint is what a Recorder holds in memory, for a memory check of a long
// run or the harness's own metrics.
type Footprint struct {
	// Keys is the number of keyed aggregates, of requests and of whole
	// iterations, KeyBytes the bytes of their histograms: fixed per key,
	// whatever the number of samples.
	Keys     int `json:"keys"`
	KeyBytes int `json:"key_bytes"`
	// Intervals is the length of the time series, and IntervalHistograms
	// the number of interval histograms alive: two (latency and corrected)
	// per interval that got a sample. IntervalBytes is their size, bounded
	// per interval by the histograms' bucket count, not by samples.
	Intervals          int `json:"intervals"`
	IntervalHistograms int `json:"interval_histograms"`
	IntervalBytes      int `json:"interval_bytes"`
	// WindowBytes is the fixed scratch of dense histograms that the latest
	// intervals record into before they are folded into sparse ones.
	WindowBytes int `json:"window_bytes"`
}

// Footprint reports what r holds in memory.
func (r *Recorder) Footprint() Footprint {
	r.flush()
	f := Footprint{Keys: len(r.keys) + len(r.iters), Intervals: len(r.intervals), WindowBytes: r.open.memory()}
	for _, a := range r.keys {
		f.KeyBytes += a.lat.h.ByteSize() + a.cor.h.ByteSize()
	}
	for _, a := range r.iters {
		f.KeyBytes += a.lat.h.ByteSize() + a.cor.h.ByteSize()
	}
	for i := range r.intervals {
		if iv := &r.intervals[i]; iv.lat != nil {
			f.IntervalHistograms += 2
			f.IntervalBytes += iv.memory()
		}
	}
	return f
}
