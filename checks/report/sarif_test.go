package report_test

import (
	"bytes"
	"encoding/json"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/taskready/taskready/checks/check"
	"github.com/taskready/taskready/checks/readiness"
	"github.com/taskready/taskready/checks/report"
	"github.com/taskready/taskready/internal/reporttest"
)

// sarifSchema compiles testdata's subset of the official SARIF 2.1.0
// schema, with formats (uri, date-time) asserted.
func sarifSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	raw, err := os.ReadFile("testdata/sarif-2.1.0-subset.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource("sarif.schema.json", doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("sarif.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	return sch
}

func TestSARIFMatchesTheSchema(t *testing.T) {
	t.Parallel()
	sch := sarifSchema(t)
	for _, fx := range fixtures {
		data := reporttest.Render(t, report.SARIF, fx.make(t))
		v, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("%s: not JSON: %v", fx.name, err)
		}
		if err := sch.Validate(v); err != nil {
			t.Errorf("%s: %v", fx.name, err)
		}
	}
	// The schema is not vacuous: a result without a message, an unknown
	// level and a stray property are refused.
	for _, bad := range []string{
		`{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"x"}},"results":[{"ruleId":"a"}]}]}`,
		`{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"x"}},"results":[{"message":{"text":"m"},"level":"critical"}]}]}`,
		`{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"x"}},"results":[{"message":{"text":"m"},"severity":"high"}]}]}`,
		`{"version":"2.1.0","runs":[{"tool":{"driver":{}}}]}`,
	} {
		v, _ := jsonschema.UnmarshalJSON(strings.NewReader(bad))
		if sch.Validate(v) == nil {
			t.Errorf("the schema accepts %s", bad)
		}
	}
}

// sarifDoc is the part of a SARIF log the tests read back.
type sarifDoc struct {
	Version string `json:"version"`
	Runs    []struct {
		Tool struct {
			Driver struct {
				Name  string `json:"name"`
				Rules []struct {
					ID               string `json:"id"`
					ShortDescription struct{ Text string }
					HelpURI          string         `json:"helpUri"`
					Properties       map[string]any `json:"properties"`
				} `json:"rules"`
			} `json:"driver"`
		} `json:"tool"`
		Invocations []struct {
			ExecutionSuccessful        bool `json:"executionSuccessful"`
			ExitCode                   int  `json:"exitCode"`
			ToolExecutionNotifications []struct {
				Level          string `json:"level"`
				AssociatedRule struct {
					ID    string `json:"id"`
					Index int    `json:"index"`
				} `json:"associatedRule"`
			} `json:"toolExecutionNotifications"`
		} `json:"invocations"`
		Results []struct {
			RuleID    string `json:"ruleId"`
			RuleIndex int    `json:"ruleIndex"`
			Kind      string `json:"kind"`
			Level     string `json:"level"`
			Message   struct{ Text string }
			Locations []struct {
				PhysicalLocation struct {
					ArtifactLocation struct{ URI string } `json:"artifactLocation"`
				} `json:"physicalLocation"`
			} `json:"locations"`
			Suppressions []struct {
				Kind, Status, Justification string
			} `json:"suppressions"`
			Properties map[string]any `json:"properties"`
		} `json:"results"`
	} `json:"runs"`
}

