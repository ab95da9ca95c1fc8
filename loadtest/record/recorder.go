package record

import (
	"errors"
	"fmt"
	"sort"
	"time"
)

// Key identifies one keyed aggregate: the tags thresholds and reports break
// results down by.
type Key struct {
	Scenario, Endpoint, Phase string
}

// MaxIntervals caps the length of the time series: a sample that started
// this many intervals or more after the recorder's start (a clock gone
// wrong) is counted in the last one, so a bad timestamp cannot make the
// series allocate without bound. At the default 1s interval it is 12 days.
const MaxIntervals = 1 << 20

// ErrIncompatible is returned by Merge when the two recorders' histograms or
// intervals are not of the same shape.
var ErrIncompatible = errors.New("record: recorders have different options")

// Recorder aggregates samples into HDR histograms per Key, and into a time
// series of one bucket per interval.
//
// Add is O(1) amortised and does not allocate in the steady state: it
// allocates only for a Key seen for the first time and once per interval,
// when the interval begins and when the one before it is folded into its
// sparse histograms (BenchmarkAdd: 0 allocs/op, 60-190ns/op on a shared 2-core machine).
//
// A Recorder is not safe for concurrent use: it belongs to one goroutine,
// typically the one that drains the results channel. A mutex inside Add
// would cost every single-goroutine caller and still serialise the others:
// BenchmarkConcurrent (2 cores) measures about 35-50ns per sample for a
// Recorder per worker merged at the end, 125-180ns for one Recorder behind
// Locked, and 190-215ns for workers sending to one recording goroutine over
// a channel. So Add takes no lock; give each worker its own Recorder and
// Merge them, or use Locked where sharing is simpler.
type Recorder struct {
	cfg     config
	start   time.Time
	startNs int64 // start.UnixNano(): Add works in wall-clock nanoseconds
	highest int64 // cfg.highest in microseconds

	keys map[Key]*agg
	// iters holds the whole iterations (Sample.Iteration), apart from
	// the requests: they are fewer, so no cache in front of the map.
	iters map[IterationKey]*agg
	// recent caches the aggregates of the last few keys: a run has few
	// keys active at a time, and a few string compares beat hashing three
	// strings for the map.
	recent     [recentKeys]recentKey
	recentNext int

	intervals []interval
	open      window // dense histograms of the latest intervals
	lastEnd   int64  // the latest Start+Latency seen (Unix ns), 0 before any
}

