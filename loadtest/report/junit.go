package report

import (
	"io"
	"strconv"

	"github.com/taskready/taskready/internal/junit"
	"github.com/taskready/taskready/loadtest/summary"
)

// JUnit writes the verdicts of s as JUnit XML test suites, one test case per verdict.
func JUnit(w io.Writer, s *summary.Summary) error {
	if s == nil {
		return ErrNilSummary
	}
	r := s.Run
	dur := secs(r.Duration)
	stamp := ""
	if !r.Start.IsZero() {
		// The JUnit schema's timestamp has no zone: UTC is implied.
		stamp = r.Start.UTC().Format("2006-01-02T15:04:05")
	}
	o := outcome(s)
	name := r.Name
	if name == "" {
		name = r.ID
	}
	doc := junit.Suites{Name: name, Time: dur}
	add := func(st junit.Suite) {
		st.Timestamp = stamp
		doc.Add(st)
	}

	th := junit.Suite{Name: "thresholds", Time: dur, Properties: junit.Props(
		"run.id", r.ID, "run.name", r.Name, "run.file", r.File, "target", r.Target, "engine", r.Engine,
		"outcome", string(o.Status), "exit_code", strconv.Itoa(o.ExitCode), "aborted", r.Aborted,
	)}
	for _, t := range r.Thresholds {
		c := junit.Case{Name: t.Metric + " " + t.Expression, Classname: "thresholds", Time: secs(0)}
		detail := "observed " + observed(s, t) + where(r.File, t.Line)
		if t.AbortOnFail {
			detail += "\nabortOnFail: true"
		}
		if t.Passed {
			c.SystemOut = junit.Output(detail)
		} else {
			c.Failure = junit.Fail(t.Reason, "threshold", detail)
		}
		th.Cases = append(th.Cases, c)
	}
	add(th)

	ch := junit.Suite{Name: "checks", Time: dur}
	s.RootGroup.Walk(func(g *summary.Group, k *summary.Check) {
		c := junit.Case{Name: k.Name, Classname: "checks" + g.Path, Time: secs(0)}
		n := k.Passes + k.Fails
		if k.Fails > 0 {
			msg := strconv.FormatInt(k.Fails, 10) + " of " + strconv.FormatInt(n, 10) + " failed"
			c.Failure = junit.Fail(msg, "check", msg+" (path "+k.Path+")")
		} else {
			c.SystemOut = junit.Output(strconv.FormatInt(k.Passes, 10) + " of " + strconv.FormatInt(n, 10) + " passed")
		}
		ch.Cases = append(ch.Cases, c)
	})
	add(ch)

	v := r.Validity
	va := junit.Suite{Name: "validity", Time: dur, Properties: junit.Props(
		"valid", strconv.FormatBool(v.Valid),
		"generator_cpu", strconv.FormatFloat(v.GeneratorCPU, 'f', -1, 64),
		"send_lag_p99_ms", strconv.FormatFloat(v.SendLagP99, 'f', -1, 64),
	)}
	for _, vc := range v.Checks {
		c := junit.Case{Name: vc.Name, Classname: "validity", Time: secs(0)}
		msg := "observed " + vc.Observed + " (limit " + vc.Limit + ")"
		if vc.OK {
			c.SystemOut = junit.Output(msg)
		} else {
			c.Failure = junit.Fail(msg, "validity", "the run is invalid: its numbers describe the load generator, not the system under test")
		}
		va.Cases = append(va.Cases, c)
	}
	add(va)

	if len(r.Faults) > 0 {
		fs := junit.Suite{Name: "faults", Time: dur}
		for _, f := range r.Faults {
			errs, window, p95, _ := faultCells(f)
			c := junit.Case{Name: f.Name + ": " + faultWhat(f) + ", " + faultWhen(f), Classname: "faults", Time: secs(0)}
			detail := "errors " + errs + " (" + window + "); p95 " + p95 + "; " + faultRecovery(f) + where(r.File, f.Line)
			if f.Played && f.Error == "" {
				c.SystemOut = junit.Output(detail)
			} else {
				c.Failure = junit.Fail(f.Error, "fault", "the fault could not be played or undone"+where(r.File, f.Line))
			}
			fs.Cases = append(fs.Cases, c)
		}
		add(fs)
	}

	if w := r.Writes; w != nil {
		// The counts are facts; the thresholds suite judges them.
		ws := junit.Suite{Name: "writes", Time: dur}
		c := junit.Case{Name: "read back: " + writesFound(w), Classname: "writes", Time: secs(w.Seconds)}
		out := writesRead(w)
		if w.Error != "" {
			out += "\n" + w.Error
		}
		for _, f := range w.Findings {
			out += "\n" + findingLine(f)
		}
		c.SystemOut = junit.Output(out)
		ws.Cases = append(ws.Cases, c)
		add(ws)
	}

	if len(r.Recoveries) > 0 {
		rs := junit.Suite{Name: "recoveries", Time: dur}
		for _, rc := range r.Recoveries {
			took := rc.Within
			if rc.RecoveredAfter != nil {
				took = *rc.RecoveredAfter
			}
			c := junit.Case{Name: "after " + rc.After + ": " + recoveryBound(s, rc) + " within " + seconds(rc.Within), Classname: "recoveries", Time: secs(took)}
			detail := recoveryResult(rc) + where(r.File, rc.Line)
			if rc.Passed {
				c.SystemOut = junit.Output(detail)
			} else {
				c.Failure = junit.Fail(rc.Reason, "recovery", detail)
			}
			rs.Cases = append(rs.Cases, c)
		}
		add(rs)
	}

	if cmp := r.Comparison; cmp != nil {
		cs := junit.Suite{Name: "comparison", Time: secs(0), Properties: junit.Props("baseline", cmp.Baseline, "verdict", cmp.Verdict)}
		for _, row := range cmp.Rows {
			c := junit.Case{Name: row.Name + " " + row.Metric, Classname: "comparison", Time: secs(0)}
			detail := comparisonValue(row.Metric, row.Old) + " → " + comparisonValue(row.Metric, row.New) + " " + signedPercent(row.Change) +
				" (CI of new−old " + comparisonCI(row.Metric, row.Low, row.High) + "): " + row.Verdict
			if row.Verdict == "regression" {
				c.Failure = junit.Fail(row.Reason, "regression", detail)
			} else {
				c.SystemOut = junit.Output(detail + "\n" + row.Reason)
			}
			cs.Cases = append(cs.Cases, c)
		}
		add(cs)
	}

	return junit.Write(w, doc)
}

// where is "\nscenarios/x.yaml:14", where the scenario file states a
// threshold, so a CI failure points at the line to change.
func where(file string, line int) string {
	if line <= 0 {
		return ""
	}
	if file == "" {
		file = "line"
	}
	return "\n" + file + ":" + strconv.Itoa(line)
}

// secs is a JUnit time attribute: seconds with millisecond precision.
func secs(s float64) string { return junit.Seconds(s) }
