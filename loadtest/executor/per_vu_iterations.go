package executor

import (
	"context"
	"fmt"

	"github.com/taskready/taskready/loadtest/scenario"
)

// perVUIterations is k6's per-vu-iterations: vus VUs run iterations
// iterations each, starting none after maxDuration (0: no limit), in the
// scenario's one phase (the closed model, closed.go). Its length is
// maxDuration: it may end sooner, when every VU ran its iterations, and
// has no set end without one.
type perVUIterations struct {
	fixedVUs
	steady
}

func init() {
	register(scenario.PerVUIterations, func(s scenario.Scenario) Schedule {
		return perVUIterations{fixedVUs{fields{s}}, steady{s.Phase, s.MaxDuration}}
	})
}

// validate lets 0 VUs through, as constant-vus does.
func (p perVUIterations) validate() error {
	if p.s.VUs < 0 || p.s.Iterations <= 0 || p.s.MaxDuration < 0 {
		return fmt.Errorf("scenario %q: %s needs vus of at least 0 and positive iterations", p.s.Name, p.s.Executor)
	}
	return nil
}

// Describe is the iterations of each VU and the time limit.
func (p perVUIterations) Describe() string {
	limit := "with no time limit"
	if p.s.MaxDuration > 0 {
		limit = "within " + p.s.MaxDuration.String()
	}
	return fmt.Sprintf("%s for each of %s (%d in all), %s", plural(p.s.Iterations, "iteration"), plural(p.s.VUs, "VU"), p.s.Iterations*p.s.VUs, limit)
}

func (p perVUIterations) run(ctx context.Context, r *runner) error {
	r.closed(ctx, p.s.MaxDuration, p.s.Iterations)
	return nil
}
