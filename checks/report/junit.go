package report

import (
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/taskready/taskready/checks/check"
	"github.com/taskready/taskready/checks/readiness"
	"github.com/taskready/taskready/internal/junit"
)

// JUnit writes r as JUnit XML, the result format every CI system shows
// natively: a suite per category with a test case per check, named by its
// stable id so that CI history follows it; a failure for a failed or
// errored check (type "fail" or "error", with severity, evidence and
// fix), skipped for a not-applicable or ignored one, and a warning in the
// case's output. A last suite, "readiness.gates", has a case per gate and
// the run's score in its properties, so a failed gate is a failed test.
func JUnit(w io.Writer, r *readiness.Report) error {
	if r == nil {
		return ErrNilReport
	}
	stamp := ""
	if !r.Run.Start.IsZero() {
		// The JUnit schema's timestamp has no zone: UTC is implied.
		stamp = r.Run.Start.UTC().Format("2006-01-02T15:04:05")
	}
	doc := junit.Suites{Name: "readiness", Time: secs(r.Run.Duration)}
	add := func(st junit.Suite) {
		st.Timestamp = stamp
		doc.Add(st)
	}

	// Suites in category order, cases in the report's order within.
	type suite struct {
		junit.Suite
		took time.Duration
	}
	byCat := map[check.Category]*suite{}
	var order []check.Category
	for _, c := range r.Categories {
		score := "n/a"
		if c.Score.Defined() {
			score = strconv.Itoa(c.Score.Value)
		}
		byCat[c.Category] = &suite{Suite: junit.Suite{Name: "readiness." + string(c.Category), Properties: junit.Props("score", score, "grade", c.Score.Grade)}}
		order = append(order, c.Category)
	}
	for _, res := range r.Results {
		st := byCat[res.Category]
		if st == nil { // a report edited by hand; keep its result anyway
			st = &suite{Suite: junit.Suite{Name: "readiness." + string(res.Category)}}
			byCat[res.Category] = st
			order = append(order, res.Category)
		}
		st.Cases = append(st.Cases, junitCaseOf(res))
		st.took += res.Took
	}
	for _, c := range order {
		st := byCat[c]
		st.Time = secs(st.took)
		add(st.Suite)
	}

	gates := junit.Suite{Name: "readiness.gates", Time: secs(r.Run.Duration), Properties: junit.Props(
		"run.id", r.Run.ID, "target", r.Run.Target, "tool_version", r.Run.ToolVersion, "policy", r.Run.Policy,
		"score", scoreValue(r.Score), "grade", r.Score.Grade, "score_version", r.Run.ScoreVersion,
		"passed", strconv.FormatBool(r.Passed), "exit_code", strconv.Itoa(r.ExitCode),
	)}
	for _, g := range r.Gates {
		c := junit.Case{Name: g.Name, Classname: "readiness.gates", Time: secs(0)}
		if g.Passed {
			c.SystemOut = junit.Output(g.Rule + ": " + g.Detail)
		} else {
			c.Failure = junit.Fail(g.Detail, "gate", g.Rule+"\n"+g.Detail)
		}
		gates.Cases = append(gates.Cases, c)
	}
	add(gates)
	return junit.Write(w, doc)
}

func scoreValue(s readiness.Score) string {
	if !s.Defined() {
		return "n/a"
	}
	return strconv.Itoa(s.Value)
}

func junitCaseOf(res readiness.Result) junit.Case {
	c := junit.Case{Name: res.ID, Classname: "readiness." + string(res.Category), Time: secs(res.Took)}
	detail := junitDetail(res)
	switch {
	case res.Ignored:
		c.Skipped = &junit.Skipped{Message: "ignored by policy: " + res.Override.Reason}
		c.SystemOut = junit.Output(detail)
	case res.EffectiveStatus == check.NotApplicable:
		c.Skipped = &junit.Skipped{Message: "not applicable: " + res.Message}
		c.SystemOut = junit.Output(detail)
	case res.EffectiveStatus == check.Fail || res.EffectiveStatus == check.Error:
		c.Failure = junit.Fail(res.Message, string(res.EffectiveStatus)+" ("+string(res.EffectiveSeverity)+")", detail)
	default:
		c.SystemOut = junit.Output(detail)
	}
	return c
}

// junitDetail is everything a reader of the CI log needs about res, as
// plain text.
func junitDetail(res readiness.Result) string {
	var b strings.Builder
	line := func(parts ...string) {
		b.WriteString(strings.Join(parts, ""))
		b.WriteByte('\n')
	}
	line(readiness.StatusWord(res.EffectiveStatus), " ", severityText(res), ": ", res.Title)
	if res.Gating {
		line("blocks release (fails a gate)")
	}
	line(res.Message)
	for i, ev := range res.Evidence {
		line()
		line("evidence ", strconv.Itoa(i+1), ":")
		for _, f := range []struct{ label, s string }{
			{"request", ev.Request}, {"response", ev.Response}, {"expected", ev.Expected}, {"observed", ev.Observed}, {"note", ev.Note},
		} {
			if f.s == "" {
				continue
			}
			line("  ", f.label, ":")
			for _, l := range strings.Split(strings.TrimRight(f.s, "\n"), "\n") {
				line("    ", l)
			}
		}
	}
	if res.Remediation != "" {
		line()
		line("fix: ", res.Remediation)
	}
	if len(res.References) > 0 {
		line("references: ", strings.Join(res.References, ", "))
	}
	if o := overrideText(res); o != "" {
		line("policy: ", o)
	}
	return strings.TrimRight(b.String(), "\n")
}

// secs is d in seconds with millisecond precision, JUnit's time.
func secs(d time.Duration) string { return junit.Seconds(d.Seconds()) }
