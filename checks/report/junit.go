package report

import (
	"bytes"
	"encoding/xml"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/taskready/taskready/checks/check"
	"github.com/taskready/taskready/checks/readiness"
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
	doc := junitSuites{Name: "readiness", Time: secs(r.Run.Duration)}
	add := func(st junitSuite) {
		st.Timestamp = stamp
		for _, c := range st.Cases {
			st.Tests++
			switch {
			case c.Failure != nil:
				st.Failures++
			case c.Skipped != nil:
				st.Skipped++
			}
		}
		doc.Tests += st.Tests
		doc.Failures += st.Failures
		doc.Skipped += st.Skipped
		doc.Suites = append(doc.Suites, st)
	}

	// Suites in category order, cases in the report's order within.
	byCat := map[check.Category]*junitSuite{}
	var order []check.Category
	for _, c := range r.Categories {
		score := "n/a"
		if c.Score.Defined() {
			score = strconv.Itoa(c.Score.Value)
		}
		byCat[c.Category] = &junitSuite{Name: "readiness." + string(c.Category), Properties: props("score", score, "grade", c.Score.Grade)}
		order = append(order, c.Category)
	}
	for _, res := range r.Results {
		st := byCat[res.Category]
		if st == nil { // a report edited by hand; keep its result anyway
			st = &junitSuite{Name: "readiness." + string(res.Category)}
			byCat[res.Category] = st
			order = append(order, res.Category)
		}
		st.Cases = append(st.Cases, junitCaseOf(res))
	}
	for _, c := range order {
		st := byCat[c]
		var total time.Duration
		for _, tc := range st.Cases {
			total += time.Duration(tc.nanos)
		}
		st.Time = secs(total)
		add(*st)
	}

	gates := junitSuite{Name: "readiness.gates", Time: secs(r.Run.Duration), Properties: props(
		"run.id", r.Run.ID, "target", r.Run.Target, "tool_version", r.Run.ToolVersion, "policy", r.Run.Policy,
		"score", scoreValue(r.Score), "grade", r.Score.Grade, "score_version", r.Run.ScoreVersion,
		"passed", strconv.FormatBool(r.Passed), "exit_code", strconv.Itoa(r.ExitCode),
	)}
	for _, g := range r.Gates {
		c := junitCase{Name: g.Name, Classname: "readiness.gates", Time: secs(0)}
		if g.Passed {
			c.SystemOut = out(g.Rule + ": " + g.Detail)
		} else {
			c.Failure = &junitFailure{Message: g.Detail, Type: "gate", Text: (escapeXML(g.Rule + "\n" + g.Detail))}
		}
		gates.Cases = append(gates.Cases, c)
	}
	add(gates)

	var b bytes.Buffer
	b.WriteString(xml.Header)
	enc := xml.NewEncoder(&b)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return err
	}
	b.WriteByte('\n')
	_, err := w.Write(b.Bytes())
	return err
}

func scoreValue(s readiness.Score) string {
	if !s.Defined() {
		return "n/a"
	}
	return strconv.Itoa(s.Value)
}

func junitCaseOf(res readiness.Result) junitCase {
	c := junitCase{Name: res.ID, Classname: "readiness." + string(res.Category), Time: secs(res.Took), nanos: int64(res.Took)}
	detail := junitDetail(res)
	switch {
	case res.Ignored:
		c.Skipped = &junitSkipped{Message: "ignored by policy: " + res.Override.Reason}
		c.SystemOut = out(detail)
	case res.EffectiveStatus == check.NotApplicable:
		c.Skipped = &junitSkipped{Message: "not applicable: " + res.Message}
		c.SystemOut = out(detail)
	case res.EffectiveStatus == check.Fail || res.EffectiveStatus == check.Error:
		c.Failure = &junitFailure{Message: res.Message, Type: string(res.EffectiveStatus) + " (" + string(res.EffectiveSeverity) + ")", Text: (escapeXML(detail))}
	default:
		c.SystemOut = out(detail)
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

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Skipped  int          `xml:"skipped,attr"`
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
	Skipped   *junitSkipped `xml:"skipped,omitempty"`
	SystemOut *junitOut     `xml:"system-out,omitempty"`
	nanos     int64
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",innerxml"`
}

type junitOut struct {
	Text string `xml:",innerxml"`
}

// out is s as a case's system-out, or nil when s is empty.
func out(s string) *junitOut {
	if s == "" {
		return nil
	}
	return &junitOut{Text: (escapeXML(s))}
}

// escapeXML escapes s for element content keeping its newlines as they
// are (encoding/xml writes them as "&#xA;", which people reading the file
// cannot), and drops the characters XML 1.0 cannot carry at all.
func escapeXML(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '&':
			b.WriteString("&amp;")
		case r == '<':
			b.WriteString("&lt;")
		case r == '>':
			b.WriteString("&gt;")
		case r == '\t' || r == '\n' || r == '\r' || (r >= 0x20 && r <= 0xD7FF) || (r >= 0xE000 && r <= 0xFFFD) || r >= 0x10000 && r <= 0x10FFFF:
			b.WriteRune(r)
		default:
			b.WriteRune('\uFFFD')
		}
	}
	return b.String()
}

type junitSkipped struct {
	Message string `xml:"message,attr"`
}

// props is name/value pairs as JUnit properties, leaving out empty values.
func props(kv ...string) *junitProps {
	p := &junitProps{}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			p.Props = append(p.Props, junitProp{Name: kv[i], Value: kv[i+1]})
		}
	}
	if len(p.Props) == 0 {
		return nil
	}
	return p
}

// secs is d in seconds with millisecond precision, JUnit's time.
func secs(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', 3, 64)
}
