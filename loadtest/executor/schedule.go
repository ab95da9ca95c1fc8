package executor

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/taskready/taskready/loadtest/scenario"
	"github.com/taskready/taskready/loadtest/segment"
)

// Schedule is a scenario's plan as its executor reads the scenario's
// fields. Its facts are what the run's progress line and metrics, the
// summary's timeline and target rate and the memory check all read, so
// each is derived in one place: the file of its executor
// (constant_vus.go, ...). An executor is one such file, which registers
// its Schedule (register), and its schema entry (scenario.ExecutorSpec);
// the unexported methods keep the executors in this package.
type Schedule interface {
	// Scenario is the scenario this is the schedule of.
	Scenario() scenario.Scenario
	// Length is how long the schedule lasts from the scenario's own
	// start (after StartTime); 0 when it has no set end.
	Length() time.Duration
	// Phase names the phase the schedule is in at elapsed, counted from
	// the scenario's own start. Stages are half-open, [start, end), so a
	// boundary belongs to the later stage. It is "" before the start,
	// after the end, and where no phase is named.
	Phase(elapsed time.Duration) string
	// Spans lists the stretches of the schedule in a named phase, in
	// order, from the scenario's own start: adjacent stages of one phase
	// make one span.
	Spans() []Span
	// PeakVUs is the most VUs the schedule holds at once, and the field
	// of the scenario that sets it.
	PeakVUs() (n int, field string)
	// Describe says in a line what the schedule does, for the execution
	// plan a run prints before it starts: "50 iterations/s for 3m0s, 20
	// to 200 VUs".
	Describe() string
	// Share is the scenario with seg's share of the schedule's load: N
	// workers, one per segment, together make the whole's (package
	// segment). seg is valid (segment.Parse).
	Share(seg segment.Segment) scenario.Scenario

	// validate reports what in the scenario the executor cannot run.
	validate() error
	// run runs the schedule's iterations on r until it ends or ctx is
	// cancelled.
	run(ctx context.Context, r *runner) error
}

// Paced is the Schedule of an open-model executor: its iterations start
// on a pacer's schedule whether or not earlier ones finished.
type Paced interface {
	Schedule
	// Pacer returns the schedule as a pacer, its elapsed time counted
	// from the scenario's own start, or why the scenario cannot be paced.
	Pacer() (vegeta.Pacer, error)
	// Planned is how many iterations the schedule calls for (the area
	// under its rate, a fraction) and over how long; 0, 0 when it cannot
	// be paced.
	Planned() (float64, time.Duration)
}

// Span is a stretch of a schedule in one named phase, from the
// scenario's own start.
type Span struct {
	Phase    string
	From, To time.Duration
}

// ErrUnknown is wrapped by Plan's error for an executor no file of this
// package registered.
var ErrUnknown = errors.New("unknown executor")

// plans makes a scenario's Schedule, by executor name. Only the init
// functions of the executors' files write it.
var plans = map[scenario.Executor]func(scenario.Scenario) Schedule{}

// register makes plan the Schedule of executor e. It is called from the
// init function of e's file, and panics on what is a mistake in this
// package, not in a scenario: e registered twice, e without a schema
// entry, or a Schedule that is Paced for a closed-model executor (or
// not for an open-model one).
func register(e scenario.Executor, plan func(scenario.Scenario) Schedule) {
	spec, ok := e.Spec()
	if !ok {
		panic(fmt.Sprintf("executor: %s has no schema entry (scenario.ExecutorSpec)", e))
	}
	if _, ok := plans[e]; ok {
		panic(fmt.Sprintf("executor: %s registered twice", e))
	}
	if _, paced := plan(scenario.Scenario{Executor: e}).(Paced); paced != spec.Open {
		panic(fmt.Sprintf("executor: %s's schedule is paced %t, its schema entry says open %t", e, paced, spec.Open))
	}
	plans[e] = plan
}

// Plan returns s's schedule, as its executor reads s's fields.
func Plan(s scenario.Scenario) (Schedule, error) {
	plan, ok := plans[s.Executor]
	if !ok {
		return nil, fmt.Errorf("scenario %q: %w %q", s.Name, ErrUnknown, s.Executor)
	}
	return plan(s), nil
}

