package compare

import (
	"math"
	"math/rand/v2"
	"slices"
	"sort"

	hdr "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/taskready/taskready/loadtest/record"
)

// hist is a latency distribution reduced to what resampling needs: the
// values of its populated buckets (µs, ascending) and their cumulative
// counts.
type hist struct {
	values []float64
	cum    []int64
}

func (h hist) total() int64 {
	if len(h.cum) == 0 {
		return 0
	}
	return h.cum[len(h.cum)-1]
}

// histOf reduces a run-wide histogram of package record. A bucket stands
// for its highest equivalent value, as HdrHistogram's percentiles (and so
// record's) report it, kept within the exact [Min, Max] the way record
// clamps its percentiles.
func histOf(d record.Dist) hist {
	h := d.Histogram()
	if h == nil {
		return hist{}
	}
	// A sparse copy lists just the populated buckets, where Distribution
	// would allocate a bar for every bucket up to the largest value.
	p := hdr.NewPacked(h.LowestTrackableValue(), h.HighestTrackableValue(), int(h.SignificantFigures()))
	p.MergeFrom(h)
	lo, hi := float64(d.Min.Microseconds()), float64(d.Max.Microseconds())
	var out hist
	var n int64
	for v, c := range p.ForEachBucket {
		n += c
		out.values = append(out.values, min(max(float64(upperOf(h, v)), lo), hi))
		out.cum = append(out.cum, n)
	}
	return out
}

// upperOf returns the highest value equivalent to v, the lowest value of a
// bucket of geom's geometry. HdrHistogram exports no such accessor, but
// buckets are aligned powers of two wide, so doubling finds the width.
func upperOf(geom *hdr.Histogram, v int64) int64 {
	w := int64(1)
	for w < 1<<40 && geom.ValuesAreEquivalent(v, v+2*w-1) {
		w *= 2
	}
	return v + w - 1
}

// rank is the 1-based rank of percentile p among n values, rounded to the
// nearest as HdrHistogram rounds it.
func rank(p float64, n int64) int64 {
	return min(max(int64(p/100*float64(n)+0.5), 1), n)
}

// atRank returns the r-th smallest value.
func (h hist) atRank(r int64) float64 {
	j, _ := slices.BinarySearch(h.cum, r) // first cumulative count >= r
	return h.values[min(j, len(h.values)-1)]
}

// quantileFn is the distribution's quantile function: the smallest value
// that a fraction u of the values do not exceed.
func (h hist) quantileFn(u float64) float64 {
	target := u * float64(h.total())
	j := sort.Search(len(h.cum), func(j int) bool { return float64(h.cum[j]) >= target })
	return h.values[min(j, len(h.values)-1)]
}

// resample fills out with bootstrap replicates of percentile p: the p-th
// percentile of total() values drawn with replacement from h.
//
// It draws no values. The r-th smallest of n draws is the quantile function
// at the r-th smallest of n uniforms, which follows Beta(r, n-r+1); so one
// Beta variate gives a replicate, exactly, at any sample size, where
// drawing the values would cost n per replicate.
func (h hist) resample(rng *rand.Rand, p float64, out []float64) {
	n := h.total()
	r := rank(p, n)
	for i := range out {
		out[i] = h.quantileFn(betaVariate(rng, float64(r), float64(n-r+1)))
	}
}

// rateResample fills out with bootstrap replicates of a failure rate of f
// in n requests: the rate of n requests each failing with probability p̃,
// moved to be centred on f/n.
//
// p̃ = (f+½)/(n+1) rather than f/n: at f = 0 the plain bootstrap never draws
// a failure and would call 0 of 50 against 0 of 50 certain; the half
// failure (Jeffreys' prior) gives it the spread the small n deserves, and
// vanishes for large n.
func rateResample(rng *rand.Rand, f, n int64, out []float64) {
	p := float64(f) / float64(n)
	ps := smoothedRate(f, n)
	for i := range out {
		out[i] = p + float64(binomialVariate(rng, n, ps))/float64(n) - ps
	}
}

func smoothedRate(f, n int64) float64 { return (float64(f) + 0.5) / (float64(n) + 1) }

// rateVariance is the variance of rateResample's replicates.
func rateVariance(f, n int64) float64 {
	ps := smoothedRate(f, n)
	return ps * (1 - ps) / float64(n)
}

