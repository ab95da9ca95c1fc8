package scenario

import (
	"time"

	"github.com/taskready/taskready/loadtest/threshold"
)

// File is one scenario file.
type File struct {
	Path        string
	Name        string
	Description string
	Users       Users
	Defaults    Defaults
	Scenarios   []Scenario // in file order
	Journeys    map[string]*Journey
	Thresholds  []Threshold // in file order
	Recoveries  []Recovery
	Faults      []Fault // in file order
}

// Users says which seeded users virtual users log in as (harness seed).
type Users struct {
	Prefix   string // email prefix of the seeded users
	Count    int    // how many exist
	Password string
	// Journeys gives journeys users of their own, by journey name, so
	// that what one journey deletes is never what another, logged in as
	// the same user at the same moment, has just read. A journey not
	// named logs in as any of the Count users.
	Journeys map[string]UserRange
}

// UserRange is the seeded users From to To, both included, counting
// from 1 as harness seed numbers them.
type UserRange struct {
	From, To int
	Line     int
}

// Of returns the users journey logs in as: its own range, or all.
func (u Users) Of(journey string) UserRange {
	if r, ok := u.Journeys[journey]; ok {
		return r
	}
	return UserRange{From: 1, To: u.Count}
}

// Defaults apply to every step that does not say otherwise.
type Defaults struct {
	Timeout time.Duration // per request
	Think   time.Duration // pause after each step
}

// Scenario is one named workload; several run together.
type Scenario struct {
	Name     string
	Executor Executor
	// StartTime delays this scenario from the start of the run.
	StartTime time.Duration

	// Arrival-rate executors: Rate iterations per TimeUnit (constant) or
	// StartRate then Stages' targets (ramping), with up to MaxVUs VUs,
	// PreAllocatedVUs of them created up front.
	Rate            int
	TimeUnit        time.Duration
	StartRate       int
	PreAllocatedVUs int
	MaxVUs          int

	// VU executors: VUs (constant, per-vu-iterations) or StartVUs then
	// Stages' targets (ramping); Iterations per VU for per-vu-iterations,
	// within MaxDuration.
	VUs         int
	StartVUs    int
	Iterations  int
	MaxDuration time.Duration

	// Duration of constant executors; ramping ones take their stages'.
	Duration time.Duration
	// Phase names the whole of a constant scenario ("steady"); stages
	// name their own.
	Phase  string
	Stages []Stage

	Journeys []WeightedJourney
	Line     int
}

// Longest is the longest of s's journeys in f, each step taking what
// step says: how long one iteration may hold its VU, by that measure.
// A journey f lacks counts for nothing.
func (f *File) Longest(s Scenario, step func(*Step) time.Duration) time.Duration {
	var longest time.Duration
	for _, wj := range s.Journeys {
		j, ok := f.Journeys[wj.Name]
		if !ok {
			continue
		}
		var d time.Duration
		for i := range j.Steps {
			d += step(&j.Steps[i])
		}
		longest = max(longest, d)
	}
	return longest
}

// Stage moves the rate or VU count linearly to Target over Duration.
type Stage struct {
	Duration time.Duration
	Target   int
	Phase    string // "warm-up", "steady", "spike", "recovery", ...
}

// WeightedJourney is a journey and its share of a scenario's iterations.
type WeightedJourney struct {
	Name   string
	Weight int
}

// Journey is what one iteration of a virtual user does.
type Journey struct {
	Name  string
	Steps []Step
}

// Step is one HTTP request of a journey.
type Step struct {
	Name string
	// Endpoint tags the request's metrics ("list"); it defaults to the
	// step name, so thresholds can select http_req_duration{endpoint:list}.
	Endpoint string
	Method   string
	Path     string // may contain {{variables}}
	Headers  map[string]string
	// Body is JSON sent with Content-Type: application/json; strings in
	// it may contain {{variables}}.
	Body    any
	Check   Check
	Extract map[string]string // variable name → JSON path in the answer ("token", "task._id")
	Think   time.Duration
	Timeout time.Duration
	Line    int
}

// Check is what a step's answer must satisfy to count as a passed check.
type Check struct {
	Status       int    // expected status; 0 means any 2xx
	BodyContains string // a substring the body must contain
}

// Threshold is one parsed threshold item (k6 syntax) and its line.
type Threshold struct {
	threshold.Threshold
	Line int
}

// Recovery is a budget k6 lacks: after phase After ends, Stat of Metric
// must be back under Below within Within.
type Recovery struct {
	After  string        // the phase that stresses the system ("spike")
	Metric string        // "http_req_duration"
	Stat   string        // "p(95)"
	Below  float64       // milliseconds for durations
	Within time.Duration // the recovery budget
	Line   int
}