// Segment returns a copy of f whose scenarios make seg's share of the
// load, each as its executor splits it (Schedule.Share). f is not
// modified; the copy shares its journeys, thresholds and recovery
// budgets. An invalid segment (not from segment.Parse) returns f
// unchanged, and a scenario no executor plans is copied as it is.
func Segment(f *scenario.File, seg segment.Segment) *scenario.File {
	if f == nil || seg.Validate() != nil {
		return f
	}
	out := *f
	out.Scenarios = make([]scenario.Scenario, len(f.Scenarios))
	for i, sc := range f.Scenarios {
		// The stages are f's, which its other users still read.
		sc.Stages = slices.Clone(sc.Stages)
		if sched, err := Plan(sc); err == nil {
			sc = sched.Share(seg)
		}
		out.Scenarios[i] = sc
	}
	return &out
}

// The shapes executors share. Each answers some of Schedule's methods
// for the executors that embed it, from what their Plan gave it.

// fields is the scenario a Schedule reads; every executor embeds it, by
// itself or in a shape below.
type fields struct{ s scenario.Scenario }

// Scenario is the scenario this is the schedule of.
func (f fields) Scenario() scenario.Scenario { return f.s }

// steady is a schedule in one phase from its start to end: the constant
// executors' and per-vu-iterations'.
type steady struct {
	phase string
	end   time.Duration
}

// Length is the end.
func (st steady) Length() time.Duration { return st.end }

// Phase is the one phase, from the start to the end.
func (st steady) Phase(elapsed time.Duration) string {
	if elapsed >= 0 && elapsed < st.end {
		return st.phase
	}
	return ""
}

// Spans is the one phase's span, if it is named.
func (st steady) Spans() []Span {
	if st.phase == "" {
		return nil
	}
	return []Span{{Phase: st.phase, From: 0, To: st.end}}
}

// staged is a schedule made of stages, each in its own phase: the ramping
// executors'.
type staged []scenario.Stage

// Length is the stages' durations together.
func (ss staged) Length() time.Duration {
	var d time.Duration
	for _, st := range ss {
		d += st.Duration
	}
	return d
}

// Phase is the phase of the stage elapsed falls in.
func (ss staged) Phase(elapsed time.Duration) string {
	if elapsed < 0 {
		return ""
	}
	var at time.Duration
	for _, st := range ss {
		at += st.Duration
		if elapsed < at {
			return st.Phase
		}
	}
	return ""
}

// Spans lists the stages' phases, adjacent stages of one phase as one
// span.
func (ss staged) Spans() []Span {
	var out []Span
	var at time.Duration
	for _, st := range ss {
		end := at + st.Duration
		if st.Phase != "" {
			if n := len(out); n > 0 && out[n-1].Phase == st.Phase && out[n-1].To == at {
				out[n-1].To = end
			} else {
				out = append(out, Span{Phase: st.Phase, From: at, To: end})
			}
		}
		at = end
	}
	return out
}

// checkStages refuses a stage that would run backwards or below zero.
func checkStages(s scenario.Scenario) error {
	for i, st := range s.Stages {
		if st.Duration < 0 || st.Target < 0 {
			return fmt.Errorf("scenario %q: stage %d: negative duration or target", s.Name, i)
		}
	}
	return nil
}

// describe is how a ramping schedule says where it goes: the
// highest target, from where, through how many stages over how long.
func (ss staged) describe(from int, unit string) string {
	peak := from
	for _, st := range ss {
		peak = max(peak, st.Target)
	}
	return fmt.Sprintf("up to %d %s (from %d) in %s over %s", peak, unit, from, plural(len(ss), "stage"), ss.Length())
}

// plural is n things, "1 stage", "3 stages".
func plural(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return fmt.Sprintf("%d %ss", n, thing)
}

// fixedVUs is a closed-model scenario's set number of VUs (its vus
// field): constant-vus' and per-vu-iterations'.
type fixedVUs struct{ fields }

// PeakVUs is vus.
func (f fixedVUs) PeakVUs() (int, string) { return f.s.VUs, "vus" }

// Share splits the VUs; a segment may get none, and then runs nothing.
func (f fixedVUs) Share(seg segment.Segment) scenario.Scenario {
	sc := f.s
	sc.VUs = seg.Share(sc.VUs)
	return sc
}