// series is a run's time series reduced to what the block bootstrap needs:
// per non-empty interval, its counts and its populated buckets as indices
// into the value table shared by both runs.
type series struct {
	requests, failures []int64
	buckets            [][]bucket // ascending values
	counts             []int64    // every interval merged, per value of the table
	all                hist       // the same, populated buckets only
	totalReq, totalErr int64
}

type bucket struct {
	v int32 // index into the shared values
	n int64
}

// seriesOf reduces both runs' corrected-latency series onto one table of
// values, so that resampled intervals merge by adding counts.
func seriesOf(a, b []record.SeriesInterval) (sa, sb *series, values []float64) {
	var lows []int64
	var geom *hdr.PackedHistogram
	for _, s := range [][]record.SeriesInterval{a, b} {
		for _, iv := range s {
			geom = iv.Corrected
			for v := range iv.Corrected.ForEachBucket {
				lows = append(lows, v)
			}
		}
	}
	slices.Sort(lows)
	lows = slices.Compact(lows)
	index := make(map[int64]int32, len(lows))
	for i, v := range lows {
		index[v] = int32(i)
	}
	values = upperValues(lows, geom)
	build := func(ivs []record.SeriesInterval) *series {
		s := &series{}
		acc := make([]int64, len(values))
		for _, iv := range ivs {
			var bs []bucket
			for v, n := range iv.Corrected.ForEachBucket {
				bs = append(bs, bucket{index[v], n})
				acc[index[v]] += n
			}
			s.requests = append(s.requests, iv.Requests)
			s.failures = append(s.failures, iv.Failures)
			s.buckets = append(s.buckets, bs)
			s.totalReq += iv.Requests
			s.totalErr += iv.Failures
		}
		s.counts = acc
		s.all = compress(acc, values)
		return s
	}
	return build(a), build(b), values
}

// upperValues maps the lowest values of buckets (as ForEachBucket reports
// them) to their highest equivalent values.
func upperValues(lows []int64, geom *hdr.PackedHistogram) []float64 {
	out := make([]float64, len(lows))
	if len(lows) == 0 {
		return out
	}
	g := hdr.New(geom.LowestTrackableValue(), geom.HighestTrackableValue(), int(geom.SignificantFigures()))
	for i, v := range lows {
		out[i] = float64(upperOf(g, v))
	}
	return out
}

// compress turns counts over values into a hist of the populated buckets.
func compress(acc []int64, values []float64) hist {
	var h hist
	var n int64
	for i, c := range acc {
		if c > 0 {
			n += c
			h.values = append(h.values, values[i])
			h.cum = append(h.cum, n)
		}
	}
	return h
}

// blockLen is the length, in intervals, of the blocks the series is
// resampled in: long enough to keep the correlation of neighbouring seconds
// (a GC pause, a slow minute) inside blocks, short enough to leave several
// blocks to shuffle. √n is the usual compromise.
func blockLen(n int) int { return max(1, int(math.Round(math.Sqrt(float64(n))))) }

// blockResample fills pct and rate with circular block bootstrap replicates
// of the run-wide percentile p and failure rate: n intervals taken in
// blocks of blockLen consecutive ones (wrapping around, so that the ends
// are drawn as often as the middle), merged, measured.
func (s *series) blockResample(rng *rand.Rand, p float64, values []float64, pct, rate []float64) {
	n := len(s.requests)
	l := blockLen(n)
	w := make([]int64, n) // how many times each interval was drawn
	acc := make([]int64, len(values))
	bd := s.band(p)
	for b := range pct {
		clear(w)
		for filled := 0; filled < n; {
			start := rng.IntN(n)
			for j := 0; j < l && filled < n; j++ {
				w[(start+j)%n]++
				filled++
			}
		}
		var req, fail, below int64
		for i, k := range w {
			req += k * s.requests[i]
			fail += k * s.failures[i]
			below += k * bd.below[i]
		}
		r := rank(p, req)
		rate[b] = float64(fail) / float64(req)

		// Merge only the band's buckets, and all of them in the rare
		// resample whose percentile falls outside it.
		clear(acc[bd.lo:bd.hi])
		for i, k := range w {
			if k > 0 {
				for _, bk := range s.buckets[i][bd.from[i]:bd.to[i]] {
					acc[bk.v] += k * bk.n
				}
			}
		}
		if j := bandRank(acc[bd.lo:bd.hi], r-below); r > below && j >= 0 {
			pct[b] = values[bd.lo+j]
			continue
		}
		clear(acc)
		for i, k := range w {
			if k > 0 {
				for _, bk := range s.buckets[i] {
					acc[bk.v] += k * bk.n
				}
			}
		}
		pct[b] = valueAtRank(acc, values, r)
	}
}

