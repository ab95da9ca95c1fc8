package record

import (
	"maps"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// agg is the run-wide aggregate of one Key: counters, exact extremes and
// sums, and one dense HDR histogram (microseconds) per latency view.
type agg struct {
	count, failures            int64
	checksPassed, checksFailed int64
	bytesIn, bytesOut          int64
	clamped                    int64 // samples whose latency was above the highest trackable
	statuses                   statusCounts
	reasons                    reasonCounts // why requests failed, bounded by MaxReasons

	// firstStart and lastStart bound the Start times seen (Unix ns), for
	// the rate; valid when count > 0.
	firstStart, lastStart int64

	lat, cor dist
}

// dist is one latency view: an HDR histogram plus the exact minimum,
// maximum and sum, which the histogram only approximates.
type dist struct {
	h        *hdr.Histogram
	min, max time.Duration // exact, unclamped; valid when h holds values
	sumUs    int64         // microseconds, the unit of h
}

func newAgg(cfg config) *agg {
	return &agg{
		lat: dist{h: hdr.New(1, cfg.highestMicros(), cfg.sigFigs)},
		cor: dist{h: hdr.New(1, cfg.highestMicros(), cfg.sigFigs)},
	}
}

func (a *agg) record(s Sample, start int64, lat, cor time.Duration, failed bool, highest int64) {
	a.span(start)
	a.count++
	if failed {
		a.failures++
	}
	if s.CheckPassed != nil {
		if *s.CheckPassed {
			a.checksPassed++
		} else {
			a.checksFailed++
		}
	}
	a.bytesIn += s.BytesIn
	a.bytesOut += s.BytesOut
	a.statuses.add(s.Status, 1)
	if failed || s.CheckPassed != nil && !*s.CheckPassed {
		a.reasons.add(Reason(s, failed), 1)
	}
	a.lat.record(lat, highest)
	// The corrected latency is never below the latency, so it is clamped
	// whenever either is.
	if a.cor.record(cor, highest) {
		a.clamped++
	}
}

// recordIteration adds a whole iteration: a count and its durations, no
// request statistic.
func (a *agg) recordIteration(start int64, lat, cor time.Duration, highest int64) {
	a.span(start)
	a.count++
	a.lat.record(lat, highest)
	if a.cor.record(cor, highest) {
		a.clamped++
	}
}

// span widens [firstStart, lastStart] to start; call it before counting.
func (a *agg) span(start int64) {
	if a.count == 0 || start < a.firstStart {
		a.firstStart = start
	}
	if a.count == 0 || start > a.lastStart {
		a.lastStart = start
	}
}

// merge adds o to a: the result is the aggregate of both sets of samples.
func (a *agg) merge(o *agg) {
	if o.count == 0 {
		return
	}
	if a.count == 0 || o.firstStart < a.firstStart {
		a.firstStart = o.firstStart
	}
	if a.count == 0 || o.lastStart > a.lastStart {
		a.lastStart = o.lastStart
	}
	a.count += o.count
	a.failures += o.failures
	a.checksPassed += o.checksPassed
	a.checksFailed += o.checksFailed
	a.bytesIn += o.bytesIn
	a.bytesOut += o.bytesOut
	a.clamped += o.clamped
	a.statuses.merge(&o.statuses)
	a.reasons.merge(o.reasons)
	a.lat.merge(&o.lat)
	a.cor.merge(&o.cor)
}

// clone returns an independent copy of a.
func (a *agg) clone() *agg {
	c := *a
	c.statuses.other = maps.Clone(a.statuses.other)
	c.reasons = maps.Clone(a.reasons)
	c.lat.h = a.lat.h.Clone()
	c.cor.h = a.cor.h.Clone()
	return &c
}

// statusCounts counts requests by HTTP status: an array indexes the codes
// up to 599 without hashing, and a map holds any other (which no conforming
// server sends).
type statusCounts struct {
	codes [600]int64
	other map[int]int64
}

func (c *statusCounts) add(code int, n int64) {
	if code >= 0 && code < len(c.codes) {
		c.codes[code] += n
		return
	}
	if c.other == nil {
		c.other = make(map[int]int64)
	}
	c.other[code] += n
}

func (c *statusCounts) merge(o *statusCounts) {
	for code, n := range o.codes {
		c.codes[code] += n
	}
	for code, n := range o.other {
		c.add(code, n)
	}
}

// counts returns the non-zero counts by code.
func (c *statusCounts) counts() map[int]int64 {
	m := make(map[int]int64)
	for code, n := range c.codes {
		if n != 0 {
			m[code] = n
		}
	}
	for code, n := range c.other {
		m[code] += n
	}
	return m
}

// record adds v and reports whether it was above highest (and recorded as
// highest).
func (d *dist) record(v time.Duration, highest int64) (clamped bool) {
	v = max(v, 0)
	if d.h.TotalCount() == 0 || v < d.min {
		d.min = v
	}
	if d.h.TotalCount() == 0 || v > d.max {
		d.max = v
	}
	us, clamped := micros(v, highest)
	d.sumUs += us
	_ = d.h.RecordValue(us) // cannot fail: 0 <= us <= highest
	return clamped
}

func (d *dist) merge(o *dist) {
	if o.h.TotalCount() == 0 {
		return
	}
	if d.h.TotalCount() == 0 || o.min < d.min {
		d.min = o.min
	}
	if d.h.TotalCount() == 0 || o.max > d.max {
		d.max = o.max
	}
	d.sumUs += o.sumUs
	d.h.Merge(o.h) // same geometry: nothing is dropped
}
