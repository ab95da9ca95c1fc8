package pace

import (
	"fmt"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/taskready/taskready/loadtest/scenario"
)

// FromScenario returns the pacer of an arrival-rate (open-model) scenario:
// Constant for constant-arrival-rate, Ramping for ramping-arrival-rate.
// Its elapsed time counts from the scenario's own start, after StartTime.
// Other executors are the closed model and have no pacer: an error.
func FromScenario(s scenario.Scenario) (vegeta.Pacer, error) {
	unit := s.TimeUnit
	if unit == 0 {
		unit = scenario.DefaultTimeUnit
	}
	if unit < 0 {
		return nil, fmt.Errorf("scenario %q: timeUnit %s is negative", s.Name, unit)
	}
	switch s.Executor {
	case scenario.ConstantArrivalRate:
		if s.Rate <= 0 || s.Duration <= 0 {
			return nil, fmt.Errorf("scenario %q: %s needs a positive rate and duration (rate %d, duration %s)", s.Name, s.Executor, s.Rate, s.Duration)
		}
		return Constant(s.Rate, unit, s.Duration), nil
	case scenario.RampingArrivalRate:
		if len(s.Stages) == 0 {
			return nil, fmt.Errorf("scenario %q: %s needs stages", s.Name, s.Executor)
		}
		rp := Ramping{Start: float64(s.StartRate), TimeUnit: unit, Stages: make([]Stage, len(s.Stages))}
		for i, st := range s.Stages {
			if st.Duration < 0 || st.Target < 0 {
				return nil, fmt.Errorf("scenario %q: stage %d: negative duration or target", s.Name, i)
			}
			rp.Stages[i] = Stage{Duration: st.Duration, Target: float64(st.Target)}
		}
		if s.StartRate < 0 {
			return nil, fmt.Errorf("scenario %q: startRate %d is negative", s.Name, s.StartRate)
		}
		return rp, nil
	default:
		return nil, fmt.Errorf("scenario %q: executor %q has no arrival rate to pace (only %s and %s do)",
			s.Name, s.Executor, scenario.ConstantArrivalRate, scenario.RampingArrivalRate)
	}
}

// Phase returns the name of the phase s is in at elapsed, counted from the
// scenario's own start (after StartTime): the phase of the stage elapsed
// falls in, or for a scenario without stages its own Phase while it runs
// (within Duration, or MaxDuration for per-vu-iterations). Stages are
// half-open, [start, end), so a boundary belongs to the later stage. It
// is "" before the start, after the end, and where no phase is named.
func Phase(s scenario.Scenario, elapsed time.Duration) string {
	if elapsed < 0 {
		return ""
	}
	if len(s.Stages) > 0 {
		var at time.Duration
		for _, st := range s.Stages {
			at += st.Duration
			if elapsed < at {
				return st.Phase
			}
		}
		return ""
	}
	end := s.Duration
	if end == 0 {
		end = s.MaxDuration
	}
	if elapsed < end {
		return s.Phase
	}
	return ""
}
