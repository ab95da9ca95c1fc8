package executor

// The example of docs/executors.md: a new executor is this one file plus
// its schema entry (here registered, being a test's; a shipped one writes
// it in scenario/executor.go and scenarios/scenario.schema.json).
// burst_engine_test.go runs it through the engine.

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/taskready/taskready/loadtest/scenario"
)

// Burst starts vus iterations at once every timeUnit for duration, each
// on a VU of its own: ceil(duration/timeUnit) bursts, whatever the
// target's latency. Burst k is due at k·timeUnit but starts no sooner
// than the last one ended, and its iterations are timed from when it was
// due, as the open model times its own, so a wait for a slow burst shows
// as latency rather than vanishing.
const Burst scenario.Executor = "burst"

type burst struct {
	fixedVUs
	steady
}

func init() {
	err := scenario.RegisterExecutor(Burst, scenario.ExecutorSpec{Required: []string{"vus", "duration"}, Allowed: []string{"timeUnit", "phase"}})
	if err != nil {
		panic(err)
	}
	register(Burst, func(s scenario.Scenario) Schedule { return burst{fixedVUs{fields{s}}, steady{s.Phase, s.Duration}} })
}

func (b burst) validate() error {
	if b.s.VUs < 0 || b.s.Duration <= 0 || b.s.TimeUnit < 0 {
		return fmt.Errorf("scenario %q: %s needs vus of at least 0, a positive duration and a timeUnit of at least 0", b.s.Name, b.s.Executor)
	}
	return nil
}

func (b burst) Describe() string {
	return fmt.Sprintf("%d VUs at once every %s for %s", b.s.VUs, b.s.TimeUnit, b.s.Duration)
}

func (b burst) run(ctx context.Context, r *runner) error {
	unit := b.s.TimeUnit
	if unit == 0 {
		unit = scenario.DefaultTimeUnit
	}
	vus := make([]*vu, b.s.VUs)
	for i := range vus {
		vus[i] = &vu{id: i + 1}
	}
	r.c.vusMax.Store(int64(len(vus)))
	r.start = time.Now()
	for k := time.Duration(0); k*unit < b.s.Duration; k++ {
		due := r.start.Add(k * unit)
		if sleep(ctx, time.Until(due)) != nil {
			return nil // Run returns ctx's error
		}
		var wg sync.WaitGroup
		for _, v := range vus {
			wg.Go(func() { r.iteration(ctx, v, due, due) })
		}
		wg.Wait()
	}
	return nil
}
