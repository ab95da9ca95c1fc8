package executor

import (
	"context"
	"fmt"
	"sync"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/taskready/taskready/internal/clock"
	"github.com/taskready/taskready/loadtest/scenario"
	"github.com/taskready/taskready/loadtest/segment"
)

// The open model, which both arrival-rate executors
// (constant_arrival_rate.go, ramping_arrival_rate.go) run: iterations
// start on their schedule's pacer, each on a free VU of a pool of up to
// maxVUs.

// runPaced runs an open-model schedule: its pacer, then the open loop.
func runPaced(ctx context.Context, r *runner, p Paced) error {
	pacer, err := p.Pacer()
	if err != nil {
		return err
	}
	return r.open(ctx, pacer)
}

// pool is an open-model scenario's VUs: preAllocatedVUs made up front,
// up to maxVUs.
type pool struct{ fields }

// PeakVUs is maxVUs, or preAllocatedVUs when maxVUs is lower.
func (p pool) PeakVUs() (int, string) {
	if p.s.MaxVUs > p.s.PreAllocatedVUs {
		return p.s.MaxVUs, "maxVUs"
	}
	return p.s.PreAllocatedVUs, "preAllocatedVUs"
}

// vus is the pool's size for a description: "20 to 200 VUs".
func (p pool) vus() string {
	if n, _ := p.PeakVUs(); n > p.s.PreAllocatedVUs {
		return fmt.Sprintf("%d to %d VUs", p.s.PreAllocatedVUs, n)
	}
	return plural(p.s.PreAllocatedVUs, "VU")
}

// iterationsPer is the unit of the scenario's rates: "iterations/s".
func iterationsPer(s scenario.Scenario) string {
	unit, err := timeUnit(s)
	switch {
	case err != nil || unit == time.Second:
		return "iterations/s"
	case unit == time.Minute:
		return "iterations/min"
	}
	return "iterations/" + unit.String()
}

// validate refuses a pool without a VU to run on.
func (p pool) validate() error {
	s := p.s
	if s.PreAllocatedVUs < 0 || s.MaxVUs < 0 || s.PreAllocatedVUs == 0 && s.MaxVUs == 0 {
		return fmt.Errorf("scenario %q: %s needs preAllocatedVUs or maxVUs", s.Name, s.Executor)
	}
	if s.MaxVUs > 0 && s.MaxVUs < s.PreAllocatedVUs {
		return fmt.Errorf("scenario %q: maxVUs %d is below preAllocatedVUs %d", s.Name, s.MaxVUs, s.PreAllocatedVUs)
	}
	return nil
}

// sharePaced scales an open-model scenario to seg (package segment): the
// VU pool split, the timeUnit times N, the start staggered. It also
// returns the whole's gap between iterations at its peak rate, 0 when
// there is nothing more to fit (one segment, or no rate).
func sharePaced(sc scenario.Scenario, seg segment.Segment) (scenario.Scenario, time.Duration) {
	unit := sc.TimeUnit
	if unit <= 0 {
		unit = scenario.DefaultTimeUnit
	}
	peak := max(sc.Rate, sc.StartRate)
	for _, st := range sc.Stages {
		peak = max(peak, st.Target)
	}
	if peak > 0 {
		sc.PreAllocatedVUs = seg.ShareAtLeastOne(sc.PreAllocatedVUs)
		sc.MaxVUs = seg.ShareAtLeastOne(sc.MaxVUs)
	} else {
		sc.PreAllocatedVUs, sc.MaxVUs = seg.Share(sc.PreAllocatedVUs), seg.Share(sc.MaxVUs)
	}
	if sc.MaxVUs > 0 {
		sc.MaxVUs = max(sc.MaxVUs, sc.PreAllocatedVUs)
	}
	if seg.Count == 1 {
		return sc, 0
	}
	sc.TimeUnit = unit * time.Duration(seg.Count)
	if peak <= 0 {
		return sc, 0
	}
	// The whole's gap between iterations at its peak rate, the pacer's
	// integer nanoseconds; segment i leaves i of them after segment 0.
	gap := unit / time.Duration(peak)
	sc.StartTime += time.Duration(seg.Index) * gap
	return sc, gap
}

// timeUnit is s's timeUnit, a second when unset.
func timeUnit(s scenario.Scenario) (time.Duration, error) {
	unit := s.TimeUnit
	if unit == 0 {
		unit = scenario.DefaultTimeUnit
	}
	if unit < 0 {
		return 0, fmt.Errorf("scenario %q: timeUnit %s is negative", s.Name, unit)
	}
	return unit, nil
}

