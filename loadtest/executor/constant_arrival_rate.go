package executor

import (
	"context"
	"fmt"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/taskready/taskready/loadtest/pace"
	"github.com/taskready/taskready/loadtest/scenario"
)

// constantArrivalRate is k6's constant-arrival-rate: rate iterations per
// timeUnit for duration, in the scenario's one phase, on a pool of
// preAllocatedVUs up to maxVUs (the open model, open.go).
type constantArrivalRate struct{ fields }

func init() {
	register(scenario.ConstantArrivalRate, func(s scenario.Scenario) Schedule { return constantArrivalRate{fields{s}} })
}

func (c constantArrivalRate) Length() time.Duration { return c.s.Duration }

func (c constantArrivalRate) Phase(elapsed time.Duration) string { return c.steady().at(elapsed) }

func (c constantArrivalRate) Spans() []Span { return c.steady().spans() }

func (c constantArrivalRate) steady() steady { return steady{c.s.Phase, c.s.Duration} }

func (c constantArrivalRate) PeakVUs() (int, string) { return poolPeak(c.s) }

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

func (c constantArrivalRate) validate() error { return checkPool(c.s) }

func (c constantArrivalRate) run(ctx context.Context, r *runner) error { return runPaced(ctx, r, c) }
