package executor

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/taskready/taskready/loadtest/record"
	"github.com/taskready/taskready/loadtest/scenario"
)

// gapPacer schedules its hits at the given offsets from the start, then
// stops.
type gapPacer []time.Duration

func (p gapPacer) Pace(elapsed time.Duration, hits uint64) (time.Duration, bool) {
	if hits >= uint64(len(p)) {
		return 0, true
	}
	return max(p[hits]-elapsed, 0), false
}

func (p gapPacer) Rate(time.Duration) float64 { return 1000 }

// TestIdleVUSendsWhatItHolds: a VU holds the samples of iterations that
// follow each other within batchAge, but an open-model VU that waits for
// its next iteration sends them first, so a rate that slows down (or a
// ramp to zero) shows in the engine's live numbers and its abortOnFail
// thresholds as it happens, not at the VU's next iteration. Iterations 1
// and 2 are 5 ms apart and the second is held; the third comes 3 s
// later: the second's samples must arrive before it, while the API has
// seen 2 requests.
func TestIdleVUSendsWhatItHolds(t *testing.T) {
	var requests atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(srv.Close)
	f := &scenario.File{Journeys: map[string]*scenario.Journey{"ping": {Name: "ping", Steps: []scenario.Step{
		{Name: "ping", Method: "GET", Path: "/", Check: scenario.Check{Status: 200}, Timeout: time.Minute},
	}}}}
	s := scenario.Scenario{
		Name: "gap", Executor: scenario.ConstantArrivalRate, Rate: 1, TimeUnit: time.Second, Duration: time.Minute,
		PreAllocatedVUs: 1, MaxVUs: 1, Phase: "steady", Journeys: []scenario.WeightedJourney{{Name: "ping", Weight: 1}},
	}
	out := make(chan []record.Sample)
	r, err := newRunner(Config{Target: srv.URL, File: f, Client: srv.Client()}, s, out)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	seen := make(chan int64, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		var iterations int
		for b := range out {
			for _, smp := range b {
				if smp.Iteration {
					iterations++
				}
			}
			if iterations == 2 {
				seen <- requests.Load()
				cancel()
			}
		}
	}()
	err = r.open(ctx, gapPacer{10 * time.Millisecond, 15 * time.Millisecond, 3 * time.Second})
	close(out)
	<-done
	if err != nil {
		t.Fatal(err)
	}
	select {
	case n := <-seen:
		if n != 2 {
			t.Errorf("the second iteration's samples arrived after %d requests; want 2 (before the third iteration)", n)
		}
	default:
		t.Error("the second iteration's samples never arrived")
	}
}

// TestReleasedBatchesAreReused: a batch handed back with Release carries
// the next one, emptied, so a VU that sends every batchAge allocates no
// new batch for it; a batch that is not one of Run's is ignored.
func TestReleasedBatchesAreReused(t *testing.T) {
	out := make(chan []record.Sample, 1)
	r := &runner{out: out}
	v := &vu{batch: newBatch()}
	send := func() {
		v.batch = append(v.batch, record.Sample{Err: "refused", Endpoint: "GET /"})
		r.send(v)
		Release(<-out)
	}
	send()
	if n := testing.AllocsPerRun(100, send); n > 1 { // Release boxes the slice for its pool
		t.Errorf("a send and its Release allocate %v times, want at most 1 (the batch is not reused)", n)
	}
	b := newBatch()
	if len(b) != 0 || cap(b) != batchMax {
		t.Fatalf("a reused batch has length %d and capacity %d, want 0 and %d", len(b), cap(b), batchMax)
	}
	if s := b[:1][0]; s.Err != "" || s.Endpoint != "" {
		t.Errorf("a released batch still holds %+v: Release must clear what it let go of", s)
	}
	Release(make([]record.Sample, 3, 10)) // not Run's: no panic, and not pooled
	if b := newBatch(); cap(b) != batchMax {
		t.Errorf("newBatch returned a batch of capacity %d, want %d", cap(b), batchMax)
	}
}

// TestPreAllocatedVUsRunBeforeTheClock: every pre-allocated VU's
// goroutine has begun before the open model takes its start time, so the
// first iterations are not held back behind a thousand goroutines running
// for the first time. The pacer stops at once: no request is sent.
func TestPreAllocatedVUsRunBeforeTheClock(t *testing.T) {
	const vus = 2000
	f := &scenario.File{Journeys: map[string]*scenario.Journey{"ping": {Name: "ping", Steps: []scenario.Step{
		{Name: "ping", Method: "GET", Path: "/", Check: scenario.Check{Status: 200}, Timeout: time.Minute},
	}}}}
	s := scenario.Scenario{
		Name: "ready", Executor: scenario.ConstantArrivalRate, Rate: 1, TimeUnit: time.Second, Duration: time.Minute,
		PreAllocatedVUs: vus, MaxVUs: vus, Journeys: []scenario.WeightedJourney{{Name: "ping", Weight: 1}},
	}
	r, err := newRunner(Config{Target: "http://127.0.0.1:1", File: f}, s, make(chan []record.Sample))
	if err != nil {
		t.Fatal(err)
	}
	var began, atStart atomic.Int64
	atStart.Store(-1)
	r.hooks = hooks{
		vuStarted:   func() { began.Add(1) },
		clockStarts: func() { atStart.Store(began.Load()) },
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := r.open(ctx, gapPacer(nil)); err != nil {
		t.Fatal(err)
	}
	if got := atStart.Load(); got != vus {
		t.Errorf("%d of %d pre-allocated VUs had begun when the clock started", got, vus)
	}
}
