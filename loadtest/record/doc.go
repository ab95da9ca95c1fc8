// Package record holds the measurements of a load run: HDR histograms of
// latency per scenario, endpoint and phase, and a time series of one bucket
// per second.
//
// The engine reports each finished request as a Sample; a Recorder adds it
// in O(1) without allocating, and Snapshot computes every derived number
// once, at the end (or whenever a report wants one):
//
//	rec, err := record.New(start, record.Interval(time.Second))
//	if err != nil { ... }
//	for res := range results { // closed by the engine
//		rec.Add(res)
//	}
//	snap := rec.Snapshot()
//	list := snap.Select(map[string]string{"endpoint": "list"})
//	p95, ok := list.Value("p", 95) // ms, as k6 reports http_req_duration
//
// # Two latencies
//
// Latency is timed from the request's actual start. CorrectedLatency is
// timed from when the open-model schedule meant it to start: when the
// system stalls and requests queue in the load generator, only the
// corrected view shows the wait users would have had (coordinated
// omission). Both are kept; thresholds (Stats.Value, http_req_duration)
// read the corrected one, which equals the other in closed-model runs.
// The engine gives only an iteration's first request a schedule; the
// later ones are timed from when they were sent.
//
// # Whole iterations
//
// A sample with Iteration set times a whole iteration rather than a
// request (k6's iteration_duration). It is kept apart, by scenario,
// journey and phase (IterationKey), counts in no request statistic, and is
// read with Snapshot.SelectIterations or, for iteration_duration,
// Snapshot.Metric. The time series counts them (and the dropped ones,
// AddDropped) per interval, apart from the requests.
//
// # Memory
//
// Each Key holds two dense histograms of fixed size (about 140 KB each at
// the defaults: 3 significant figures up to 60s, in microseconds). The time
// series holds, per elapsed interval, two sparse histograms of 2
// significant figures whose size depends on how many distinct latency
// buckets the interval saw, never on its number of samples: a few KB for
// real traffic, 64 KB at the very most. Footprint reports both.
//
// # Merging and encoding
//
// Merge adds one recorder to another through the same aggregates that Add
// fills, so merging the recorders of N workers gives exactly the recorder
// that would have got all their samples. Encode writes a versioned JSON
// envelope whose histograms are in HdrHistogram's standard V2 compressed
// encoding; Decode reads it back for merging distributed runs or comparing
// with a baseline.
//
// # Concurrency
//
// A Recorder belongs to one goroutine, like the consumer that drains the
// engine's results channel; it has no lock because that consumer needs
// none. Locked wraps one in a mutex for callers that must share it; the
// fastest way for many workers is a Recorder each, merged at the end
// (BenchmarkConcurrent). A Snapshot is immutable and safe to share.
package record
