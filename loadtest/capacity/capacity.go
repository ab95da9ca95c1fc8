// Package capacity finds the highest arrival rate a system sustains within
// its budgets: the scenario file's thresholds, held for a whole step.
//
// The search doubles the rate from a start until a step fails, then
// bisects between the last rate that held and the first that did not,
// until they are within a relative precision. Every step is a complete
// engine run of its own (a constant-arrival-rate scenario over the file's
// journeys), so each is measured, validated and gated exactly as a run
// is. A step whose run is invalid ends the search: beyond that rate the
// load generator, not the system, is what gives way, and the answer is a
// lower bound.
package capacity

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/taskready/taskready/loadtest/engine"
	"github.com/taskready/taskready/loadtest/scenario"
	"github.com/taskready/taskready/loadtest/summary"
)

// Options bound the search.
type Options struct {
	// Start is the first rate tried, in iterations per second.
	Start int
	// Max is the highest rate tried.
	Max int
	// Hold is how long each step runs: long enough that its percentiles
	// mean something and a slow build-up of queues shows.
	Hold time.Duration
	// Precision ends the bisection when the gap between the rate that
	// held and the one that did not is within this share of the former.
	Precision float64
	// MaxVUs caps each step's virtual users (default: DefaultVUs).
	MaxVUs int
	// Engine are options for every step's run.
	Engine []engine.Option
	// Progress, when set, gets a line per step.
	Progress io.Writer
}

// Step is one rate tried.
type Step struct {
	Rate   int  `json:"rate"`
	Passed bool `json:"passed"`
	// GeneratorKeptUp is false when the harness itself could not send
	// the rate on time (send lag, its CPU): the step says nothing about
	// the system and the search stops. Dropped iterations are the
	// system's doing: they fail the step (Passed, Outcome) and leave
	// this true.
	GeneratorKeptUp bool           `json:"generator_kept_up"`
	Achieved        float64        `json:"achieved_rate"`
	P95             float64        `json:"p95_ms"`
	Errors          float64        `json:"error_rate"`
	Outcome         summary.Status `json:"outcome"`
	Reasons         []string       `json:"reasons,omitempty"`
}

// Result is the outcome of a search.
type Result struct {
	// Rate is the highest rate that held, 0 if none did.
	Rate int `json:"rate"`
	// LowerBound is true when the search stopped at the generator's limit
	// or at Max: the system may sustain more.
	LowerBound bool   `json:"lower_bound"`
	Why        string `json:"why"`
	Steps      []Step `json:"steps"`
}

// ErrNoJourneys is returned for a file whose first scenario has no
// journeys to drive.
var ErrNoJourneys = errors.New("capacity: the scenario file has no journeys to drive")

// Search finds the capacity of target for the journeys of f's first
// scenario, gated by f's thresholds.
func Search(ctx context.Context, f *scenario.File, target string, o Options) (Result, error) {
	if o.Start <= 0 {
		o.Start = 10
	}
	if o.Max < o.Start {
		o.Max = 100000
	}
	if o.Hold <= 0 {
		o.Hold = 30 * time.Second
	}
	if o.Precision <= 0 {
		o.Precision = 0.05
	}
	if len(f.Scenarios) == 0 || len(f.Scenarios[0].Journeys) == 0 {
		return Result{}, ErrNoJourneys
	}
	var res Result
	try := func(rate int) (Step, error) {
		st, err := step(ctx, f, target, rate, o)
		if err != nil {
			return st, err
		}
		res.Steps = append(res.Steps, st)
		if o.Progress != nil {
			verdict := "held"
			if !st.Passed && len(st.Reasons) > 0 {
				verdict = "failed: " + st.Reasons[0]
			} else if !st.Passed {
				verdict = "failed: " + string(st.Outcome)
			}
			fmt.Fprintf(o.Progress, "capacity: %6d/s for %s: achieved %.1f/s, p95 %.1fms, errors %.2f%%: %s\n",
				rate, o.Hold, st.Achieved, st.P95, st.Errors*100, verdict)
		}
		return st, nil
	}

	lo, hi := 0, 0 // the highest rate that held, the lowest that failed
	for rate := o.Start; ; rate = min(rate*2, o.Max) {
		st, err := try(rate)
		if err != nil {
			return res, err
		}
		if !st.GeneratorKeptUp {
			res.Rate, res.LowerBound = lo, true
			res.Why = fmt.Sprintf("the load generator could not keep up at %d/s", rate)
			return res, nil
		}
		if !st.Passed {
			hi = rate
			break
		}
		lo = rate
		if rate == o.Max {
			res.Rate, res.LowerBound, res.Why = lo, true, fmt.Sprintf("held at the highest rate tried, %d/s", o.Max)
			return res, nil
		}
	}
	for lo > 0 && float64(hi-lo) > o.Precision*float64(lo) && hi-lo > 1 {
		mid := lo + (hi-lo)/2
		st, err := try(mid)
		if err != nil {
			return res, err
		}
		if !st.GeneratorKeptUp {
			res.Rate, res.LowerBound = lo, true
			res.Why = fmt.Sprintf("the load generator could not keep up at %d/s", mid)
			return res, nil
		}
		if st.Passed {
			lo = mid
		} else {
			hi = mid
		}
	}
	res.Rate = lo
	if lo == 0 {
		res.Why = fmt.Sprintf("not even the start rate, %d/s, held", o.Start)
	} else {
		res.Why = fmt.Sprintf("%d/s held and %d/s did not", lo, hi)
	}
	return res, nil
}

