package bench

import (
	"fmt"
	"io"
	"strings"
)

// writeGoals prints the goals and whether each condition met them: the
// lines a note quotes.
func writeGoals(w io.Writer, conds []condition) {
	header := []string{"goal"}
	for _, c := range conds {
		header = append(header, c.name)
	}
	tb := table{header: header}
	closed := []string{fmt.Sprintf("closed model: harness ≥ %.2f× wrk quiet, ≥ bombardier's share crowded", quietRatioGoal)}
	open := []string{fmt.Sprintf("open model: within %.0f%% and valid up to half the closed max (crowded: or p99 ≤ 2× vegeta's, or said invalid)", maxShort*100)}
	bias := []string{fmt.Sprintf("dispatch bias ≤ %s ms", ms(maxBias))}
	for _, c := range conds {
		closed = append(closed, c.closedGoal())
		open = append(open, c.openGoal())
		bias = append(bias, c.biasGoal())
	}
	tb.add(closed...)
	tb.add(open...)
	tb.add(bias...)
	load := []string{"load average after the open model"}
	for _, c := range conds {
		load = append(load, loadNumbers(c.load))
	}
	tb.add(load...)
	fmt.Fprintln(w, "\n### goals")
	fmt.Fprintln(w)
	tb.write(w)
}

// closedGoal is the closed-model goal of c for the engine's best
// transport.
func (c condition) closedGoal() string {
	t := c.closed
	best, ratio := "", -1.0
	for _, r := range t.rows {
		if r.engine && t.ratio(r) > ratio {
			best, ratio = r.name, t.ratio(r)
		}
	}
	if best == "" {
		return "not measured"
	}
	goal := closedGoalQuiet
	if c.crowded {
		goal = closedGoalCrowded
	}
	r, _ := t.find(best)
	return fmt.Sprintf("%.2f× wrk, %s: %s", ratio, best, goal(t, r))
}

// openGoal lists the engine's rates up to half the closed max that
// missed their goal.
func (c condition) openGoal() string {
	var missed []string
	top := 0
	for _, r := range c.open.rows {
		if !r.engine || r.rate > c.open.half {
			continue
		}
		top = max(top, r.rate)
		if g := c.open.goal(r, c.crowded); strings.HasPrefix(g, "missed") {
			missed = append(missed, thousands(float64(r.rate))+"/s")
		}
	}
	switch {
	case top == 0:
		return "no rate up to half the max"
	case len(missed) > 0:
		return "missed at " + strings.Join(missed, ", ")
	default:
		return "met up to " + thousands(float64(top)) + "/s"
	}
}

// biasGoal is c's dispatch bias against its goal.
func (c condition) biasGoal() string {
	e, ok := c.open.find("harness", c.open.bias)
	if !ok {
		return "not measured"
	}
	bias := e.p50 - e.sentP50
	return fmt.Sprintf("%s ms at %s/s: %s", ms(bias), thousands(float64(c.open.bias)), verdict(bias <= maxBias, ""))
}

// loadNumbers are the three load averages of a loadAverage line.
func loadNumbers(line string) string {
	if _, after, ok := strings.Cut(line, "load average:"); ok {
		return strings.TrimSpace(after)
	}
	return line
}
