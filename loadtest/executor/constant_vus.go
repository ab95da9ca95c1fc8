package executor

import (
	"context"
	"fmt"
	"time"

	"github.com/taskready/taskready/loadtest/scenario"
	"github.com/taskready/taskready/loadtest/segment"
)

// constantVUs is k6's constant-vus: vus VUs loop over their iterations
// for duration, in the scenario's one phase (the closed model, closed.go).
type constantVUs struct{ fields }

func init() {
	register(scenario.ConstantVUs, func(s scenario.Scenario) Schedule { return constantVUs{fields{s}} })
}

func (c constantVUs) Length() time.Duration { return c.s.Duration }

func (c constantVUs) Phase(elapsed time.Duration) string { return c.steady().at(elapsed) }

func (c constantVUs) Spans() []Span { return c.steady().spans() }

func (c constantVUs) steady() steady { return steady{c.s.Phase, c.s.Duration} }

func (c constantVUs) PeakVUs() (int, string) { return c.s.VUs, "vus" }

// Share splits the VUs; a segment may get none.
func (c constantVUs) Share(seg segment.Segment) scenario.Scenario {
	sc := c.s
	sc.VUs = seg.Share(sc.VUs)
	return sc
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

func (c constantVUs) run(ctx context.Context, r *runner) error {
	r.closed(ctx, c.s.Duration, 0)
	return nil
}
