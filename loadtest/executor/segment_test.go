package executor_test

import (
	"fmt"
	"math/big"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/taskready/taskready/loadtest/executor"
	"github.com/taskready/taskready/loadtest/scenario"
	"github.com/taskready/taskready/loadtest/segment"
)

// splitFile is a scenario file with one scenario of each executor; the
// scenario's numbers come from the arguments.
func splitFile(rate, vus int, unit time.Duration) *scenario.File {
	j := []scenario.WeightedJourney{{Name: "j", Weight: 1}}
	return &scenario.File{
		Name:     "split",
		Journeys: map[string]*scenario.Journey{"j": {Name: "j", Steps: []scenario.Step{{Name: "s", Method: "GET", Path: "/"}}}},
		Scenarios: []scenario.Scenario{
			{Name: "constant-rate", Executor: scenario.ConstantArrivalRate, Rate: rate, TimeUnit: unit, Duration: 7 * time.Second,
				PreAllocatedVUs: vus, MaxVUs: 3 * vus, Phase: "steady", Journeys: j},
			{Name: "ramping-rate", Executor: scenario.RampingArrivalRate, StartRate: rate / 2, TimeUnit: unit, PreAllocatedVUs: vus, Journeys: j,
				Stages: []scenario.Stage{{Duration: 3 * time.Second, Target: rate, Phase: "up"}, {Duration: 2 * time.Second, Target: rate, Phase: "hold"}, {Duration: time.Second, Target: 0}}},
			{Name: "constant-vus", Executor: scenario.ConstantVUs, VUs: vus, Duration: 5 * time.Second, Journeys: j},
			{Name: "ramping-vus", Executor: scenario.RampingVUs, StartVUs: vus / 2, Journeys: j,
				Stages: []scenario.Stage{{Duration: 2 * time.Second, Target: vus}, {Duration: time.Second, Target: 2 * vus}, {Duration: time.Second, Target: 0}}},
			{Name: "per-vu", Executor: scenario.PerVUIterations, VUs: vus, Iterations: 3, Journeys: j},
		},
	}
}

// ratePerSecond is a rate of an arrival-rate scenario, in iterations per
// second, exactly.
func ratePerSecond(rate int, unit time.Duration) *big.Rat {
	if unit == 0 {
		unit = scenario.DefaultTimeUnit
	}
	return new(big.Rat).SetFrac64(int64(rate)*int64(time.Second), int64(unit))
}

// hits drives p as the executor does, without real time, and returns how
// many iterations it schedules and when.
func hits(t *testing.T, p vegeta.Pacer) []time.Duration {
	t.Helper()
	var at []time.Duration
	var elapsed time.Duration
	for {
		wait, stop := p.Pace(elapsed, uint64(len(at)))
		if stop {
			return at
		}
		elapsed += wait
		at = append(at, elapsed)
		if len(at) > 1e6 {
			t.Fatalf("%v: no end", p)
		}
	}
}

// TestSegmentSumsToTheWhole splits a file of every executor N ways, N from
// 1 to 7, for several rates and VU counts: the segments' rates add up
// exactly to the whole's, their VUs too, and constant-rate segments send
// exactly the whole's iterations between them.
func TestSegmentSumsToTheWhole(t *testing.T) {
	for _, unit := range []time.Duration{0, time.Second, time.Minute} {
		for _, rate := range []int{1, 2, 5, 7, 10, 80, 97} {
			for _, vus := range []int{1, 2, 3, 10, 13} {
				whole := splitFile(rate, vus, unit)
				for n := 1; n <= 7; n++ {
					t.Run(fmt.Sprintf("unit=%s/rate=%d/vus=%d/N=%d", unit, rate, vus, n), func(t *testing.T) {
						checkSplit(t, whole, n)
					})
				}
			}
		}
	}
}

