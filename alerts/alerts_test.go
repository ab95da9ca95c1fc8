package alerts_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/taskready/taskready/alerts"
	"github.com/taskready/taskready/internal/golden"
	"github.com/taskready/taskready/internal/promql"
	"github.com/taskready/taskready/loadtest/scenario"
)

// committed is the rule file the compose stack's Prometheus loads,
// generated from the load scenario.
const committed = "../deploy/prometheus/alerts.yml"

// load generates the rules of a shipped scenario.
func load(t *testing.T, name string) *alerts.Rules {
	t.Helper()
	f, err := scenario.Load(filepath.Join("..", "scenarios", name+".yaml"))
	if err != nil {
		t.Fatal(err)
	}
	r, err := alerts.Generate(f)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestCommittedRulesAreGenerated: the committed rules are what the
// generator writes from the load scenario (go test -update rewrites them).
func TestCommittedRulesAreGenerated(t *testing.T) {
	t.Parallel()
	got, err := load(t, "load").Encode()
	if err != nil {
		t.Fatal(err)
	}
	if golden.Updating() {
		if err := os.WriteFile(committed, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(committed)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the generator's output: run harness alerts generate -scenario load (or go test -update)", committed)
	}
}

// parse makes a scenario file of thresholds alone.
func parse(t *testing.T, thresholds string) *scenario.File {
	t.Helper()
	f, err := scenario.Parse("t.yaml", []byte(`name: t
scenarios:
  s:
    executor: ramping-vus
    stages:
      - {duration: 1s, target: 1, phase: steady}
      - {duration: 1s, target: 1, phase: spike}
      - {duration: 1s, target: 1, phase: baseline}
      - {duration: 1s, target: 1, phase: calm}
    journeys: [j]
journeys:
  j: [{name: list, request: {method: GET, path: /}}]
thresholds:
`+thresholds))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestObjectives(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, thresholds string
		want             []string // "name target bucket budget"
		notes            []string // a substring of each note, in order
	}{
		{
			name:       "the load scenario's budgets",
			thresholds: "  http_req_failed: [\"rate<0.01\"]\n  \"http_req_duration{phase:steady}\": [\"p(95)<300\", \"p(99)<800\"]\n  \"http_req_duration{endpoint:list}\": [\"p(95)<250\"]\n  checks: [\"rate>0.99\"]\n",
			want:       []string{"availability 99% 0s 0.01", "latency-p95 95% 250ms 0.05", "latency-p99 99% 500ms 0.01"},
			notes: []string{"endpoint:list selects part of the scenario's traffic", "only http_req_failed and http_req_duration",
				"latency-p95: 300ms is not a bucket edge", "latency-p99: 800ms is not a bucket edge"},
		},
		{
			name:       "a bucket edge is kept as it is, and <= counts as <",
			thresholds: "  http_req_duration: [\"p(99.9)<=1000\"]\n",
			want:       []string{"latency-p99.9 99.9% 1s 0.001"},
		},
		{
			name:       "without an untagged budget, the strictest phase's",
			thresholds: "  \"http_req_duration{phase:spike}\": [\"p(95)<2000\"]\n  \"http_req_duration{phase:baseline}\": [\"p(95)<300\"]\n  \"http_req_failed{phase:spike}\": [\"rate<0.05\"]\n  \"http_req_failed{phase:calm}\": [\"rate<0.02\"]\n",
			want:       []string{"availability 98% 0s 0.02", "latency-p95 95% 250ms 0.05"},
			notes:      []string{"from http_req_duration{phase:baseline} p(95)<300, not http_req_duration{phase:spike} p(95)<2000", "from http_req_failed{phase:calm} rate<0.02, not http_req_failed{phase:spike} rate<0.05", "300ms is not a bucket edge"},
		},
		{
			name:       "an untagged budget wins over a stricter phase's",
			thresholds: "  \"http_req_failed{phase:calm}\": [\"rate<0.001\"]\n  http_req_failed: [\"rate<0.05\"]\n",
			want:       []string{"availability 95% 0s 0.05"},
			notes:      []string{"from http_req_failed rate<0.05, not http_req_failed{phase:calm} rate<0.001"},
		},
		{
			name:       "shapes that bound no share of requests",
			thresholds: "  http_req_duration: [\"avg<200\", \"max<1000\", \"p(95)>10\", \"p(100)<5000\", \"p(99)<0.5\"]\n  http_req_failed: [\"rate<0.01\"]\n  http_reqs: [\"count>10\"]\n",
			want:       []string{"availability 99% 0s 0.01"},
			notes:      []string{"only p(N)<B", "only p(N)<B", "only p(N)<B", "only p(N)<B", "under the histogram's first bucket", "only http_req_failed and http_req_duration"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			objs, notes, err := alerts.Objectives(parse(t, tt.thresholds))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, o := range objs {
				bucket := time.Duration(o.Bucket * float64(time.Second))
				got = append(got, fmt.Sprintf("%s %s %s %g", o.Name, o.Target(), bucket, o.Budget))
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("objectives %q; want %q", got, tt.want)
			}
			if len(notes) != len(tt.notes) {
				t.Fatalf("notes %q; want %d like %q", notes, len(tt.notes), tt.notes)
			}
			for i, n := range tt.notes {
				if !strings.Contains(notes[i], n) {
					t.Errorf("note %d %q lacks %q", i, notes[i], n)
				}
			}
		})
	}
	if _, _, err := alerts.Objectives(parse(t, "  checks: [\"rate>0.99\"]\n")); !errors.Is(err, alerts.ErrNoObjective) {
		t.Errorf("a scenario without budgets: %v; want ErrNoObjective", err)
	}
}

// TestBurnRowsABudgetCannotReach: 80% of requests within a bound is a
// budget of 20%; 14.4 and 6 times it are more than every request, so no
// page, and the generator says so; the tickets stay.
func TestBurnRowsABudgetCannotReach(t *testing.T) {
	t.Parallel()
	r, err := alerts.Generate(parse(t, "  http_req_duration: [\"p(80)<500\"]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(r.Alerts(), "TaskAPILatencyFastBurn") || !slices.Contains(r.Alerts(), "TaskAPILatencySlowBurn") {
		t.Errorf("alerts %v; want the slow burn and no fast one", r.Alerts())
	}
	var impossible int
	for _, n := range r.Notes {
		if strings.Contains(n, "is all requests or more: no page") {
			impossible++
		}
	}
	if impossible != 2 {
		t.Errorf("notes %q; want both page rows named as impossible", r.Notes)
	}
}

// TestLatencyBucketMatcher: the bucket of a whole-number edge is selected
// as the API writes it ("1") and as Prometheus 3 stores it ("1.0"); a
// fractional edge as it is.
func TestLatencyBucketMatcher(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		budget     string
		match, not []string
	}{
		{"p(99)<1000", []string{"1", "1.0"}, []string{"10", "0.1", "1.5"}},
		{"p(99)<300", []string{"0.25"}, []string{"0.250", "0.5"}},
	} {
		r, err := alerts.Generate(parse(t, "  http_req_duration: [\""+tt.budget+"\"]\n"))
		if err != nil {
			t.Fatal(err)
		}
		sels, err := promql.Selectors(r.File.Groups[0].Rules[0].Expr)
		if err != nil {
			t.Fatal(err)
		}
		buckets := 0
		for _, s := range sels {
			if s.Metric != "taskapi_http_request_duration_seconds_bucket" {
				continue
			}
			buckets++
			for _, v := range tt.match {
				if !s.Accepts("le", v) {
					t.Errorf("%s: %s does not select le=%q", tt.budget, s, v)
				}
			}
			for _, v := range tt.not {
				if s.Accepts("le", v) {
					t.Errorf("%s: %s selects le=%q", tt.budget, s, v)
				}
			}
		}
		if buckets != 1 {
			t.Errorf("%s: %d bucket selectors in %q; want 1", tt.budget, buckets, r.File.Groups[0].Rules[0].Expr)
		}
	}
}

// TestEveryAlertIsExplained: a summary, a description and a runbook link
// to its own section; a severity routing can use.
func TestEveryAlertIsExplained(t *testing.T) {
	t.Parallel()
	r := load(t, "load")
	n := 0
	for _, g := range r.File.Groups {
		for _, rule := range g.Rules {
			if rule.Alert == "" {
				continue
			}
			n++
			a := rule.Annotations
			if a["summary"] == "" || a["description"] == "" {
				t.Errorf("%s: summary %q, description %q", rule.Alert, a["summary"], a["description"])
			}
			if want := alerts.DefaultRunbookURL + "#" + strings.ToLower(rule.Alert); a["runbook_url"] != want {
				t.Errorf("%s: runbook_url %q; want %q", rule.Alert, a["runbook_url"], want)
			}
			if s := rule.Labels["severity"]; s != alerts.Page && s != alerts.Ticket && !(s == alerts.None && rule.Alert == "TaskAPIWatchdog") {
				t.Errorf("%s: severity %q", rule.Alert, s)
			}
		}
	}
	if want := 21; n != want {
		t.Errorf("%d alerting rules; want %d (availability and two latency objectives, a page and a ticket each, 11 more, and 4 on the exporters' series)", n, want)
	}
	other, err := alerts.Generate(parse(t, "  http_req_failed: [\"rate<0.01\"]\n"), alerts.RunbookURL("https://wiki.example.com/runbook"))
	if err != nil {
		t.Fatal(err)
	}
	if got := other.File.Groups[0].Rules[len(other.File.Groups[0].Rules)-1].Annotations["runbook_url"]; got != "https://wiki.example.com/runbook#taskapiavailabilityslowburn" {
		t.Errorf("RunbookURL: %q", got)
	}
}

// TestRunbookHasASectionPerAlert: every alert's runbook_url leads to a
// section of docs/runbook.md, and no section is left of an alert that is
// gone.
func TestRunbookHasASectionPerAlert(t *testing.T) {
	t.Parallel()
	r := load(t, "load")
	md, err := os.ReadFile("../docs/runbook.md")
	if err != nil {
		t.Fatal(err)
	}
	if err := r.CheckRunbook(md); err != nil {
		t.Fatalf("docs/runbook.md: %v", err)
	}
	// Without one section, and with one of an alert that does not exist.
	cut := bytes.Replace(md, []byte("## TaskAPIRedisCircuitOpen\n"), []byte("## TaskAPIRedisBreakerOpen\n"), 1)
	err = r.CheckRunbook(cut)
	if !errors.Is(err, alerts.ErrRunbook) || !strings.Contains(err.Error(), "no section for TaskAPIRedisCircuitOpen") ||
		!strings.Contains(err.Error(), "do not have: TaskAPIRedisBreakerOpen") {
		t.Errorf("a runbook with a section renamed: %v", err)
	}
}
