package compare

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/taskready/taskready/loadtest/record"
)

func TestBinomialVariate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		n int64
		p float64
	}{
		{0, 0.5}, {1, 0.5}, {50, 0.1}, {1000, 0.3}, {1_000_000, 0.001}, {5000, 0}, {5000, 1}, {70, 0.99},
	}
	for _, tt := range tests {
		rng := rand.New(rand.NewPCG(1, 2))
		const draws = 5000
		xs := make([]float64, draws)
		for i := range xs {
			k := binomialVariate(rng, tt.n, tt.p)
			if k < 0 || k > tt.n {
				t.Fatalf("Binomial(%d, %g) drew %d", tt.n, tt.p, k)
			}
			xs[i] = float64(k)
		}
		mean, v := 0.0, variance(xs)
		for _, x := range xs {
			mean += x / draws
		}
		wantMean, wantVar := float64(tt.n)*tt.p, float64(tt.n)*tt.p*(1-tt.p)
		// Five standard errors of the mean; 10% for the variance (its
		// standard error is about 2% at this many draws).
		if math.Abs(mean-wantMean) > 5*math.Sqrt(wantVar/draws)+1e-9 || math.Abs(v-wantVar) > 0.1*wantVar+1e-9 {
			t.Errorf("Binomial(%d, %g): mean %g variance %g, want %g and %g", tt.n, tt.p, mean, v, wantMean, wantVar)
		}
	}
}

// TestHistResample checks the Beta shortcut against the definition: draw
// the values with replacement and take their percentile.
func TestHistResample(t *testing.T) {
	t.Parallel()
	h := hist{values: []float64{10, 20, 30, 40, 50, 60}, cum: []int64{40, 70, 85, 93, 97, 100}}
	for _, p := range []float64{50, 95} {
		const reps = 3000
		rng := rand.New(rand.NewPCG(3, 4))
		fast := make([]float64, reps)
		h.resample(rng, p, fast)
		slow := make([]float64, reps)
		n := h.total()
		draw := make([]float64, n)
		for i := range slow {
			for j := range draw {
				draw[j] = h.quantileFn(rng.Float64())
			}
			slices.Sort(draw)
			slow[i] = draw[rank(p, n)-1]
		}
		// Total variation distance between the two replicate distributions.
		count := func(xs []float64) map[float64]float64 {
			m := make(map[float64]float64)
			for _, x := range xs {
				m[x] += 1.0 / reps
			}
			return m
		}
		cf, cs := count(fast), count(slow)
		tv := 0.0
		for _, v := range h.values {
			tv += math.Abs(cf[v]-cs[v]) / 2
		}
		if tv > 0.05 {
			t.Errorf("p%g: replicates differ from drawing values by %.3f (total variation)\nshortcut %v\ndrawn    %v", p, tv, cf, cs)
		}
	}
}

// TestSeriesPercentile checks that the run-wide percentile and the bucket
// values agree with HdrHistogram's own on the merged interval histograms.
func TestSeriesPercentile(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	rng := rand.New(rand.NewPCG(5, 6))
	rec := record.MustNew(start)
	for i := range 5000 {
		rec.Add(record.Sample{
			Status:  200,
			Start:   start.Add(time.Duration(i) * time.Millisecond),
			Latency: time.Duration(rng.ExpFloat64() * float64(30*time.Millisecond)),
		})
	}
	ivs := rec.Series()
	s, _, values := seriesOf(ivs, nil)
	merged := hdr.New(1, ivs[0].Corrected.HighestTrackableValue(), int(ivs[0].Corrected.SignificantFigures()))
	for _, iv := range ivs {
		iv.Corrected.MergeInto(merged)
	}
	for _, p := range []float64{1, 50, 90, 95, 99, 99.9} {
		if got, want := s.all.atRank(rank(p, s.all.total())), float64(merged.ValueAtPercentile(p)); got != want {
			t.Errorf("p%g: %g µs, HdrHistogram says %g", p, got, want)
		}
	}
	if len(values) == 0 || s.totalReq != 5000 {
		t.Errorf("%d values, %d requests", len(values), s.totalReq)
	}
}

