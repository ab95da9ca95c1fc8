package report_test

import (
	"encoding/xml"
	"strings"
	"testing"

	"github.com/taskready/taskready/checks/report"
	"github.com/taskready/taskready/internal/reporttest"
)

// junitDoc is the part of a JUnit document the tests read back.
type junitDoc struct {
	XMLName  xml.Name `xml:"testsuites"`
	Tests    int      `xml:"tests,attr"`
	Failures int      `xml:"failures,attr"`
	Skipped  int      `xml:"skipped,attr"`
	Suites   []struct {
		Name     string `xml:"name,attr"`
		Tests    int    `xml:"tests,attr"`
		Failures int    `xml:"failures,attr"`
		Skipped  int    `xml:"skipped,attr"`
		Props    []struct {
			Name  string `xml:"name,attr"`
			Value string `xml:"value,attr"`
		} `xml:"properties>property"`
		Cases []struct {
			Name      string `xml:"name,attr"`
			Classname string `xml:"classname,attr"`
			Time      string `xml:"time,attr"`
			Failure   *struct {
				Message string `xml:"message,attr"`
				Type    string `xml:"type,attr"`
				Text    string `xml:",chardata"`
			} `xml:"failure"`
			Skipped *struct {
				Message string `xml:"message,attr"`
			} `xml:"skipped"`
			SystemOut string `xml:"system-out"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

func TestJUnitParsesBack(t *testing.T) {
	t.Parallel()
	rep := fullReport(t)
	var doc junitDoc
	if err := xml.Unmarshal(reporttest.Render(t, report.JUnit, rep), &doc); err != nil {
		t.Fatal(err)
	}
	cases := 0
	kinds := map[string]string{}
	for _, s := range doc.Suites {
		failures, skipped := 0, 0
		for _, c := range s.Cases {
			cases++
			switch {
			case c.Failure != nil:
				failures++
				kinds[c.Name] = "failure:" + c.Failure.Type
			case c.Skipped != nil:
				skipped++
				kinds[c.Name] = "skipped:" + c.Skipped.Message
			default:
				kinds[c.Name] = "passed"
			}
			if s.Name != "readiness.gates" && c.Classname != s.Name {
				t.Errorf("%s: classname %s in suite %s", c.Name, c.Classname, s.Name)
			}
		}
		if s.Tests != len(s.Cases) || s.Failures != failures || s.Skipped != skipped {
			t.Errorf("suite %s counts tests %d failures %d skipped %d; has %d, %d, %d", s.Name, s.Tests, s.Failures, s.Skipped, len(s.Cases), failures, skipped)
		}
	}
	if cases != doc.Tests || doc.Tests != len(rep.Results)+len(rep.Gates) {
		t.Errorf("%d cases, tests=%d; want one per check (%d) and per gate (%d)", cases, doc.Tests, len(rep.Results), len(rep.Gates))
	}
	want := map[string]string{
		"jwt.alg-none":             "failure:fail (critical)",
		"backup.recent":            "failure:error (critical)",
		"backup.retention":         "failure:fail (low)",
		"limits.auth-burst":        "passed", // warn by policy
		"limits.ratelimit-headers": "passed",
		"auth.no-token":            "passed",
		"redis.auth":               "skipped:not applicable: no Redis address was given (--redis-url)",
		"headers.csp":              "skipped:ignored by policy: JSON-only API; the CDN in front of the web app sets CSP.",
		"critical":                 "failure:gate",
		"high":                     "failure:gate",
		"score":                    "passed",
	}
	for name, w := range want {
		if kinds[name] != w {
			t.Errorf("%s: %s; want %s", name, kinds[name], w)
		}
	}
	for _, s := range doc.Suites {
		for _, c := range s.Cases {
			if c.Name == "input.body-size" && (!strings.Contains(c.Failure.Text, "413 Content Too Large") || !strings.Contains(c.Failure.Text, "fix: Cap request bodies")) {
				t.Errorf("the failure text lacks the evidence or the fix:\n%s", c.Failure.Text)
			}
			if c.Name == "limits.auth-burst" && !strings.Contains(c.SystemOut, "WARN high") {
				t.Errorf("a warning's output does not say so: %q", c.SystemOut)
			}
		}
		if s.Name == "readiness.gates" {
			props := map[string]string{}
			for _, p := range s.Props {
				props[p.Name] = p.Value
			}
			if props["score"] != "67" || props["grade"] != "B-" || props["exit_code"] != "1" {
				t.Errorf("gate suite properties %v", props)
			}
		}
	}
}
