package report

import (
	"encoding/xml"
	"io"
	"strconv"

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
	doc := junitSuites{Name: name, Time: dur}
	add := func(st junitSuite) {
		st.Timestamp = stamp
		for _, c := range st.Cases {
			st.Tests++
			if c.Failure != nil {
				st.Failures++
			}
		}
		doc.Tests += st.Tests
		doc.Failures += st.Failures
		doc.Suites = append(doc.Suites, st)
	}

	th := junitSuite{Name: "thresholds", Time: dur, Properties: props(
		"run.id", r.ID, "run.name", r.Name, "run.file", r.File, "target", r.Target, "engine", r.Engine,
		"outcome", string(o.Status), "exit_code", strconv.Itoa(o.ExitCode), "aborted", r.Aborted,
	)}
	for _, t := range r.Thresholds {
		c := junitCase{Name: t.Metric + " " + t.Expression, Classname: "thresholds", Time: secs(0)}
		detail := "observed " + observed(s, t) + where(r.File, t.Line)
		if t.AbortOnFail {
			detail += "\nabortOnFail: true"
		}
		if t.Passed {
			c.SystemOut = detail
		} else {
			c.Failure = &junitFailure{Message: t.Reason, Type: "threshold", Text: detail}
		}
		th.Cases = append(th.Cases, c)
	}
	add(th)

	ch := junitSuite{Name: "checks", Time: dur}
	s.RootGroup.Walk(func(g *summary.Group, k *summary.Check) {
		c := junitCase{Name: k.Name, Classname: "checks" + g.Path, Time: secs(0)}
		n := k.Passes + k.Fails
		if k.Fails > 0 {
			msg := strconv.FormatInt(k.Fails, 10) + " of " + strconv.FormatInt(n, 10) + " failed"
			c.Failure = &junitFailure{Message: msg, Type: "check", Text: msg + " (path " + k.Path + ")"}
		} else {
			c.SystemOut = strconv.FormatInt(k.Passes, 10) + " of " + strconv.FormatInt(n, 10) + " passed"
		}
		ch.Cases = append(ch.Cases, c)
	})
	add(ch)

	v := r.Validity
	va := junitSuite{Name: "validity", Time: dur, Properties: props(
		"valid", strconv.FormatBool(v.Valid),
		"generator_cpu", strconv.FormatFloat(v.GeneratorCPU, 'f', -1, 64),
		"send_lag_p99_ms", strconv.FormatFloat(v.SendLagP99, 'f', -1, 64),
	)}
	for _, vc := range v.Checks {
		c := junitCase{Name: vc.Name, Classname: "validity", Time: secs(0)}
		msg := "observed " + vc.Observed + " (limit " + vc.Limit + ")"
		if vc.OK {
			c.SystemOut = msg
		} else {
			c.Failure = &junitFailure{Message: msg, Type: "validity", Text: "the run is invalid: its numbers describe the load generator, not the system under test"}
		}
		va.Cases = append(va.Cases, c)
	}
	add(va)

	if len(r.Recoveries) > 0 {
		rs := junitSuite{Name: "recoveries", Time: dur}
		for _, rc := range r.Recoveries {
			took := rc.Within
			if rc.RecoveredAfter != nil {
				took = *rc.RecoveredAfter
			}
			c := junitCase{Name: "after " + rc.After + ": " + recoveryBound(s, rc) + " within " + seconds(rc.Within), Classname: "recoveries", Time: secs(took)}
			detail := recoveryResult(rc) + where(r.File, rc.Line)
			if rc.Passed {
				c.SystemOut = detail
			} else {
				c.Failure = &junitFailure{Message: rc.Reason, Type: "recovery", Text: detail}
			}
			rs.Cases = append(rs.Cases, c)
		}
		add(rs)
	}

	if cmp := r.Comparison; cmp != nil {
		cs := junitSuite{Name: "comparison", Time: secs(0), Properties: props("baseline", cmp.Baseline, "verdict", cmp.Verdict)}
		for _, row := range cmp.Rows {
			c := junitCase{Name: row.Name + " " + row.Metric, Classname: "comparison", Time: secs(0)}
			detail := comparisonValue(row.Metric, row.Old) + " → " + comparisonValue(row.Metric, row.New) + " " + signedPercent(row.Change) +
				" (CI of new−old " + comparisonCI(row.Metric, row.Low, row.High) + "): " + row.Verdict
			if row.Verdict == "regression" {
				c.Failure = &junitFailure{Message: row.Reason, Type: "regression", Text: detail}
			} else {
				c.SystemOut = detail + "\n" + row.Reason
			}
			cs.Cases = append(cs.Cases, c)
		}
		add(cs)
	}

	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return err
	}
	if err := enc.Close(); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// props makes JUnit properties of name, value pairs, leaving out empty
// values, which would only be noise in a CI tool's test details.
func props(kv ...string) *junitProps {
	var p junitProps
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			p.Props = append(p.Props, junitProp{Name: kv[i], Value: kv[i+1]})
		}
	}
	if len(p.Props) == 0 {
		return nil
	}
	return &p
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
func secs(s float64) string {
	if !finite(s) || s < 0 {
		s = 0
	}
	return strconv.FormatFloat(s, 'f', 3, 64)
}

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string      `xml:"name,attr"`
	Tests      int         `xml:"tests,attr"`
	Failures   int         `xml:"failures,attr"`
	Errors     int         `xml:"errors,attr"`
	Skipped    int         `xml:"skipped,attr"`
	Time       string      `xml:"time,attr"`
	Timestamp  string      `xml:"timestamp,attr,omitempty"`
	Properties *junitProps `xml:"properties,omitempty"`
	Cases      []junitCase `xml:"testcase"`
}

type junitProps struct {
	Props []junitProp `xml:"property"`
}

type junitProp struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitFailure `xml:"failure,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}