// band is the part of the value table where a run's resampled percentiles
// fall: the values between the run's percentiles p-5 and p+5. A
// percentile is a rank, so a resample needs only how many values lie below
// the band and the counts within it, not every bucket of every interval it
// drew; at p95 that is the top tenth of the values, and a several times
// faster resample.
type band struct {
	lo, hi   int     // the band is values[lo:hi]
	below    []int64 // per interval, its values below the band
	from, to []int   // per interval, its buckets within the band
}

func (s *series) band(p float64) band {
	var total int64
	for _, c := range s.counts {
		total += c
	}
	at := func(q float64) int { // first value whose cumulative count reaches q percent
		target := q / 100 * float64(total)
		var n int64
		for j, c := range s.counts {
			if n += c; float64(n) >= target {
				return j
			}
		}
		return len(s.counts)
	}
	bd := band{lo: at(max(p-5, 0)), hi: min(at(min(p+5, 100))+1, len(s.counts))}
	for _, bs := range s.buckets {
		from, _ := slices.BinarySearchFunc(bs, int32(bd.lo), func(b bucket, v int32) int { return int(b.v - v) })
		to, _ := slices.BinarySearchFunc(bs, int32(bd.hi), func(b bucket, v int32) int { return int(b.v - v) })
		var below int64
		for _, b := range bs[:from] {
			below += b.n
		}
		bd.below = append(bd.below, below)
		bd.from = append(bd.from, from)
		bd.to = append(bd.to, to)
	}
	return bd
}

// bandRank returns the index of the r-th value of acc, -1 if acc holds
// fewer.
func bandRank(acc []int64, r int64) int {
	var n int64
	for j, c := range acc {
		if n += c; n >= r {
			return j
		}
	}
	return -1
}

func valueAtRank(acc []int64, values []float64, r int64) float64 {
	var n int64
	for i, c := range acc {
		if n += c; n >= r {
			return values[i]
		}
	}
	return values[len(values)-1]
}

// gammaVariate draws from Gamma(a, 1) by Marsaglia and Tsang's method.
func gammaVariate(rng *rand.Rand, a float64) float64 {
	if a < 1 {
		// Boost to a+1: Gamma(a) = Gamma(a+1)·U^(1/a).
		return gammaVariate(rng, a+1) * math.Pow(rng.Float64(), 1/a)
	}
	d := a - 1.0/3
	c := 1 / math.Sqrt(9*d)
	for {
		x := rng.NormFloat64()
		v := 1 + c*x
		if v <= 0 {
			continue
		}
		v = v * v * v
		u := rng.Float64()
		if u < 1-0.0331*x*x*x*x || math.Log(u) < 0.5*x*x+d*(1-v+math.Log(v)) {
			return d * v
		}
	}
}

// betaVariate draws from Beta(a, b).
func betaVariate(rng *rand.Rand, a, b float64) float64 {
	x := gammaVariate(rng, a)
	return x / (x + gammaVariate(rng, b))
}

// binomialVariate draws from Binomial(n, p) exactly, in O(log n) Beta
// draws (Knuth, TAOCP vol. 2, 3.4.1): the a-th smallest of n uniforms
// splits the trials into those below it and those above, and only one side
// is left to count.
func binomialVariate(rng *rand.Rand, n int64, p float64) int64 {
	var k int64
	for n > 64 {
		a := 1 + n/2
		b := n + 1 - a
		x := betaVariate(rng, float64(a), float64(b))
		if x >= p {
			n, p = a-1, p/x
		} else {
			k += a
			n, p = b-1, (p-x)/(1-x)
		}
	}
	for ; n > 0; n-- {
		if rng.Float64() < p {
			k++
		}
	}
	return k
}

// variance is the sample variance of xs.
func variance(xs []float64) float64 {
	if len(xs) < 2 {
		return 0
	}
	var mean float64
	for _, x := range xs {
		mean += x
	}
	mean /= float64(len(xs))
	var ss float64
	for _, x := range xs {
		ss += (x - mean) * (x - mean)
	}
	return ss / float64(len(xs)-1)
}