// New returns a Recorder for a run that started at start (the origin of the
// time series), or an error if an option is out of range: the interval is
// not positive, the highest trackable latency is below 2µs, or significant
// figures are not within 1 to 5.
func New(start time.Time, opts ...Option) (*Recorder, error) {
	cfg := defaultConfig()
	for _, o := range opts {
		o(&cfg)
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return newRecorder(start, cfg), nil
}

// MustNew is New for options fixed in code; it panics on an invalid one.
func MustNew(start time.Time, opts ...Option) *Recorder {
	r, err := New(start, opts...)
	if err != nil {
		panic(err)
	}
	return r
}

// Validate reports whether New would accept opts, and if not why.
func Validate(opts ...Option) error {
	cfg := defaultConfig()
	for _, o := range opts {
		o(&cfg)
	}
	return cfg.validate()
}

func newRecorder(start time.Time, cfg config) *Recorder {
	return &Recorder{
		cfg:     cfg,
		start:   start,
		startNs: start.UnixNano(),
		highest: cfg.highestMicros(),
		keys:    make(map[Key]*agg),
		iters:   make(map[IterationKey]*agg),
	}
}

// Start returns the origin of the time series.
func (r *Recorder) Start() time.Time { return r.start }

// Add records one sample: a request, or a whole iteration when
// s.Iteration is set (which counts in no request statistic, and in the
// time series only as an iteration).
func (r *Recorder) Add(s Sample) {
	if s.Iteration {
		r.addIteration(s)
		return
	}
	a := r.slot(Key{Scenario: s.Scenario, Endpoint: s.Endpoint, Phase: s.Phase})
	failed := r.cfg.failed(s)
	startNs := s.Start.UnixNano()
	lat, cor := s.Latency, s.corrected(startNs)
	a.record(s, startNs, lat, cor, failed, r.highest)
	i := r.seriesIndex(startNs)
	r.recordInterval(i, lat, cor, failed, s.Status)
	r.lastEnd = max(r.lastEnd, startNs+int64(max(lat, 0)))
}

// Merge adds everything o recorded to r, as if r had been given o's samples:
// merging the recorders of N workers gives the recorder that got all their
// samples. What o recorded is left unchanged. Both must have the same
// highest trackable latency and significant figures, and intervals of
// which one is a whole multiple of the other (ErrIncompatible otherwise):
// the finer series is folded into the coarser, as a run longer than
// MaxSeries intervals has coarsened its own. The Failed rule may differ,
// since it was applied when the samples were added.
//
// Their starts may differ: o's intervals are moved onto r's grid by the
// nearest whole number of intervals, and r's start moves back to o's when o
// started earlier. Give distributed workers a common start to keep the
// series exact.
func (r *Recorder) Merge(o *Recorder) error {
	if o == r {
		return errors.New("record: a recorder cannot merge itself")
	}
	// A longer run's series is coarser (MaxSeries): bring r to o's
	// interval when o's is coarser; fold o's finer intervals into r's.
	for r.cfg.interval < o.cfg.interval && o.cfg.interval%r.cfg.interval == 0 && r.cfg.sameShape(o.cfg.withInterval(r.cfg.interval)) {
		r.coarsen()
	}
	factor := 1
	if r.cfg.interval > o.cfg.interval && r.cfg.interval%o.cfg.interval == 0 {
		factor = int(r.cfg.interval / o.cfg.interval)
	}
	if !r.cfg.sameShape(o.cfg.withInterval(o.cfg.interval * time.Duration(factor))) {
		return fmt.Errorf("%w: interval %s/%s, highest %s/%s, significant figures %d/%d, interval significant figures %d/%d",
			ErrIncompatible, r.cfg.interval, o.cfg.interval, r.cfg.highest, o.cfg.highest,
			r.cfg.sigFigs, o.cfg.sigFigs, r.cfg.intervalSigFigs, o.cfg.intervalSigFigs)
	}
	r.flush()
	o.flush()
	shift := r.alignTo(o.start)
	for _, k := range sortedKeys(o.keys) { // sorted: merging is deterministic
		if oa := o.keys[k]; oa.count > 0 {
			r.slot(k).merge(oa)
		}
	}
	for _, k := range sortedIterationKeys(o.iters) {
		oa := o.iters[k]
		if oa.count == 0 {
			continue
		}
		a, ok := r.iters[k]
		if !ok {
			a = newAgg(r.cfg)
			r.iters[k] = a
		}
		a.merge(oa)
	}
	for i := range o.intervals {
		if oi := &o.intervals[i]; !oi.empty() {
			r.grow(clampIndex(i/factor + shift)).merge(oi)
		}
	}
	r.lastEnd = max(r.lastEnd, o.lastEnd)
	return nil
}

// alignTo returns the number of r's intervals between r's start and other's
// start (rounded to the nearest), first moving r's start back (and its
// series forward) when other starts earlier, so that the result is never
// negative.
func (r *Recorder) alignTo(other time.Time) int {
	d := time.Duration(other.UnixNano() - r.startNs)
	shift := int((d + r.cfg.interval/2*sign(d)) / r.cfg.interval)
	if shift >= 0 {
		return shift
	}
	n := -shift
	moved := make([]interval, n+len(r.intervals))
	copy(moved[n:], r.intervals)
	r.intervals = moved
	r.start = r.start.Add(time.Duration(shift) * r.cfg.interval)
	r.startNs = r.start.UnixNano()
	return 0
}

func sign(d time.Duration) time.Duration {
	if d < 0 {
		return -1
	}
	return 1
}

const recentKeys = 4

type recentKey struct {
	k Key
	a *agg
}

// slot returns the aggregate of k, creating it on first use.
func (r *Recorder) slot(k Key) *agg {
	for i := range r.recent {
		e := &r.recent[i]
		// Endpoint first: it tells keys apart most often.
		if e.a != nil && e.k.Endpoint == k.Endpoint && e.k.Phase == k.Phase && e.k.Scenario == k.Scenario {
			return e.a
		}
	}
	a, ok := r.keys[k]
	if !ok {
		a = newAgg(r.cfg)
		r.keys[k] = a
	}
	r.recent[r.recentNext] = recentKey{k, a}
	r.recentNext = (r.recentNext + 1) % recentKeys
	return a
}

// seriesIndex is index, after halving the series' resolution as often
// as it takes to hold startNs within MaxSeries intervals.
func (r *Recorder) seriesIndex(startNs int64) int {
	i := r.index(startNs)
	for i >= MaxSeries && i < MaxIntervals-1 {
		r.coarsen()
		i = r.index(startNs)
	}
	return i
}

// AddDropped counts n open-model iterations that were due at at but found
// no VU, in the time series (the scenarios' totals are the engine's).
func (r *Recorder) AddDropped(at time.Time, n int64) {
	if n <= 0 {
		return
	}
	r.grow(r.seriesIndex(at.UnixNano())).dropped += n
}

// index returns the interval a request that started at startNs (Unix ns)
// belongs to.
func (r *Recorder) index(startNs int64) int {
	d := startNs - r.startNs
	if d < 0 {
		return 0
	}
	return clampIndex(int(min(d/int64(r.cfg.interval), MaxIntervals)))
}

func clampIndex(i int) int { return min(i, MaxIntervals-1) }

// micros converts d to whole microseconds within [0, highest], and reports
// whether it had to clamp it to highest.
func micros(d time.Duration, highest int64) (us int64, clamped bool) {
	us = int64(d / time.Microsecond)
	switch {
	case us < 0:
		return 0, false
	case us > highest:
		return highest, true
	}
	return us, false
}

func sortedKeys(m map[Key]*agg) []Key {
	ks := make([]Key, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Slice(ks, func(i, j int) bool { return ks[i].less(ks[j]) })
	return ks
}

func (k Key) less(o Key) bool {
	if k.Scenario != o.Scenario {
		return k.Scenario < o.Scenario
	}
	if k.Endpoint != o.Endpoint {
		return k.Endpoint < o.Endpoint
	}
	return k.Phase < o.Phase
}

// withInterval is c with another interval.
func (c config) withInterval(d time.Duration) config {
	c.interval = d
	return c
}

func (c config) sameShape(o config) bool {
	return c.interval == o.interval && c.highest == o.highest &&
		c.sigFigs == o.sigFigs && c.intervalSigFigs == o.intervalSigFigs
}
