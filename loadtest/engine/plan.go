package engine

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/taskready/taskready/loadtest/executor"
	"github.com/taskready/taskready/loadtest/fault"
	"github.com/taskready/taskready/loadtest/scenario"
)

// WritePlan writes the execution plan of f against target, as k6 prints
// its own before a run: for each scenario its executor and what its
// schedule does, its stages or phase, when it starts and stops, how long
// its graceful stop may take and its journeys by weight; above them the
// run's planned duration and the most VUs it may hold. A run prints it
// before its first request, so that a wrong rate or duration is seen
// before it loads anything.
func WritePlan(w io.Writer, f *scenario.File, target string) error {
	if f == nil || len(f.Scenarios) == 0 {
		return fmt.Errorf("engine: no scenario to plan")
	}
	var (
		b                  strings.Builder
		planned, withGrace time.Duration
		vus                int
		open               []string // scenarios with no set end
		nameWidth          int
	)
	type entry struct {
		s     scenario.Scenario
		sched executor.Schedule
		grace time.Duration
	}
	entries := make([]entry, len(f.Scenarios))
	for i, s := range f.Scenarios {
		sched, err := executor.Plan(s)
		if err != nil {
			return fmt.Errorf("engine: plan: %w", err)
		}
		e := entry{s: s, sched: sched, grace: grace(f, s)}
		entries[i] = e
		n, _ := sched.PeakVUs()
		vus += n
		nameWidth = max(nameWidth, len(s.Name))
		end := s.StartTime + sched.Length()
		if sched.Length() == 0 {
			open = append(open, s.Name)
		}
		planned = max(planned, end)
		withGrace = max(withGrace, end+e.grace)
	}

	fmt.Fprintf(&b, "execution plan: %s against %s\n", f.Name, target)
	fmt.Fprintf(&b, "  scenarios: %d   max VUs: %d   duration: %s planned", len(entries), vus, planned)
	if withGrace > planned {
		fmt.Fprintf(&b, ", %s at most with the graceful stop", withGrace)
	}
	for _, name := range open {
		fmt.Fprintf(&b, "; %s: until its iterations are done", name)
	}
	b.WriteString("\n\n")

	indent := strings.Repeat(" ", nameWidth+4)
	for _, e := range entries {
		s := e.s
		fmt.Fprintf(&b, "  %-*s  %s: %s\n", nameWidth, s.Name, s.Executor, e.sched.Describe())
		if steps := stages(s.Stages); steps != "" {
			fmt.Fprintf(&b, "%sstages: %s\n", indent, steps)
		} else if s.Phase != "" {
			fmt.Fprintf(&b, "%sphase: %s\n", indent, s.Phase)
		}
		fmt.Fprintf(&b, "%sstarts at %s", indent, s.StartTime)
		if l := e.sched.Length(); l > 0 {
			fmt.Fprintf(&b, ", stops at %s", s.StartTime+l)
		}
		fmt.Fprintf(&b, "; graceful stop: iterations in flight finish, within %s\n", e.grace)
		fmt.Fprintf(&b, "%sjourneys: %s\n", indent, journeys(s.Journeys))
	}
	if len(f.Faults) > 0 {
		plan, err := fault.Plan(f.Faults, phaseStart(f))
		if err != nil {
			return err
		}
		b.WriteString("\n  faults:\n")
		width := 0
		for _, p := range plan {
			width = max(width, len(p.Name))
		}
		for _, p := range plan {
			until := "never undone"
			if p.End != fault.Never {
				until = "until " + p.End.String()
			}
			fmt.Fprintf(&b, "    %-*s  %s at %s, %s\n", width, p.Name, fault.Describe(p.Fault), p.Start, until)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// grace is how long s's iterations in flight at its end may take to
// finish, the graceful stop k6 sets and this engine derives: the longest
// of its journeys with every step at its timeout, then its think time
// (a loaded file gives every step a timeout).
func grace(f *scenario.File, s scenario.Scenario) time.Duration {
	return f.Longest(s, func(st *scenario.Step) time.Duration { return st.Timeout + st.Think })
}

// stages is "30s → 50 warm-up, 3m0s → 50 steady": each stage's duration,
// target (in the unit the executor's description gives) and phase.
func stages(ss []scenario.Stage) string {
	parts := make([]string, len(ss))
	for i, st := range ss {
		parts[i] = fmt.Sprintf("%s → %d", st.Duration, st.Target)
		if st.Phase != "" {
			parts[i] += " " + st.Phase
		}
	}
	return strings.Join(parts, ", ")
}

// journeys is "browse 80%, write 20% (weights 4, 1)", or "write 100%".
func journeys(wj []scenario.WeightedJourney) string {
	total := 0
	for _, j := range wj {
		total += j.Weight
	}
	shares := make([]string, len(wj))
	weights := make([]string, len(wj))
	for i, j := range wj {
		share := 0.0
		if total > 0 {
			share = float64(j.Weight) / float64(total) * 100
		}
		shares[i] = fmt.Sprintf("%s %s%%", j.Name, strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.1f", share), "0"), "."))
		weights[i] = fmt.Sprint(j.Weight)
	}
	out := strings.Join(shares, ", ")
	if len(wj) > 1 {
		out += " (weights " + strings.Join(weights, ", ") + ")"
	}
	return out
}
