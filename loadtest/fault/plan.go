package fault

import (
	"fmt"
	"math"
	"time"

	"github.com/taskready/taskready/loadtest/scenario"
)

// Never is the End of a fault that is never undone: a kill with neither
// for nor until.
const Never = time.Duration(math.MaxInt64)

// Planned is a fault with its start and end resolved on the run's
// schedule, both from the run's start.
type Planned struct {
	scenario.Fault
	Start, End time.Duration
}

// Plan resolves when each fault starts and ends. phaseStart says when a
// phase first begins, from the run's start (false: no such phase).
func Plan(faults []scenario.Fault, phaseStart func(phase string) (time.Duration, bool)) ([]Planned, error) {
	out := make([]Planned, 0, len(faults))
	for _, f := range faults {
		p := Planned{Fault: f, Start: f.At, End: Never}
		if f.Phase != "" {
			at, ok := phaseStart(f.Phase)
			if !ok {
				return nil, fmt.Errorf("fault %s (line %d): no phase %q in the schedule", f.Name, f.Line, f.Phase)
			}
			p.Start = at + f.Offset
		}
		switch {
		case f.For > 0:
			p.End = p.Start + f.For
		case f.Until != "":
			at, ok := phaseStart(f.Until)
			if !ok {
				return nil, fmt.Errorf("fault %s (line %d): no phase %q in the schedule", f.Name, f.Line, f.Until)
			}
			if at <= p.Start {
				return nil, fmt.Errorf("fault %s (line %d): phase %s starts at %s, before the fault does (%s)", f.Name, f.Line, f.Until, at, p.Start)
			}
			p.End = at
		}
		out = append(out, p)
	}
	return out, nil
}
