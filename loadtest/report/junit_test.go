package report_test

import (
	"bytes"
	"encoding/xml"
	"strconv"
	"strings"
	"testing"

	"github.com/taskready/taskready/loadtest/report"
)

// The JUnit schema as CI tools read it, declared here independently of
// the package's own types.
type xmlSuites struct {
	XMLName  xml.Name   `xml:"testsuites"`
	Tests    int        `xml:"tests,attr"`
	Failures int        `xml:"failures,attr"`
	Time     string     `xml:"time,attr"`
	Suites   []xmlSuite `xml:"testsuite"`
}

type xmlSuite struct {
	Name     string    `xml:"name,attr"`
	Tests    int       `xml:"tests,attr"`
	Failures int       `xml:"failures,attr"`
	Time     string    `xml:"time,attr"`
	Cases    []xmlCase `xml:"testcase"`
}

type xmlCase struct {
	Name      string      `xml:"name,attr"`
	Classname string      `xml:"classname,attr"`
	Time      string      `xml:"time,attr"`
	Failure   *xmlFailure `xml:"failure"`
}

type xmlFailure struct {
	Message string `xml:"message,attr"`
	Text    string `xml:",chardata"`
}

func parseJUnit(t *testing.T, name string) xmlSuites {
	t.Helper()
	var b bytes.Buffer
	if err := report.JUnit(&b, fixture(t, name)); err != nil {
		t.Fatal(err)
	}
	var doc xmlSuites
	if err := xml.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatalf("JUnit output does not parse: %v\n%s", err, b.Bytes())
	}
	return doc
}

func TestJUnitCounts(t *testing.T) {
	t.Parallel()
	type counts struct{ tests, failures int }
	for _, tc := range []struct {
		fixture string
		want    map[string]counts
		order   []string
	}{
		{"full", map[string]counts{"thresholds": {8, 2}, "checks": {4, 1}, "validity": {3, 0}, "faults": {3, 1}, "writes": {1, 0}, "recoveries": {2, 1}, "comparison": {5, 2}},
			[]string{"thresholds", "checks", "validity", "faults", "writes", "recoveries", "comparison"}},
		{"empty", map[string]counts{"thresholds": {0, 0}, "checks": {0, 0}, "validity": {0, 0}},
			[]string{"thresholds", "checks", "validity"}},
		{"invalid", map[string]counts{"thresholds": {1, 1}, "checks": {0, 0}, "validity": {3, 3}},
			[]string{"thresholds", "checks", "validity"}},
	} {
		doc := parseJUnit(t, tc.fixture)
		var names []string
		tests, failures := 0, 0
		for _, s := range doc.Suites {
			names = append(names, s.Name)
			// The counts must agree with the test cases themselves.
			n, f := len(s.Cases), 0
			for _, c := range s.Cases {
				if c.Failure != nil {
					f++
					if c.Failure.Message == "" {
						t.Errorf("%s: %s/%s: failure without a message", tc.fixture, s.Name, c.Name)
					}
				}
				if _, err := strconv.ParseFloat(c.Time, 64); err != nil {
					t.Errorf("%s: %s/%s: time %q is not seconds", tc.fixture, s.Name, c.Name, c.Time)
				}
			}
			if s.Tests != n || s.Failures != f {
				t.Errorf("%s: suite %s says tests=%d failures=%d; its cases are %d with %d failures", tc.fixture, s.Name, s.Tests, s.Failures, n, f)
			}
			if got, want := (counts{s.Tests, s.Failures}), tc.want[s.Name]; got != want {
				t.Errorf("%s: suite %s has %+v; want %+v", tc.fixture, s.Name, got, want)
			}
			if _, err := strconv.ParseFloat(s.Time, 64); err != nil {
				t.Errorf("%s: suite %s time %q is not seconds", tc.fixture, s.Name, s.Time)
			}
			tests += s.Tests
			failures += s.Failures
		}
		if got, want := strings.Join(names, ","), strings.Join(tc.order, ","); got != want {
			t.Errorf("%s: suites %s; want %s", tc.fixture, got, want)
		}
		if doc.Tests != tests || doc.Failures != failures {
			t.Errorf("%s: testsuites says tests=%d failures=%d; the suites add up to %d and %d", tc.fixture, doc.Tests, doc.Failures, tests, failures)
		}
	}
}

func TestJUnitCases(t *testing.T) {
	t.Parallel()
	doc := parseJUnit(t, "full")
	find := func(suite, name string) xmlCase {
		t.Helper()
		for _, s := range doc.Suites {
			for _, c := range s.Cases {
				if s.Name == suite && c.Name == name {
					return c
				}
			}
		}
		t.Fatalf("no test case %q in suite %q", name, suite)
		return xmlCase{}
	}
	c := find("thresholds", "http_req_duration{endpoint:create} p(95)<50")
	if c.Failure == nil || c.Failure.Message != "72.13 is not < 50" {
		t.Errorf("crossed threshold: failure %+v; want message %q", c.Failure, "72.13 is not < 50")
	}
	if !strings.Contains(c.Failure.Text, "scenarios/browse-and-write.yaml:17") {
		t.Errorf("crossed threshold: failure text %q does not point at the scenario file's line", c.Failure.Text)
	}
	if c := find("thresholds", "http_req_duration p(95)<300"); c.Failure != nil {
		t.Errorf("passed threshold has a failure: %+v", c.Failure)
	}
	c = find("checks", "create 201")
	if c.Failure == nil || c.Failure.Message != "70 of 2400 failed" {
		t.Errorf("failed check: failure %+v; want message %q", c.Failure, "70 of 2400 failed")
	}
	if c.Classname != "checks::create and delete" {
		t.Errorf("check classname = %q; want the group path", c.Classname)
	}
	if c := find("checks", "gone 404"); c.Classname != "checks::create and delete::cleanup" || c.Failure != nil {
		t.Errorf("nested check: %+v", c)
	}
	if c := find("recoveries", "after spike: http_req_duration p(95) < 300ms within 30s"); c.Failure != nil || c.Time != "6.000" {
		t.Errorf("passed recovery: %+v; want no failure and time 6.000", c)
	}
	if doc.Time != "180.000" {
		t.Errorf("testsuites time = %q; want the run's 180.000 seconds", doc.Time)
	}
}
