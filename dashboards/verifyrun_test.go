package dashboards_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/taskready/taskready/dashboards"
)

func TestVerificationVerdict(t *testing.T) {
	ok := dashboards.Finding{Query: dashboards.Query{Board: "Service", Panel: "Rate"}, Expanded: "rate(x[5s])", Series: 2}
	empty := dashboards.Finding{Query: dashboards.Query{Board: "Service", Panel: "Errors"}, Expanded: "rate(y[5s])"}
	invalid := dashboards.Finding{Query: dashboards.Query{Board: "Load", Panel: "p95"}, Expanded: "rate(", Err: errors.New("parse error")}
	tests := []struct {
		name       string
		v          dashboards.Verification
		failed     []string
		wantInText []string
	}{
		{"every panel shows data", dashboards.Verification{Findings: []dashboards.Finding{ok, ok}, Sent: 10},
			nil, []string{"Service    Rate   2/2      ok", "1 panels on 1 dashboards after a run of 10 requests: 0 failed, 0 excluded; promtool: 0 findings"}},
		{"an excluded panel is said, and fails nothing", dashboards.Verification{Findings: []dashboards.Finding{ok}, Excluded: []string{"Service / Lag: no exporter"}},
			nil, []string{"excluded, not verified: Service / Lag: no exporter", "0 failed, 1 excluded;"}},
		{"a panel without series and an invalid query", dashboards.Verification{Findings: []dashboards.Finding{ok, empty, invalid}},
			[]string{"Service / Errors", "Load / p95"}, []string{`Service / Errors: no series for "rate(y[5s])"`, `Load / p95: invalid query "rate(": parse error`, "FAILED: Service / Errors; Load / p95"}},
		{"promtool findings alone fail", dashboards.Verification{Findings: []dashboards.Finding{ok}, Lint: []string{"http://a/metrics: no HELP"}},
			nil, []string{"promtool: http://a/metrics: no HELP", "promtool: 1 findings", "FAILED: "}},
		{"a rule that fails to evaluate alone fails", dashboards.Verification{Findings: []dashboards.Finding{ok}, Rules: 3, RuleErrors: []string{"g / r: many-to-many matching"}},
			nil, []string{"  rule: g / r: many-to-many matching", "rules: 3, 1 failing", "FAILED: g / r: many-to-many matching"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.v.Failed(); strings.Join(got, ";") != strings.Join(tt.failed, ";") {
				t.Errorf("Failed() = %q, want %q", got, tt.failed)
			}
			if got, want := tt.v.OK(), len(tt.failed) == 0 && len(tt.v.Lint) == 0 && len(tt.v.RuleErrors) == 0; got != want {
				t.Errorf("OK() = %v, want %v", got, want)
			}
			var b strings.Builder
			if err := tt.v.WriteText(&b); err != nil {
				t.Fatal(err)
			}
			for _, w := range tt.wantInText {
				if !strings.Contains(b.String(), w) {
					t.Errorf("text lacks %q:\n%s", w, b.String())
				}
			}
		})
	}
}

// TestExcludedAreTheMongoDBExportersPanels: a verification leaves out
// exactly the service dashboard's panels on the MongoDB exporter's series
// (no such exporter runs on its stores), each once with why, and keeps
// every other query, the other exporters' included.
func TestExcludedAreTheMongoDBExportersPanels(t *testing.T) {
	data, err := dashboards.JSON(dashboards.Service())
	if err != nil {
		t.Fatal(err)
	}
	queries, err := dashboards.Queries(data)
	if err != nil {
		t.Fatal(err)
	}
	kept, excluded := dashboards.Exclude(queries)
	mongo := map[string]bool{}
	for _, q := range queries {
		if strings.Contains(q.Expr, "mongodb_") {
			mongo["Task API / "+q.Panel] = true
		}
	}
	var got []string
	for _, x := range excluded {
		panel, why, _ := strings.Cut(x, ": ")
		got = append(got, panel)
		if !strings.Contains(why, "FerretDB") {
			t.Errorf("excluded %s because %q; want why", panel, why)
		}
	}
	if len(got) != len(mongo) || len(mongo) < 2 {
		t.Errorf("excluded %q; want the panels on mongodb_ series: %v", got, mongo)
	}
	for _, p := range got {
		if !mongo[p] {
			t.Errorf("excluded %s, which reads no mongodb_ series", p)
		}
	}
	var mongoQueries int
	for _, q := range queries {
		if strings.Contains(q.Expr, "mongodb_") {
			mongoQueries++
		}
	}
	if len(kept) != len(queries)-mongoQueries {
		t.Errorf("kept %d of %d queries; want all but the %d on mongodb_ series", len(kept), len(queries), mongoQueries)
	}
	var exporters int
	for _, q := range kept {
		if strings.Contains(q.Expr, "probe_") || strings.Contains(q.Expr, "redis_memory") || strings.Contains(q.Expr, "redis_connected") {
			exporters++
		}
	}
	if exporters < 4 {
		t.Errorf("kept %d queries on the blackbox and Redis exporters' series; want them verified", exporters)
	}
}