func checkSplit(t *testing.T, whole *scenario.File, n int) {
	parts := make([]*scenario.File, n)
	for i := range parts {
		parts[i] = executor.Segment(whole, segment.Segment{Index: i, Count: n})
	}
	for si, w := range whole.Scenarios {
		segs := make([]scenario.Scenario, n)
		for i := range parts {
			segs[i] = parts[i].Scenarios[si]
			if segs[i].Name != w.Name || segs[i].Executor != w.Executor || len(segs[i].Stages) != len(w.Stages) {
				t.Fatalf("%s: segment %d is %+v", w.Name, i, segs[i])
			}
		}
		switch w.Executor {
		case scenario.ConstantArrivalRate, scenario.RampingArrivalRate:
			checkRates(t, w, segs)
		case scenario.ConstantVUs, scenario.PerVUIterations:
			sumEquals(t, w.Name+" vus", w.VUs, segs, func(s scenario.Scenario) int { return s.VUs })
			for _, s := range segs {
				if s.Iterations != w.Iterations || s.Duration != w.Duration {
					t.Errorf("%s: iterations %d, duration %s changed (want %d, %s)", w.Name, s.Iterations, s.Duration, w.Iterations, w.Duration)
				}
			}
		case scenario.RampingVUs:
			sumEquals(t, w.Name+" startVUs", w.StartVUs, segs, func(s scenario.Scenario) int { return s.StartVUs })
			for k := range w.Stages {
				sumEquals(t, fmt.Sprintf("%s stage %d target", w.Name, k), w.Stages[k].Target, segs, func(s scenario.Scenario) int { return s.Stages[k].Target })
			}
		}
	}
}

func sumEquals(t *testing.T, what string, want int, segs []scenario.Scenario, of func(scenario.Scenario) int) {
	t.Helper()
	sum := 0
	for _, s := range segs {
		if of(s) < 0 {
			t.Errorf("%s: a segment got %d", what, of(s))
		}
		sum += of(s)
	}
	if sum != want {
		t.Errorf("%s: segments sum to %d, want %d", what, sum, want)
	}
}

func checkRates(t *testing.T, w scenario.Scenario, segs []scenario.Scenario) {
	t.Helper()
	n := len(segs)
	rate := func(s scenario.Scenario, r int) *big.Rat { return ratePerSecond(r, s.TimeUnit) }
	sum := func(of func(scenario.Scenario) *big.Rat) *big.Rat {
		total := new(big.Rat)
		for _, s := range segs {
			total.Add(total, of(s))
		}
		return total
	}
	check := func(what string, got, want *big.Rat) {
		if got.Cmp(want) != 0 {
			t.Errorf("%s %s: segments' rates sum to %s/s, want %s/s", w.Name, what, got.RatString(), want.RatString())
		}
	}
	check("rate", sum(func(s scenario.Scenario) *big.Rat { return rate(s, s.Rate) }), rate(w, w.Rate))
	check("startRate", sum(func(s scenario.Scenario) *big.Rat { return rate(s, s.StartRate) }), rate(w, w.StartRate))
	for k := range w.Stages {
		check(fmt.Sprintf("stage %d", k), sum(func(s scenario.Scenario) *big.Rat { return rate(s, s.Stages[k].Target) }), rate(w, w.Stages[k].Target))
	}
	pre, maxVUs := 0, 0
	for i, s := range segs {
		if s.PreAllocatedVUs < 1 || s.MaxVUs != 0 && s.MaxVUs < s.PreAllocatedVUs {
			t.Errorf("%s segment %d: preAllocatedVUs %d, maxVUs %d", w.Name, i, s.PreAllocatedVUs, s.MaxVUs)
		}
		if w.MaxVUs == 0 && s.MaxVUs != 0 {
			t.Errorf("%s segment %d: maxVUs %d where the whole leaves it unset", w.Name, i, s.MaxVUs)
		}
		pre += s.PreAllocatedVUs
		maxVUs += s.MaxVUs
	}
	// Every segment with a rate needs a VU, as in k6: the sums exceed
	// the whole's only where it has fewer VUs than segments.
	if want := max(w.PreAllocatedVUs, n); pre < w.PreAllocatedVUs || pre > want {
		t.Errorf("%s: preAllocatedVUs sum to %d, want %d..%d", w.Name, pre, w.PreAllocatedVUs, want)
	}
	if w.MaxVUs >= 2*n && maxVUs != w.MaxVUs {
		t.Errorf("%s: maxVUs sum to %d, want %d", w.Name, maxVUs, w.MaxVUs)
	}

	wholeHits := len(hits(t, mustPacer(t, w)))
	segHits := 0
	var times []time.Duration
	for _, s := range segs {
		at := hits(t, mustPacer(t, s))
		segHits += len(at)
		for _, d := range at {
			times = append(times, s.StartTime-w.StartTime+d)
		}
	}
	switch w.Executor {
	case scenario.ConstantArrivalRate:
		if segHits != wholeHits {
			t.Errorf("%s: segments send %d iterations, the whole %d", w.Name, segHits, wholeHits)
		}
		checkInterleaved(t, w, times)
	default:
		// floor(area/N) per segment: at most N-1 short of floor(area).
		if segHits > wholeHits || segHits < wholeHits-(n-1) {
			t.Errorf("%s: segments send %d iterations, the whole %d (N=%d)", w.Name, segHits, wholeHits, n)
		}
	}
}

