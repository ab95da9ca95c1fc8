package executor

import (
	"context"
	"fmt"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/taskready/taskready/loadtest/pace"
	"github.com/taskready/taskready/loadtest/scenario"
	"github.com/taskready/taskready/loadtest/segment"
)

// constantArrivalRate is k6's constant-arrival-rate: rate iterations per
// timeUnit for duration, in the scenario's one phase, on a pool of
// preAllocatedVUs up to maxVUs (the open model, open.go).
type constantArrivalRate struct {
	pool
	steady
}

func init() {
	register(scenario.ConstantArrivalRate, func(s scenario.Scenario) Schedule {
		return constantArrivalRate{pool{fields{s}}, steady{s.Phase, s.Duration}}
	})
}

// Share keeps the rate and fits the duration to the segment's exact share
// of the whole's iterations: the whole sends M over its duration, and
// segment i, at every Nth of the whole's slots, ceil((M-i)/N) of them.
func (c constantArrivalRate) Share(seg segment.Segment) scenario.Scenario {
	sc, gap := sharePaced(c.s, seg)
	if sc.Rate <= 0 || gap <= 0 {
		return sc
	}
	// The pacer sends hit k at k gaps while k gaps fit in the duration:
	// the whole sends m; the segment sends every Nth, at k·segGap.
	segGap := sc.TimeUnit / time.Duration(sc.Rate)
	m := int64(sc.Duration / gap)
	if mine := (m - int64(seg.Index) + int64(seg.Count) - 1) / int64(seg.Count); mine > 0 && segGap > 0 {
		sc.Duration = time.Duration(mine) * segGap
	}
	// With no iteration of its own (m <= Index, so m < N), the duration
	// is shorter than one segment gap already, and the segment sends none.
	return sc
}

// Pacer is pace.Constant: hit n at n·(timeUnit/rate), until duration.
func (c constantArrivalRate) Pacer() (vegeta.Pacer, error) {
	unit, err := timeUnit(c.s)
	if err != nil {
		return nil, err
	}
	if c.s.Rate <= 0 || c.s.Duration <= 0 {
		return nil, fmt.Errorf("scenario %q: %s needs a positive rate and duration (rate %d, duration %s)", c.s.Name, c.s.Executor, c.s.Rate, c.s.Duration)
	}
	return pace.Constant(c.s.Rate, unit, c.s.Duration), nil
}

func (c constantArrivalRate) Planned() (float64, time.Duration) {
	if _, err := c.Pacer(); err != nil {
		return 0, 0
	}
	unit, _ := timeUnit(c.s)
	return float64(c.s.Rate) * float64(c.s.Duration) / float64(unit), c.s.Duration
}

// Describe is the rate, the duration and the pool.
func (c constantArrivalRate) Describe() string {
	return fmt.Sprintf("%d %s for %s, %s", c.s.Rate, iterationsPer(c.s), c.s.Duration, c.vus())
}

func (c constantArrivalRate) run(ctx context.Context, r *runner) error { return runPaced(ctx, r, c) }
