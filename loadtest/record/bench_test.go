package record_test

import (
	"math"
	"math/rand/v2"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/taskready/taskready/loadtest/record"
)

// benchSamples returns a ring of samples at rate per second with realistic
// latencies (log-normal around 20ms) over 3 endpoints, starting at base.
func benchSamples(n, rate int) []record.Sample {
	rng := rand.New(rand.NewPCG(1, 2))
	endpoints := []string{"list", "create", "login"}
	out := make([]record.Sample, n)
	for i := range out {
		start := base.Add(time.Duration(i) * time.Second / time.Duration(rate))
		out[i] = record.Sample{
			Scenario: "load", Endpoint: endpoints[i%3], Phase: "steady", Method: "GET", Status: 200,
			Intended: start, Start: start, BytesIn: 512,
			Latency: time.Duration(math.Exp(rng.NormFloat64()*0.7+math.Log(20)) * float64(time.Millisecond)),
		}
	}
	return out
}

// BenchmarkAdd measures one Add. "steady" replays samples within one warm
// interval (the zero-allocation path); "rolling" moves through time at the
// given rate, so new intervals and their buckets are allocated as a real
// run does, amortised over the rate.
func BenchmarkAdd(b *testing.B) {
	b.Run("steady", func(b *testing.B) {
		samples := benchSamples(1<<12, 1<<13) // all within the first second
		r := record.MustNew(base)
		for _, s := range samples {
			r.Add(s)
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := range b.N {
			r.Add(samples[i&(len(samples)-1)])
		}
	})
	for _, rate := range []int{1000, 20000} {
		b.Run("rolling_"+strconv.Itoa(rate)+"rps", func(b *testing.B) {
			samples := benchSamples(1<<16, rate)
			r := record.MustNew(base)
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				s := samples[i&(len(samples)-1)]
				// Keep moving forward past the ring's span.
				shift := time.Duration(i>>16) * time.Duration(len(samples)) * time.Second / time.Duration(rate)
				s.Start, s.Intended = s.Start.Add(shift), s.Intended.Add(shift)
				r.Add(s)
			}
		})
	}
}

// BenchmarkConcurrent compares three ways for workers to record:
// "locked" (one Recorder behind Locked's mutex), "channel" (workers send to
// one goroutine that owns the Recorder, as the results stream does) and
// "sharded" (a Recorder per worker, merged at the end; the merge is timed).
func BenchmarkConcurrent(b *testing.B) {
	samples := benchSamples(1<<12, 1<<13)
	b.Run("locked", func(b *testing.B) {
		l := record.NewLocked(record.MustNew(base))
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				l.Add(samples[i&(len(samples)-1)])
				i++
			}
		})
	})
	b.Run("channel", func(b *testing.B) {
		r := record.MustNew(base)
		ch := make(chan record.Sample, 1024)
		done := make(chan struct{})
		go func() {
			for s := range ch {
				r.Add(s)
			}
			close(done)
		}()
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				ch <- samples[i&(len(samples)-1)]
				i++
			}
		})
		close(ch)
		<-done
	})
	b.Run("sharded", func(b *testing.B) {
		var (
			mu     sync.Mutex
			shards []*record.Recorder
		)
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			r := record.MustNew(base)
			i := 0
			for pb.Next() {
				r.Add(samples[i&(len(samples)-1)])
				i++
			}
			mu.Lock()
			shards = append(shards, r)
			mu.Unlock()
		})
		total := record.MustNew(base)
		for _, r := range shards {
			if err := total.Merge(r); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkIntervalMemory records b.N intervals of 1000 realistic samples
// each and reports what one interval costs: its histograms' bytes
// (B/interval, from Footprint) and the live heap growth (heapB/interval).
func BenchmarkIntervalMemory(b *testing.B) {
	for _, rate := range []int{100, 1000, 10000} {
		b.Run(strconv.Itoa(rate)+"rps", func(b *testing.B) {
			samples := benchSamples(rate, rate) // one interval's worth
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			r := record.MustNew(base)
			for i := range b.N {
				shift := time.Duration(i) * time.Second
				for _, s := range samples {
					s.Start, s.Intended = s.Start.Add(shift), s.Intended.Add(shift)
					r.Add(s)
				}
			}
			b.StopTimer()
			runtime.GC()
			runtime.ReadMemStats(&after)
			f := r.Footprint()
			if f.IntervalHistograms != 2*b.N {
				b.Fatalf("%d interval histograms for %d intervals", f.IntervalHistograms, b.N)
			}
			b.ReportMetric(float64(f.IntervalBytes)/float64(b.N), "B/interval")
			b.ReportMetric((float64(after.HeapAlloc)-float64(before.HeapAlloc)-float64(f.KeyBytes))/float64(b.N), "heapB/interval")
			b.ReportMetric(0, "ns/op")
			runtime.KeepAlive(r)
		})
	}
}

// BenchmarkSnapshot measures the end-of-run derivation for a 10-minute run
// at 1000 requests per second over 3 keys.
func BenchmarkSnapshot(b *testing.B) {
	r := record.MustNew(base)
	for _, s := range benchSamples(600000, 1000) {
		r.Add(s)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		_ = r.Snapshot().Select(map[string]string{"endpoint": "list"})
	}
}