// TestUpperValues checks the mapping from a bucket's lowest value to its
// highest equivalent value against HdrHistogram's percentile of the bucket
// alone.
func TestUpperValues(t *testing.T) {
	t.Parallel()
	for _, sf := range []int{1, 2, 3} {
		var lows []int64
		want := map[int64]int64{}
		for _, v := range []int64{0, 1, 7, 100, 127, 128, 255, 256, 257, 1000, 2047, 2048, 12345, 999_999, 60_000_000} {
			p := hdr.NewPacked(1, 60_000_000, sf)
			_ = p.RecordValue(v)
			d := hdr.New(1, 60_000_000, sf)
			_ = d.RecordValue(v)
			for low := range p.ForEachBucket {
				lows = append(lows, low)
				want[low] = d.ValueAtPercentile(100)
			}
		}
		slices.Sort(lows)
		lows = slices.Compact(lows)
		got := upperValues(lows, hdr.NewPacked(1, 60_000_000, sf))
		for i, low := range lows {
			if int64(got[i]) != want[low] {
				t.Errorf("%d digits: bucket from %d: upper %g, want %d", sf, low, got[i], want[low])
			}
		}
	}
}

// TestRank checks the rank against HdrHistogram's on values one per bucket,
// where an off-by-one rank shows.
func TestRank(t *testing.T) {
	t.Parallel()
	for n := int64(1); n <= 9; n++ {
		d := hdr.New(1, 1000, 3)
		var h hist
		for v := range n {
			_ = d.RecordValue(10 * (v + 1))
			h.values = append(h.values, float64(10*(v+1)))
			h.cum = append(h.cum, v+1)
		}
		for p := 0.5; p < 100; p += 2.5 {
			if got, want := h.atRank(rank(p, n)), float64(d.ValueAtPercentile(p)); got != want {
				t.Errorf("%d values, p%g: %g, HdrHistogram says %g", n, p, got, want)
			}
		}
	}
}

// TestBlockResampleBand checks the band shortcut against merging every
// bucket of every drawn interval, on a series whose intervals differ so
// much that resampled percentiles often leave the band.
func TestBlockResampleBand(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	rng := rand.New(rand.NewPCG(7, 8))
	rec := record.MustNew(start)
	for sec := range 30 {
		scale := 10.0
		if sec%7 < 3 {
			scale = 100 // slow spells: a third of the intervals
		}
		for i := range 50 {
			rec.Add(record.Sample{
				Status:  200,
				Start:   start.Add(time.Duration(sec)*time.Second + time.Duration(i)*time.Millisecond),
				Latency: time.Duration(rng.ExpFloat64() * scale * float64(time.Millisecond)),
			})
		}
	}
	s, _, values := seriesOf(rec.Series(), nil)
	for _, p := range []float64{50, 95, 99.9} {
		got, want := make([]float64, 300), make([]float64, 300)
		s.blockResample(rand.New(rand.NewPCG(9, 10)), p, values, got, make([]float64, 300))
		// The reference: the same draws, every bucket merged.
		ref := rand.New(rand.NewPCG(9, 10))
		n := len(s.requests)
		outside := 0
		bd := s.band(p)
		for b := range want {
			w := make([]int64, n)
			for filled := 0; filled < n; {
				start := ref.IntN(n)
				for j := 0; j < blockLen(n) && filled < n; j++ {
					w[(start+j)%n]++
					filled++
				}
			}
			acc := make([]int64, len(values))
			var req int64
			for i, k := range w {
				req += k * s.requests[i]
				for _, bk := range s.buckets[i] {
					acc[bk.v] += k * bk.n
				}
			}
			want[b] = valueAtRank(acc, values, rank(p, req))
			if want[b] < values[bd.lo] || want[b] > values[bd.hi-1] {
				outside++
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("p%g: band shortcut differs from the full merge", p)
		}
		t.Logf("p%g: %d of %d resamples outside the band", p, outside, len(want))
		if p == 50 && outside == 0 {
			t.Errorf("p50: no resample left the band: the fallback is untested")
		}
	}
}
