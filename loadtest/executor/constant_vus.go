package executor

import (
	"context"
	"fmt"

	"github.com/taskready/taskready/loadtest/scenario"
)

// constantVUs is k6's constant-vus: vus VUs loop over their iterations
// for duration, in the scenario's one phase (the closed model, closed.go).
type constantVUs struct {
	fixedVUs
	steady
}

func init() {
	register(scenario.ConstantVUs, func(s scenario.Scenario) Schedule {
		return constantVUs{fixedVUs{fields{s}}, steady{s.Phase, s.Duration}}
	})
}

// validate lets 0 VUs through: a scenario that runs nothing, an execution
// segment's share of a scenario with fewer VUs than segments (package
// segment). Files never have one: the loader wants at least 1.
func (c constantVUs) validate() error {
	if c.s.VUs < 0 || c.s.Duration <= 0 {
		return fmt.Errorf("scenario %q: %s needs vus of at least 0 and a positive duration", c.s.Name, c.s.Executor)
	}
	return nil
}

// Describe is the VUs and the duration.
func (c constantVUs) Describe() string {
	return fmt.Sprintf("%s looping for %s", plural(c.s.VUs, "VU"), c.s.Duration)
}

func (c constantVUs) run(ctx context.Context, r *runner) error {
	r.closed(ctx, c.s.Duration, 0)
	return nil
}