func TestSARIFParsesBack(t *testing.T) {
	t.Parallel()
	rep := fullReport(t)
	var doc sarifDoc
	if err := json.Unmarshal(reporttest.Render(t, report.SARIF, rep), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Version != "2.1.0" || len(doc.Runs) != 1 {
		t.Fatalf("version %q, %d runs", doc.Version, len(doc.Runs))
	}
	run := doc.Runs[0]
	if len(run.Results) != len(rep.Results) || len(run.Tool.Driver.Rules) != len(rep.Results) {
		t.Fatalf("%d results and %d rules for %d checks", len(run.Results), len(run.Tool.Driver.Rules), len(rep.Results))
	}
	want := map[string]struct{ kind, level string }{
		"jwt.alg-none":             {"fail", "error"},   // critical fail
		"headers.hsts":             {"fail", "error"},   // high fail
		"input.body-size":          {"fail", "warning"}, // medium fail
		"backup.retention":         {"fail", "note"},    // downgraded to low
		"headers.server-banner":    {"fail", "note"},    // info fail
		"limits.auth-burst":        {"fail", "warning"}, // high, warn by policy
		"limits.ratelimit-headers": {"fail", "note"},    // low warn
		"backup.recent":            {"open", "none"},    // error
		"auth.no-token":            {"pass", "none"},
		"redis.auth":               {"notApplicable", "none"},
		"headers.csp":              {"fail", "note"}, // ignored, suppressed below
	}
	for _, r := range run.Results {
		rule := run.Tool.Driver.Rules[r.RuleIndex]
		if rule.ID != r.RuleID {
			t.Errorf("%s: ruleIndex %d points at %s", r.RuleID, r.RuleIndex, rule.ID)
		}
		if w, ok := want[r.RuleID]; ok && (r.Kind != w.kind || r.Level != w.level) {
			t.Errorf("%s: kind %s level %s; want %s %s", r.RuleID, r.Kind, r.Level, w.kind, w.level)
		}
		if r.Kind != "fail" && r.Level != "none" {
			t.Errorf("%s: kind %s with level %s; SARIF wants level none for any kind but fail", r.RuleID, r.Kind, r.Level)
		}
		if r.Message.Text == "" || len(r.Locations) != 1 {
			t.Errorf("%s: message %q, %d locations", r.RuleID, r.Message.Text, len(r.Locations))
		}
		switch r.RuleID {
		case "headers.csp":
			if len(r.Suppressions) != 1 || r.Suppressions[0].Kind != "external" || r.Suppressions[0].Status != "accepted" ||
				!strings.HasPrefix(r.Suppressions[0].Justification, "JSON-only API") {
				t.Errorf("ignored result: suppressions %+v", r.Suppressions)
			}
		case "jwt.alg-none":
			if u := r.Locations[0].PhysicalLocation.ArtifactLocation.URI; u != "api/tasks" {
				t.Errorf("location %s; want the path the evidence requested, without the target", u)
			}
			ev, _ := r.Properties["evidence"].([]any)
			if len(ev) != 1 || r.Properties["gating"] != true || r.Properties["severity"] != "critical" {
				t.Errorf("properties %v", r.Properties)
			}
		case "backup.retention":
			if r.Properties["severity"] != "medium" || r.Properties["effectiveSeverity"] != "low" || r.Properties["override"] == nil {
				t.Errorf("downgraded result's properties %v", r.Properties)
			}
		default:
			if len(r.Suppressions) != 0 {
				t.Errorf("%s is suppressed", r.RuleID)
			}
		}
	}
	for _, rule := range run.Tool.Driver.Rules {
		tags, _ := rule.Properties["tags"].([]any)
		if rule.ShortDescription.Text == "" || len(tags) < 2 || rule.Properties["security-severity"] == nil {
			t.Errorf("rule %s: %+v", rule.ID, rule)
		}
		if rule.ID == "jwt.alg-none" && rule.HelpURI != "https://www.rfc-editor.org/rfc/rfc8725#section-3.1" {
			t.Errorf("jwt.alg-none helpUri %q", rule.HelpURI)
		}
	}
	inv := run.Invocations[0]
	if !inv.ExecutionSuccessful || inv.ExitCode != 1 || len(inv.ToolExecutionNotifications) != 1 ||
		inv.ToolExecutionNotifications[0].AssociatedRule.ID != "backup.recent" || inv.ToolExecutionNotifications[0].Level != "error" {
		t.Errorf("invocation %+v", inv)
	}
}

func TestSARIFOfARunThatDidNotStart(t *testing.T) {
	t.Parallel()
	var doc sarifDoc
	if err := json.Unmarshal(reporttest.Render(t, report.SARIF, notRunReport(t)), &doc); err != nil {
		t.Fatal(err)
	}
	inv := doc.Runs[0].Invocations[0]
	if inv.ExecutionSuccessful || inv.ExitCode != readiness.ExitConfig || len(doc.Runs[0].Results) != 0 {
		t.Errorf("a run that did not start: %+v, %d results", inv, len(doc.Runs[0].Results))
	}
}

func TestReferenceURL(t *testing.T) {
	t.Parallel()
	want := map[string]string{
		"CWE-639":                         "https://cwe.mitre.org/data/definitions/639.html",
		"RFC 8725 §3.1":                   "https://www.rfc-editor.org/rfc/rfc8725#section-3.1",
		"RFC 6585":                        "https://www.rfc-editor.org/rfc/rfc6585",
		"OWASP API1:2023":                 "https://owasp.org/API-Security/editions/2023/en/0xa1-broken-object-level-authorization/",
		"OWASP API10:2023":                "https://owasp.org/API-Security/editions/2023/en/0xaa-unsafe-consumption-of-apis/",
		"ASVS 5.0 V9.1.1":                 "https://github.com/OWASP/ASVS/tree/master/5.0/en",
		"https://example.com/a?b":         "https://example.com/a?b",
		"draft-inadarei-api-health-check": "https://datatracker.ietf.org/doc/draft-inadarei-api-health-check/",
		"WSTG-SESS-10":                    "",
		"OWASP API11:2023":                "",
		"javascript:alert(1)":             "",
	}
	for ref, u := range want {
		if got := report.ReferenceURL(ref); got != u {
			t.Errorf("ReferenceURL(%q) = %q; want %q", ref, got, u)
		}
	}
}

// Code scanning takes only repository-relative locations and matches an
// alert across runs by its location and fingerprints: both must be the
// same whatever host and port the API ran on, and never a URL.
func TestSARIFLocationsAreStableAndRelative(t *testing.T) {
	t.Parallel()
	reportAt := func(base string) *readiness.Report {
		return &readiness.Report{Run: readiness.RunInfo{Target: base}, Results: []readiness.Result{
			{ID: "access.bola", Status: check.Fail, EffectiveStatus: check.Fail, Message: "read another user's task",
				Evidence: []check.Evidence{{Request: "GET " + base + "/api/tasks/abc?x=1\nAuthorization: xxxxx"}}},
			{ID: "limits.login", Status: check.Fail, EffectiveStatus: check.Fail, Message: "no 429",
				Evidence: []check.Evidence{{Request: "POST /api/auth/login"}}},
			{ID: "redis.auth", Status: check.Fail, EffectiveStatus: check.Fail, Message: "Redis answers without AUTH",
				Evidence: []check.Evidence{{Request: "PING with no AUTH"}}},
		}}
	}
	type found struct{ uri, logical, fingerprint string }
	read := func(base string) []found {
		var log struct {
			Runs []struct {
				Results []struct {
					Locations []struct {
						PhysicalLocation struct {
							ArtifactLocation struct{ URI string } `json:"artifactLocation"`
						} `json:"physicalLocation"`
						LogicalLocations []struct{ Name string } `json:"logicalLocations"`
					}
					PartialFingerprints map[string]string `json:"partialFingerprints"`
				}
			}
		}
		if err := json.Unmarshal(reporttest.Render(t, report.SARIF, reportAt(base)), &log); err != nil {
			t.Fatal(err)
		}
		var out []found
		for _, r := range log.Runs[0].Results {
			if len(r.Locations) != 1 || len(r.Locations[0].LogicalLocations) != 1 || len(r.PartialFingerprints) == 0 {
				t.Fatalf("result without one location, a logical location and a fingerprint: %+v", r)
			}
			l := r.Locations[0]
			out = append(out, found{l.PhysicalLocation.ArtifactLocation.URI, l.LogicalLocations[0].Name, r.PartialFingerprints["taskreadyRoute/v1"]})
		}
		return out
	}
	first, second := read("http://127.0.0.1:41234"), read("http://10.0.0.5:5000")
	want := []found{{uri: "api/tasks/abc", logical: "GET /api/tasks/abc"}, {uri: "api/auth/login", logical: "POST /api/auth/login"}, {uri: "redis.auth", logical: "redis.auth"}}
	for i, w := range want {
		if first[i].uri != w.uri || first[i].logical != w.logical || first[i].fingerprint == "" {
			t.Errorf("result %d = %+v, want location %q and logical location %q with a fingerprint", i, first[i], w.uri, w.logical)
		}
		if u, err := url.Parse(first[i].uri); err != nil || u.Scheme != "" || u.Host != "" {
			t.Errorf("result %d location %q is not repository-relative", i, first[i].uri)
		}
		if first[i] != second[i] {
			t.Errorf("result %d moved with the target: %+v, then %+v", i, first[i], second[i])
		}
	}
	if first[0].fingerprint == first[1].fingerprint {
		t.Error("two routes share a fingerprint")
	}
}
