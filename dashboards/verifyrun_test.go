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
			nil, []string{"Service    Rate   2/2      ok", "1 panels on 1 dashboards after a run of 10 requests: 0 failed; promtool: 0 findings"}},
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