// open runs an arrival-rate scenario: vegeta's attack loop with the
// accumulated schedule time as the pacer's elapsed time, so the number of
// iterations due is exactly the pacer's, however late the loop runs.
func (r *runner) open(ctx context.Context, pacer vegeta.Pacer) error {
	maxVUs := r.s.MaxVUs
	if maxVUs == 0 {
		maxVUs = r.s.PreAllocatedVUs
	}
	// Each VU is a goroutine that waits for its next iteration's
	// intended start, rather than a goroutine per iteration: a fresh
	// goroutine grew its stack through the HTTP client's calls every
	// time, a measurable cost at high rates.
	idle := make(chan *worker, maxVUs)
	var wg, started sync.WaitGroup
	var workers []*worker
	defer func() {
		for _, w := range workers {
			close(w.work)
		}
		wg.Wait()
	}()
	spawn := func(id int) *worker {
		w := &worker{v: &vu{id: id}, work: make(chan time.Time, 1)}
		workers = append(workers, w)
		wg.Add(1)
		started.Add(1)
		go func() {
			defer wg.Done()
			if r.hooks.vuStarted != nil {
				r.hooks.vuStarted()
			}
			started.Done()
			for {
				var intended time.Time
				var ok bool
				select {
				case intended, ok = <-w.work:
				default:
					// About to wait for work, for as long as the
					// rate leaves it idle: nothing is held meanwhile.
					r.send(w.v)
					intended, ok = <-w.work
				}
				if !ok {
					r.send(w.v)
					return
				}
				r.iteration(ctx, w.v, intended, intended)
				idle <- w
			}
		}()
		return w
	}
	for i := 1; i <= r.s.PreAllocatedVUs; i++ {
		idle <- spawn(i)
	}
	// The pre-allocated VUs are running before the clock starts, as k6
	// initializes them before its start: a goroutine first runs some
	// microseconds after it is made, and a thousand of them first running
	// after the start held the first iterations 5 to 10 ms late.
	started.Wait()
	if r.hooks.clockStarts != nil {
		r.hooks.clockStarts()
	}
	made := r.s.PreAllocatedVUs
	r.c.vusMax.Store(int64(made))
	g := newGrowth()
	defer g.stop()

	// A precise clock: a timer would start iterations up to a millisecond
	// late on an idle process, and that lateness reads as the target's
	// latency (clock.Clock).
	clk := clock.New()
	defer clk.Close()
	r.start = time.Now()
	var sched time.Duration
	var hits uint64
	for {
		wait, stop := pacer.Pace(sched, hits)
		if stop {
			return nil
		}
		sched += wait
		hits++
		intended := r.start.Add(sched)
		if err := clk.Wait(ctx, intended); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("scenario %q: %w", r.s.Name, err)
		}
		var w *worker
		select {
		case w = <-idle:
		default:
			if made < maxVUs {
				var err error
				if w, err = g.next(ctx, idle, pacer.Rate(sched)); err != nil {
					return nil
				}
				if w == nil {
					made++
					r.c.vusMax.Store(int64(made))
					w = spawn(made)
				}
			}
		}
		if w == nil {
			r.c.dropped.Add(1)
			if r.cfg.Events != nil {
				r.cfg.Events.Dropped(r.s.Name)
			}
			continue
		}
		w.work <- intended // never blocks: an idle worker's buffer is empty
	}
}

// worker is an open-model VU's goroutine: it runs one iteration per
// intended start sent on work, and ends when work closes.
type worker struct {
	v    *vu
	work chan time.Time
}

// growthBurst is how far ahead of the schedule's pace the open model may
// add VUs at once: 10 ms of iterations, so a dispatcher a little late on
// a busy machine is never slowed by it.
const growthBurst = 10 * time.Millisecond

// growth paces how fast the open model adds VUs beyond its
// pre-allocated ones: no faster than the schedule starts iterations,
// after a burst of growthBurst's worth. A target that slows down needs
// one more VU per iteration due, which that pace keeps up with. What it
// holds back is a burst: a dispatcher that was itself held up (a
// descheduled process, a GC pause) finds many iterations due at once, and
// starting a VU for each of them (each with its own connection to open)
// made a run on a crowded machine feed on itself, up to maxVUs and
// hundreds of milliseconds of latency that said more about the generator
// than the target. An iteration held back waits for the first VU freed
// or the next one the pace allows, at most one scheduled interval; its
// delay shows as send lag.
type growth struct {
	tokens float64 // VUs that may be added now
	last   time.Time
	timer  *time.Timer
}

func newGrowth() *growth {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return &growth{tokens: -1, timer: t}
}

func (g *growth) stop() { g.timer.Stop() }

// next returns a VU freed meanwhile, or nil when a new one may be added,
// for an iteration due at the given rate (iterations per second). It
// returns ctx's error if ctx ends first.
func (g *growth) next(ctx context.Context, idle <-chan *worker, rate float64) (*worker, error) {
	rate = max(rate, 1) // a pause in a ramp must not stall growth for good
	burst := max(1, rate*growthBurst.Seconds())
	now := time.Now()
	if g.tokens < 0 { // the first call: the burst is there from the start
		g.tokens = burst
	} else {
		g.tokens = min(burst, g.tokens+now.Sub(g.last).Seconds()*rate)
	}
	g.last = now
	if g.tokens >= 1 {
		g.tokens--
		return nil, nil
	}
	g.timer.Reset(time.Duration((1 - g.tokens) / rate * float64(time.Second)))
	select {
	case w := <-idle:
		g.timer.Stop()
		return w, nil
	case <-g.timer.C:
		now := time.Now()
		g.tokens = min(burst, g.tokens+now.Sub(g.last).Seconds()*rate) - 1
		g.last = now
		return nil, nil
	case <-ctx.Done():
		g.timer.Stop()
		return nil, ctx.Err()
	}
}
