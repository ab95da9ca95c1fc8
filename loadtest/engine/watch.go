package engine

import (
	"context"
	"fmt"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/taskready/taskready/internal/progress"
	"github.com/taskready/taskready/loadtest/executor"
	"github.com/taskready/taskready/loadtest/record"
	"github.com/taskready/taskready/loadtest/scenario"
	"github.com/taskready/taskready/loadtest/summary"
	"github.com/taskready/taskready/loadtest/threshold"
)

// watcher is the one goroutine that owns the recorder: it drains the
// samples and, every tick, draws the progress line, publishes metrics and
// evaluates the thresholds that may abort the run.
type watcher struct {
	f     *scenario.File
	plans []executor.Schedule
	cf    config
	start time.Time
	// length is the longest scenario's schedule, for "12s/1m0s".
	length time.Duration
	// maxVUs is the most VUs the scenarios' plans hold together; open
	// is whether any of them may drop iterations.
	maxVUs int64
	open   bool
	tally  *tally
	abort  []threshold.Threshold
	line   *progress.Line
	// window is the latency of the last tick, for the live p95: the run's
	// own histograms would show a p95 that moves ever more slowly.
	window      *hdrhistogram.Histogram
	winReqs     int64
	reqs, fails int64
	abortReason string
}

func newWatcher(f *scenario.File, plans []executor.Schedule, cf config, start time.Time, t *tally) *watcher {
	w := &watcher{f: f, plans: plans, cf: cf, start: start, tally: t, window: hdrhistogram.New(1, int64(time.Minute/time.Microsecond), 2)}
	for _, sched := range plans {
		w.length = max(w.length, sched.Scenario().StartTime+sched.Length())
		n, _ := sched.PeakVUs()
		w.maxVUs += int64(n)
		w.open = w.open || sched.Scenario().Executor.Open()
	}
	for _, t := range f.Thresholds {
		if t.AbortOnFail {
			w.abort = append(w.abort, t.Threshold)
		}
	}
	if cf.progress != nil {
		w.line = progress.NewLine(cf.progress)
	}
	return w
}

func (w *watcher) drain(ctx context.Context, cancel context.CancelCauseFunc, samples <-chan []record.Sample, res *Result, names map[[2]string]string) {
	tick := time.NewTicker(w.cf.tick)
	defer tick.Stop()
	m := w.cf.metrics
	if m != nil {
		m.start(w.f, w.plans)
	}
	for {
		select {
		case batch, ok := <-samples:
			if !ok {
				if m != nil {
					m.finish(w.plans)
				}
				w.show(true)
				return
			}
			for _, s := range batch {
				res.Recorder.Add(s)
				if s.Iteration {
					// An iteration's own sample: not a request, and its
					// schedule was measured on its first request's already.
					continue
				}
				w.count(s, res, names)
				if m != nil {
					m.observe(s)
				}
			}
			executor.Release(batch)
		case now := <-tick.C:
			if m != nil {
				m.tick(w.plans, now.Sub(w.start))
			}
			w.show(false)
			w.checkAbort(ctx, cancel, res.Recorder, now)
		}
	}
}

func (w *watcher) count(s record.Sample, res *Result, names map[[2]string]string) {
	w.reqs++
	w.winReqs++
	if record.DefaultFailed(s) {
		w.fails++
	}
	lat := s.CorrectedLatency().Microseconds()
	_ = w.window.RecordValue(max(lat, 1))
	if !s.Intended.IsZero() && !s.Intended.Equal(s.Start) {
		_ = res.SendLag.RecordValue(max(s.Start.Sub(s.Intended).Microseconds(), 0))
	} else if !s.Intended.IsZero() {
		_ = res.SendLag.RecordValue(0)
	}
	if s.CheckPassed != nil {
		name, ok := names[[2]string{s.Journey, s.Step}]
		if !ok {
			name = s.Step
		}
		c := res.Checks.Check(name)
		if *s.CheckPassed {
			c.Passes++
		} else {
			c.Fails++
		}
	}
}

// show draws the live line (status), fitted to the width the line may
// take.
func (w *watcher) show(final bool) {
	if w.line == nil {
		w.window.Reset()
		w.winReqs = 0
		return
	}
	st := w.status(time.Since(w.start))
	if final {
		w.line.Done(fit(st.doneFields(), w.line.Width()))
		return
	}
	w.line.Set(fit(st.fields(), w.line.Width()))
	w.window.Reset()
	w.winReqs = 0
}

// status is the run at elapsed: the last tick's rate and p95, the run's
// error share, and where each scenario is in its schedule.
func (w *watcher) status(elapsed time.Duration) status {
	st := status{
		elapsed: elapsed, length: w.length,
		rate:     float64(w.winReqs) / w.cf.tick.Seconds(),
		p95:      time.Duration(w.window.ValueAtQuantile(95)) * time.Microsecond,
		requests: w.reqs, failures: w.fails, maxVUs: w.maxVUs, open: w.open,
	}
	for _, sched := range w.plans {
		s := sched.Scenario()
		var c *scenarioTally
		if w.tally != nil {
			c = w.tally.byName[s.Name]
		}
		var started, active int64
		if c != nil {
			started, active = c.started.Load(), c.active.Load()
			st.active += active
			st.dropped += c.dropped.Load()
		}
		st.scenarios = append(st.scenarios, scenarioProgress(sched, elapsed-s.StartTime, started, active))
	}
	return st
}

// scenarioProgress is where sched is at own, its own elapsed time, with
// started iterations begun and active still running. A schedule of a
// set number of iterations (per-vu-iterations) is as far as the further
// of its time and its iterations, and over when all have started.
func scenarioProgress(sched executor.Schedule, own time.Duration, started, active int64) scenarioStatus {
	s := sched.Scenario()
	length := sched.Length()
	planned := int64(s.VUs) * int64(s.Iterations)
	sc := scenarioStatus{name: s.Name, state: running, phase: sched.Phase(own)}
	if length == 0 {
		sc.phase = s.Phase // no end for the schedule's phase to fall before
	}
	over := length > 0 && own >= length || s.Iterations > 0 && started >= planned
	switch {
	case own < 0:
		sc.state = waiting
	case over && active > 0:
		sc.state = stopping
	case over:
		sc.state = finished
	default:
		if length > 0 {
			sc.done = float64(own) / float64(length)
		}
		if planned > 0 {
			sc.done = max(sc.done, float64(started)/float64(planned))
		}
	}
	return sc
}

// checkAbort evaluates the abortOnFail thresholds on what was recorded so
// far and cancels the run when one fails past its delayAbortEval, as k6
// does.
func (w *watcher) checkAbort(ctx context.Context, cancel context.CancelCauseFunc, rec *record.Recorder, now time.Time) {
	if len(w.abort) == 0 || ctx.Err() != nil {
		return
	}
	snap := rec.Snapshot()
	for _, t := range w.abort {
		v := threshold.Evaluate(t, summary.StatsOf(snap, t.Selector))
		if v.Aborts(now.Sub(w.start)) {
			w.abortReason = fmt.Sprintf("%s %s crossed at %s (%s)", t.Selector, t.Source, now.Sub(w.start).Truncate(time.Second), v.Reason)
			cancel(ErrAborted)
			return
		}
	}
}
