// Package junit writes JUnit XML, the test-result format every CI system
// shows natively, for the load-test and the readiness reports alike: test
// suites of cases that failed (with a message and readable text), were
// skipped, or passed with their output, and properties on a suite.
package junit

import (
	"bytes"
	"encoding/xml"
	"io"
	"math"
	"strconv"
	"strings"
)

// Suites is a whole report, <testsuites>.
type Suites struct {
	XMLName  xml.Name `xml:"testsuites"`
	Name     string   `xml:"name,attr"`
	Tests    int      `xml:"tests,attr"`
	Failures int      `xml:"failures,attr"`
	Errors   int      `xml:"errors,attr"`
	Skipped  int      `xml:"skipped,attr"`
	Time     string   `xml:"time,attr"`
	Suites   []Suite  `xml:"testsuite"`
}

// Suite is one <testsuite>; Add fills in its counts.
type Suite struct {
	Name       string      `xml:"name,attr"`
	Tests      int         `xml:"tests,attr"`
	Failures   int         `xml:"failures,attr"`
	Errors     int         `xml:"errors,attr"`
	Skipped    int         `xml:"skipped,attr"`
	Time       string      `xml:"time,attr"`
	Timestamp  string      `xml:"timestamp,attr,omitempty"`
	Properties *Properties `xml:"properties,omitempty"`
	Cases      []Case      `xml:"testcase"`
}

// Properties are a suite's name and value pairs.
type Properties struct {
	Props []Property `xml:"property"`
}

// Property is one name and value.
type Property struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

// Case is one <testcase>: failed, skipped, or passed, each with text.
type Case struct {
	Name      string   `xml:"name,attr"`
	Classname string   `xml:"classname,attr"`
	Time      string   `xml:"time,attr"`
	Failure   *Failure `xml:"failure,omitempty"`
	Skipped   *Skipped `xml:"skipped,omitempty"`
	SystemOut *Text    `xml:"system-out,omitempty"`
}

// Failure says why a case failed; make it with Fail.
type Failure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",innerxml"` // escaped by Fail
}

// Skipped says why a case did not run.
type Skipped struct {
	Message string `xml:"message,attr"`
}

// Text is element content; make it with Output.
type Text struct {
	Body string `xml:",innerxml"` // escaped by Output
}

// Fail is a failure of type typ with a one-line message and a longer text.
func Fail(message, typ, text string) *Failure {
	return &Failure{Message: message, Type: typ, Text: Escape(text)}
}

// Output is s as a case's system-out, or nil when s is empty.
func Output(s string) *Text {
	if s == "" {
		return nil
	}
	return &Text{Body: Escape(s)}
}

// Props makes properties of name, value pairs, leaving out empty values,
// which would only be noise in a CI tool's test details; nil when none is
// left.
func Props(kv ...string) *Properties {
	var p Properties
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			p.Props = append(p.Props, Property{Name: kv[i], Value: kv[i+1]})
		}
	}
	if len(p.Props) == 0 {
		return nil
	}
	return &p
}

// Seconds is a time attribute: seconds with millisecond precision, 0 for
// a negative or non-finite value.
func Seconds(s float64) string {
	if math.IsNaN(s) || math.IsInf(s, 0) || s < 0 {
		s = 0
	}
	return strconv.FormatFloat(s, 'f', 3, 64)
}

// Add appends st to s, counting its tests, failures and skipped cases
// into both.
func (s *Suites) Add(st Suite) {
	st.Tests, st.Failures, st.Skipped = 0, 0, 0
	for _, c := range st.Cases {
		st.Tests++
		switch {
		case c.Failure != nil:
			st.Failures++
		case c.Skipped != nil:
			st.Skipped++
		}
	}
	s.Tests += st.Tests
	s.Failures += st.Failures
	s.Skipped += st.Skipped
	s.Suites = append(s.Suites, st)
}

// Write writes s as an indented XML document.
func Write(w io.Writer, s Suites) error {
	var b bytes.Buffer
	b.WriteString(xml.Header)
	enc := xml.NewEncoder(&b)
	enc.Indent("", "  ")
	if err := enc.Encode(s); err != nil {
		return err
	}
	b.WriteByte('\n')
	_, err := w.Write(b.Bytes())
	return err
}

// Escape escapes s for element content keeping its newlines as they are
// (encoding/xml writes them as "&#xA;", which people reading the file
// cannot), and replaces the characters XML 1.0 cannot carry at all.
func Escape(s string) string {
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