// checkInterleaved checks that constant-rate segments' iterations fall on
// distinct slots of the whole's grid, as the whole's would.
func checkInterleaved(t *testing.T, w scenario.Scenario, times []time.Duration) {
	t.Helper()
	unit := w.TimeUnit
	if unit == 0 {
		unit = scenario.DefaultTimeUnit
	}
	gap := unit / time.Duration(w.Rate)
	if unit%time.Duration(w.Rate) != 0 {
		return // a gap of fractional nanoseconds drifts; the count is still exact
	}
	seen := map[time.Duration]bool{}
	for _, at := range times {
		if at%gap != 0 || seen[at] {
			t.Errorf("%s: an iteration at %s is off the whole's %s grid or shares its slot", w.Name, at, gap)
			return
		}
		seen[at] = true
	}
}

func mustPacer(t *testing.T, s scenario.Scenario) vegeta.Pacer {
	t.Helper()
	p, err := pacer(t, s)
	if err != nil {
		t.Fatalf("%s: %v", s.Name, err)
	}
	return p
}

// TestSegmentLeavesTheFileAlone: the whole file is shared by the caller (and
// loaded files are immutable), so Segment must copy what it changes.
func TestSegmentLeavesTheFileAlone(t *testing.T) {
	whole := splitFile(80, 10, 0)
	before := fmt.Sprintf("%+v", whole.Scenarios)
	for i := range 4 {
		part := executor.Segment(whole, segment.Segment{Index: i, Count: 4})
		if part == whole || &part.Scenarios[0] == &whole.Scenarios[0] || &part.Scenarios[1].Stages[0] == &whole.Scenarios[1].Stages[0] {
			t.Fatal("Segment shares what it changes with its argument")
		}
	}
	if after := fmt.Sprintf("%+v", whole.Scenarios); after != before {
		t.Errorf("Segment changed its argument:\n%s\nwas\n%s", after, before)
	}
	if one := executor.Segment(whole, segment.Segment{Index: 0, Count: 1}); fmt.Sprintf("%+v", one.Scenarios) != before {
		t.Errorf("segment 0/1 is not the whole:\n%+v", one.Scenarios)
	}
}

// TestSegmentZeroVUs: with fewer VUs than segments, some segments get none of
// a closed-model scenario, and it then does nothing there.
func TestSegmentZeroVUs(t *testing.T) {
	whole := splitFile(4, 1, 0)
	got := []int{}
	for i := range 3 {
		got = append(got, executor.Segment(whole, segment.Segment{Index: i, Count: 3}).Scenarios[2].VUs)
	}
	if fmt.Sprint(got) != "[0 0 1]" {
		t.Errorf("1 VU over 3 segments: %v, want [0 0 1]", got)
	}
}
