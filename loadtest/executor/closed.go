package executor

import (
	"context"
	"sync"
	"time"
)

// The closed model, which the VU executors (constant_vus.go,
// ramping_vus.go, per_vu_iterations.go) run: each VU starts its next
// iteration when the last one ends.

// loop runs v's iterations until stop is done, the scenario's end (r.end
// after r.start, if r.end > 0) or n iterations ran (n 0: no limit).
// Iterations run under ctx, so stop lets the current one end. The end is
// also checked on the clock: stop's timer may fire a little late.
func (r *runner) loop(ctx, stop context.Context, v *vu, n int) {
	defer r.send(v)
	for i := 0; n == 0 || i < n; i++ {
		now := time.Now()
		if stop.Err() != nil || r.end > 0 && now.Sub(r.start) >= r.end {
			return
		}
		r.iteration(ctx, v, time.Time{}, now)
	}
}

// closed runs s.VUs VUs, each for n iterations (0: no limit), starting no
// iteration after d (0: no limit).
func (r *runner) closed(ctx context.Context, d time.Duration, n int) {
	r.start = time.Now()
	stop, cancel := context.WithCancel(ctx)
	if d > 0 {
		stop, cancel = context.WithDeadline(ctx, r.start.Add(d))
	}
	defer cancel()
	r.c.vusMax.Store(int64(r.s.VUs))
	var wg sync.WaitGroup
	for i := 1; i <= r.s.VUs; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.loop(ctx, stop, &vu{id: i}, n)
		}()
	}
	wg.Wait()
}
