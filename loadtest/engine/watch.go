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
	abort  []threshold.Threshold
	line   *progress.Line
	// window is the latency of the last tick, for the live p95: the run's
	// own histograms would show a p95 that moves ever more slowly.
	window      *hdrhistogram.Histogram
	winReqs     int64
	reqs, fails int64
	abortReason string
}

func newWatcher(f *scenario.File, plans []executor.Schedule, cf config, start time.Time) *watcher {
	w := &watcher{f: f, plans: plans, cf: cf, start: start, window: hdrhistogram.New(1, int64(time.Minute/time.Microsecond), 2)}
	for _, sched := range plans {
		w.length = max(w.length, sched.Scenario().StartTime+sched.Length())
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

// show draws the live line: elapsed of planned, the last tick's rate and
// p95, the run's error share.
func (w *watcher) show(final bool) {
	if w.line == nil {
		w.window.Reset()
		w.winReqs = 0
		return
	}
	elapsed := time.Since(w.start).Truncate(time.Second)
	rate := float64(w.winReqs) / w.cf.tick.Seconds()
	p95 := time.Duration(w.window.ValueAtQuantile(95)) * time.Microsecond
	errShare := 0.0
	if w.reqs > 0 {
		errShare = float64(w.fails) / float64(w.reqs) * 100
	}
	phases := ""
	for _, sched := range w.plans {
		s := sched.Scenario()
		if p := sched.Phase(elapsed - s.StartTime); p != "" {
			phases += " " + s.Name + ":" + p
		}
	}
	text := fmt.Sprintf("  running %s/%s  %7.1f req/s  p95 %-8s  errors %.2f%%  requests %d%s",
		elapsed, w.length.Truncate(time.Second), rate, p95.Round(10*time.Microsecond), errShare, w.reqs, phases)
	if final {
		text = fmt.Sprintf("  done in %s  %d requests  errors %.2f%%", elapsed, w.reqs, errShare)
		w.line.Done(text)
		return
	}
	w.line.Set(text)
	w.window.Reset()
	w.winReqs = 0
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