// stepAllowance is what DefaultVUs allows each request of a journey
// beside its think time: far above the answers of a system within its
// budgets, so that a step fails on the system, not on too few VUs.
const stepAllowance = 250 * time.Millisecond

// DefaultVUs is the VU cap of a step at rate when Options.MaxVUs is 0:
// by Little's law, twice the rate times the longest of base's journeys
// (its think times plus stepAllowance per request), and at least 10. A
// journey that thinks for seconds keeps a VU for seconds, so a cap from
// the rate alone would drop iterations and blame the system.
func DefaultVUs(f *scenario.File, base scenario.Scenario, rate int) int {
	longest := f.Longest(base, func(st *scenario.Step) time.Duration { return st.Think + stepAllowance })
	return max(10, int(math.Ceil(2*float64(rate)*longest.Seconds())))
}

// step runs f's journeys at rate for o.Hold.
func step(ctx context.Context, f *scenario.File, target string, rate int, o Options) (Step, error) {
	base := f.Scenarios[0]
	vus := o.MaxVUs
	if vus <= 0 {
		vus = DefaultVUs(f, base, rate)
	}
	s := scenario.Scenario{
		Name: "capacity", Executor: scenario.ConstantArrivalRate, Rate: rate, TimeUnit: time.Second,
		Duration: o.Hold, PreAllocatedVUs: min(vus, max(rate/10, 1)), MaxVUs: vus,
		Phase: fmt.Sprintf("%d/s", rate), Journeys: base.Journeys,
	}
	g := *f
	g.Scenarios = []scenario.Scenario{s}
	g.Recoveries = nil
	g.Faults = nil // the capacity of the system unharmed
	run, err := engine.Run(ctx, &g, target, o.Engine...)
	if err != nil {
		return Step{}, fmt.Errorf("capacity at %d/s: %w", rate, err)
	}
	if run.Interrupted {
		return Step{}, ctx.Err()
	}
	sum := run.Summary(engine.Meta{})
	sum.Run.Decide() // a step is judged as a run of its own, with no baseline
	// Dropped iterations fail a step rather than end the search: a
	// saturated system leaves VUs busy as surely as a slow generator.
	st := Step{
		Rate: rate, Passed: sum.Run.Outcome.ExitCode == summary.ExitPass, GeneratorKeptUp: true,
		Outcome: sum.Run.Outcome.Status, Reasons: sum.Run.Outcome.Reasons,
	}
	for _, c := range sum.Run.Validity.Checks {
		if !c.OK && (c.Name == engine.CheckSendLag || c.Name == engine.CheckCPU) {
			st.GeneratorKeptUp = false
		}
	}
	if len(sum.Run.Scenarios) == 1 {
		st.Achieved = sum.Run.Scenarios[0].AchievedRate
	}
	if m, ok := sum.Metrics["http_req_duration"]; ok {
		st.P95 = m.Values["p(95)"]
	}
	if m, ok := sum.Metrics["http_req_failed"]; ok {
		st.Errors = m.Values["value"]
	}
	return st, nil
}
