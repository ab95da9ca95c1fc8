package executor_test

import (
	"context"
	"testing"
	"time"

	"github.com/taskready/taskready/loadtest/executor"
	"github.com/taskready/taskready/loadtest/scenario"
)

// TestZeroVUs: an execution segment may get none of a closed-model
// scenario's VUs; the scenario then runs nothing on that worker rather
// than failing the run.
func TestZeroVUs(t *testing.T) {
	a := newAPI(t, 0)
	for _, s := range []scenario.Scenario{
		{Name: "cv", Executor: scenario.ConstantVUs, VUs: 0, Duration: time.Second, Journeys: weights("browse", 1)},
		{Name: "pvi", Executor: scenario.PerVUIterations, VUs: 0, Iterations: 3, MaxDuration: time.Second, Journeys: weights("browse", 1)},
		{Name: "rv", Executor: scenario.RampingVUs, StartVUs: 0, Journeys: weights("browse", 1),
			Stages: []scenario.Stage{{Duration: 100 * time.Millisecond, Target: 0}}},
	} {
		c, samples, err := run(t, context.Background(), a, s)
		if err != nil || c != (executor.Counters{}) || len(samples) != 0 {
			t.Errorf("%s of 0 VUs: %+v, %d samples, %v; want nothing run and no error", s.Executor, c, len(samples), err)
		}
	}
	if n := a.requests.Load(); n != 0 {
		t.Errorf("%d requests from scenarios of 0 VUs", n)
	}
	for _, s := range []scenario.Scenario{
		{Name: "cv", Executor: scenario.ConstantVUs, VUs: -1, Duration: time.Second, Journeys: weights("browse", 1)},
		{Name: "pvi", Executor: scenario.PerVUIterations, VUs: -1, Iterations: 3, Journeys: weights("browse", 1)},
	} {
		if _, _, err := run(t, context.Background(), a, s); err == nil {
			t.Errorf("%s of -1 VUs ran", s.Executor)
		}
	}
}
