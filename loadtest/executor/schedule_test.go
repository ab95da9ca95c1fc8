package executor_test

import (
	"errors"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/taskready/taskready/loadtest/executor"
	"github.com/taskready/taskready/loadtest/scenario"
)

const s, m = time.Second, time.Minute

func shipped(t *testing.T, name string) *scenario.File {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	f, err := scenario.Load(filepath.Join(filepath.Dir(file), "..", "..", "scenarios", name))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func plan(t testing.TB, sc scenario.Scenario) executor.Schedule {
	t.Helper()
	sched, err := executor.Plan(sc)
	if err != nil {
		t.Fatal(err)
	}
	return sched
}

// pacer is the pacer of an open-model scenario's schedule, or its error.
func pacer(t testing.TB, sc scenario.Scenario) (vegeta.Pacer, error) {
	t.Helper()
	paced, ok := plan(t, sc).(executor.Paced)
	if !ok {
		t.Fatalf("%s: the schedule of %s is not paced", sc.Name, sc.Executor)
	}
	return paced.Pacer()
}

func TestPacerOfShippedScenarios(t *testing.T) {
	want := map[string]map[string]struct {
		hits int64
		str  string
	}{
		"spike.yaml": {
			"baseline": {7200, "Constant{30 hits/1s for 4m0s}"},
			"burst":    {18000, "Ramping{0→300 over 10s, 300 for 50s, 300→0 over 10s, 0 for 1m50s}"},
		},
		"load.yaml": {
			"traffic": {10575, "Ramping{5→50 over 30s, 50 for 3m0s, 50→0 over 30s}"},
		},
	}
	for file, scenarios := range want {
		f := shipped(t, file)
		if len(f.Scenarios) != len(scenarios) {
			t.Fatalf("%s: %d scenarios, want %d", file, len(f.Scenarios), len(scenarios))
		}
		for _, sc := range f.Scenarios {
			w, ok := scenarios[sc.Name]
			if !ok {
				t.Fatalf("%s: unexpected scenario %q", file, sc.Name)
			}
			p, err := pacer(t, sc)
			if err != nil {
				t.Fatalf("%s/%s: %v", file, sc.Name, err)
			}
			if got := p.(interface{ String() string }).String(); got != w.str {
				t.Errorf("%s/%s: %s, want %s", file, sc.Name, got, w.str)
			}
			if hits := simulate(p); hits != w.hits {
				t.Errorf("%s/%s: %d hits, want %d", file, sc.Name, hits, w.hits)
			}
		}
	}
}

func TestPacerErrors(t *testing.T) {
	for _, sc := range []scenario.Scenario{
		{Name: "rate 0", Executor: scenario.ConstantArrivalRate, Duration: m},
		{Name: "no stages", Executor: scenario.RampingArrivalRate},
		{Name: "negative", Executor: scenario.RampingArrivalRate, Stages: []scenario.Stage{{Duration: m, Target: -1}}},
		{Name: "unit", Executor: scenario.RampingArrivalRate, TimeUnit: -s, Stages: []scenario.Stage{{Duration: m, Target: 1}}},
		{Name: "start", Executor: scenario.RampingArrivalRate, StartRate: -1, Stages: []scenario.Stage{{Duration: m, Target: 1}}},
	} {
		if p, err := pacer(t, sc); err == nil {
			t.Errorf("%s: Pacer = %v, want an error", sc.Name, p)
		}
	}
	// A zero TimeUnit is the default, a second.
	p, err := pacer(t, scenario.Scenario{Executor: scenario.ConstantArrivalRate, Rate: 2, Duration: 3 * s})
	if err != nil || simulate(p) != 6 {
		t.Errorf("zero time unit: %v, %v", p, err)
	}
}

// TestClosedModelIsNotPaced: the VU executors have no arrival rate, so
// their schedules have no pacer to ask for.
func TestClosedModelIsNotPaced(t *testing.T) {
	for _, sc := range []scenario.Scenario{
		{Name: "vus", Executor: scenario.ConstantVUs, VUs: 10, Duration: m},
		{Name: "ramp-vus", Executor: scenario.RampingVUs, Stages: []scenario.Stage{{Duration: m, Target: 10}}},
		{Name: "iters", Executor: scenario.PerVUIterations, VUs: 1, Iterations: 1},
	} {
		if _, ok := plan(t, sc).(executor.Paced); ok {
			t.Errorf("%s: the schedule of %s is paced", sc.Name, sc.Executor)
		}
	}
}

func TestPlanUnknownExecutor(t *testing.T) {
	if _, err := executor.Plan(scenario.Scenario{Name: "x", Executor: "constant-vu"}); !errors.Is(err, executor.ErrUnknown) {
		t.Errorf("Plan = %v, want ErrUnknown", err)
	}
	if _, err := executor.Plan(scenario.Scenario{Name: "none"}); !errors.Is(err, executor.ErrUnknown) {
		t.Errorf("Plan without an executor = %v, want ErrUnknown", err)
	}
}

func TestPhase(t *testing.T) {
	spike, load := shipped(t, "spike.yaml"), shipped(t, "load.yaml")
	byName := func(f *scenario.File, name string) scenario.Scenario {
		for _, sc := range f.Scenarios {
			if sc.Name == name {
				return sc
			}
		}
		t.Fatalf("no scenario %q", name)
		return scenario.Scenario{}
	}
	baseline, burst, traffic := byName(spike, "baseline"), byName(spike, "burst"), byName(load, "traffic")
	iters := scenario.Scenario{Executor: scenario.PerVUIterations, MaxDuration: m, Phase: "steady"}
	for _, tc := range []struct {
		sc      scenario.Scenario
		elapsed time.Duration
		want    string
	}{
		{baseline, -1, ""}, {baseline, 0, "baseline"}, {baseline, 4*m - 1, "baseline"}, {baseline, 4 * m, ""},
		{burst, -1, ""}, {burst, 0, "spike"}, {burst, 10 * s, "spike"}, {burst, m - 1, "spike"},
		{burst, m, "recovery"}, {burst, 3*m - 1, "recovery"}, {burst, 3 * m, ""},
		{traffic, 0, "warm-up"}, {traffic, 30*s - 1, "warm-up"}, {traffic, 30 * s, "steady"},
		{traffic, 3*m + 30*s - 1, "steady"}, {traffic, 3*m + 30*s, "ramp-down"}, {traffic, 4*m - 1, "ramp-down"},
		{traffic, 4 * m, ""},
		{iters, 0, "steady"}, {iters, m, ""},
		{scenario.Scenario{Executor: scenario.ConstantVUs, Duration: m}, 0, ""},
	} {
		if got := plan(t, tc.sc).Phase(tc.elapsed); got != tc.want {
			t.Errorf("Phase(%s, %s) = %q, want %q", tc.sc.Name, tc.elapsed, got, tc.want)
		}
	}
}

// TestLengthAndSpans: each executor's schedule lasts as its fields say,
// and its spans merge adjacent stages of one phase.
func TestLengthAndSpans(t *testing.T) {
	stages := []scenario.Stage{{Duration: 10 * s, Target: 5, Phase: "up"}, {Duration: 20 * s, Target: 5, Phase: "up"},
		{Duration: 5 * s, Target: 0}, {Duration: 15 * s, Target: 2, Phase: "down"}}
	merged := []executor.Span{{Phase: "up", From: 0, To: 30 * s}, {Phase: "down", From: 35 * s, To: 50 * s}}
	for _, tc := range []struct {
		sc     scenario.Scenario
		length time.Duration
		spans  []executor.Span
	}{
		{scenario.Scenario{Executor: scenario.ConstantArrivalRate, Rate: 1, Duration: m, Phase: "steady"}, m, []executor.Span{{Phase: "steady", To: m}}},
		{scenario.Scenario{Executor: scenario.ConstantVUs, VUs: 1, Duration: m}, m, nil},
		{scenario.Scenario{Executor: scenario.PerVUIterations, VUs: 1, Iterations: 1, MaxDuration: m, Phase: "p"}, m, []executor.Span{{Phase: "p", To: m}}},
		{scenario.Scenario{Executor: scenario.PerVUIterations, VUs: 1, Iterations: 1}, 0, nil},
		{scenario.Scenario{Executor: scenario.RampingArrivalRate, Stages: stages}, 50 * s, merged},
		{scenario.Scenario{Executor: scenario.RampingVUs, Stages: stages}, 50 * s, merged},
	} {
		sched := plan(t, tc.sc)
		if got := sched.Length(); got != tc.length {
			t.Errorf("%s: length %s, want %s", tc.sc.Executor, got, tc.length)
		}
		got := sched.Spans()
		if len(got) != len(tc.spans) {
			t.Errorf("%s: spans %+v, want %+v", tc.sc.Executor, got, tc.spans)
			continue
		}
		for i := range got {
			if got[i] != tc.spans[i] {
				t.Errorf("%s: span %d %+v, want %+v", tc.sc.Executor, i, got[i], tc.spans[i])
			}
		}
	}
}
