package executor

import (
	"context"
	"fmt"
	"time"

	"github.com/taskready/taskready/loadtest/scenario"
	"github.com/taskready/taskready/loadtest/segment"
)

// perVUIterations is k6's per-vu-iterations: vus VUs run iterations
// iterations each, starting none after maxDuration (0: no limit), in the
// scenario's one phase (the closed model, closed.go).
type perVUIterations struct{ fields }

func init() {
	register(scenario.PerVUIterations, func(s scenario.Scenario) Schedule { return perVUIterations{fields{s}} })
}

// Length is maxDuration: the schedule may end sooner, when every VU ran
// its iterations, and has no set end without one.
func (p perVUIterations) Length() time.Duration { return p.s.MaxDuration }

func (p perVUIterations) Phase(elapsed time.Duration) string { return p.steady().at(elapsed) }

func (p perVUIterations) Spans() []Span { return p.steady().spans() }

func (p perVUIterations) steady() steady { return steady{p.s.Phase, p.s.MaxDuration} }

func (p perVUIterations) PeakVUs() (int, string) { return p.s.VUs, "vus" }

// Share splits the VUs, each still running every iteration; a segment
// may get none.
func (p perVUIterations) Share(seg segment.Segment) scenario.Scenario {
	sc := p.s
	sc.VUs = seg.Share(sc.VUs)
	return sc
}

// validate lets 0 VUs through, as constant-vus does.
func (p perVUIterations) validate() error {
	if p.s.VUs < 0 || p.s.Iterations <= 0 || p.s.MaxDuration < 0 {
		return fmt.Errorf("scenario %q: %s needs vus of at least 0 and positive iterations", p.s.Name, p.s.Executor)
	}
	return nil
}

func (p perVUIterations) run(ctx context.Context, r *runner) error {
	r.closed(ctx, p.s.MaxDuration, p.s.Iterations)
	return nil
}
