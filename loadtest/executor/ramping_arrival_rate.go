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

// rampingArrivalRate is k6's ramping-arrival-rate: the rate moves
// linearly from startRate through each stage's target (iterations per
// timeUnit), each stage in its own phase, on a pool of preAllocatedVUs up
// to maxVUs (the open model, open.go).
type rampingArrivalRate struct {
	pool
	staged
}

func init() {
	register(scenario.RampingArrivalRate, func(s scenario.Scenario) Schedule {
		return rampingArrivalRate{pool{fields{s}}, staged(s.Stages)}
	})
}

// Share keeps the rates: the pacer sends floor(area/N) iterations per
// segment, so the N segments may send up to N-1 fewer than the whole.
func (ra rampingArrivalRate) Share(seg segment.Segment) scenario.Scenario {
	sc, _ := sharePaced(ra.s, seg)
	return sc
}

// Describe is the peak rate, the stages and the pool.
func (ra rampingArrivalRate) Describe() string {
	return ra.staged.describe(ra.s.StartRate, iterationsPer(ra.s)) + ", " + ra.vus()
}

// Pacer is a pace.Ramping of the scenario's stages.
func (ra rampingArrivalRate) Pacer() (vegeta.Pacer, error) {
	return ra.ramping()
}

func (ra rampingArrivalRate) ramping() (pace.Ramping, error) {
	s := ra.s
	unit, err := timeUnit(s)
	if err != nil {
		return pace.Ramping{}, err
	}
	if len(s.Stages) == 0 {
		return pace.Ramping{}, fmt.Errorf("scenario %q: %s needs stages", s.Name, s.Executor)
	}
	if err := checkStages(s); err != nil {
		return pace.Ramping{}, err
	}
	rp := pace.Ramping{Start: float64(s.StartRate), TimeUnit: unit, Stages: make([]pace.Stage, len(s.Stages))}
	for i, st := range s.Stages {
		rp.Stages[i] = pace.Stage{Duration: st.Duration, Target: float64(st.Target)}
	}
	if s.StartRate < 0 {
		return pace.Ramping{}, fmt.Errorf("scenario %q: startRate %d is negative", s.Name, s.StartRate)
	}
	return rp, nil
}

func (ra rampingArrivalRate) Planned() (float64, time.Duration) {
	rp, err := ra.ramping()
	if err != nil {
		return 0, 0
	}
	return rp.Hits(rp.Duration()), rp.Duration()
}

func (ra rampingArrivalRate) run(ctx context.Context, r *runner) error { return runPaced(ctx, r, ra) }
