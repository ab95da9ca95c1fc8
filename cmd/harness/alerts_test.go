package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestAlerts: check passes on the committed rules and runbook; generate
// writes what check accepts, says what it derived, and prints the file
// with -o -; an edited file, a runbook without a section, an unknown
// scenario or subcommand and a scenario without budgets are refused.
func TestAlerts(t *testing.T) {
	ctx := t.Context()
	const committed, runbook = "../../deploy/prometheus/alerts.yml", "../../docs/runbook.md"
	if code, out, errs := harness(ctx, "alerts", "check", "-o", committed, "-runbook", runbook); code != exitPass || !strings.Contains(out, "explains its 19 alerts") {
		t.Fatalf("alerts check of the committed rules = %d:\n%s%s", code, out, errs)
	}

	dir := t.TempDir()
	file := filepath.Join(dir, "rules", "alerts.yml")
	code, out, errs := harness(ctx, "alerts", "generate", "-o", file)
	if code != exitPass || !strings.Contains(out, "wrote 19 alerts (21 alerting rules, 21 recording rules) from the load scenario's budgets") ||
		!strings.Contains(out, "latency-p95   95% of requests answered within 250ms (http_req_duration{phase:steady} p(95)<300)") ||
		!strings.Contains(out, "note: latency-p99: 800ms is not a bucket edge") {
		t.Errorf("alerts generate = %d:\n%s%s", code, out, errs)
	}
	want, _ := os.ReadFile(committed)
	if got, _ := os.ReadFile(file); !bytes.Equal(got, want) {
		t.Error("generate wrote other rules than the committed ones")
	}
	if code, out, _ := harness(ctx, "alerts", "generate", "-o", "-"); code != exitPass || out != string(want) {
		t.Errorf("generate -o - = %d, %d bytes; want the committed file on stdout", code, len(out))
	}

	edited := bytes.Replace(want, []byte("> (14.4 * 0.01)"), []byte("> (1.44 * 0.01)"), 1)
	os.WriteFile(file, edited, 0o644)
	code, out, _ = harness(ctx, "alerts", "check", "-o", file, "-runbook", runbook)
	if code != exitFail || !strings.Contains(out, "rules differ from the generator (the load scenario's budgets), first at line") ||
		!strings.Contains(out, "harness alerts generate -scenario load -o "+file) {
		t.Errorf("check of an edited file = %d:\n%s", code, out)
	}

	md, _ := os.ReadFile(runbook)
	short := filepath.Join(dir, "runbook.md")
	os.WriteFile(short, bytes.Replace(md, []byte("## TaskAPIWatchdog"), []byte("## The watchdog"), 1), 0o644)
	code, out, _ = harness(ctx, "alerts", "check", "-o", committed, "-runbook", short)
	if code != exitFail || !strings.Contains(out, "no section for TaskAPIWatchdog") {
		t.Errorf("check with a runbook lacking a section = %d:\n%s", code, out)
	}

	noBudget := filepath.Join(dir, "nobudget.yaml")
	os.WriteFile(noBudget, []byte("name: nobudget\nscenarios:\n  s: {executor: constant-vus, vus: 1, duration: 1s, journeys: [j]}\njourneys:\n  j: [{name: a, request: {method: GET, path: /}}]\nthresholds:\n  checks: [\"rate>0.99\"]\n"), 0o644)
	for _, args := range [][]string{
		{"alerts", "generate", "-scenario", "lod", "-o", file},
		{"alerts", "generate", "-scenario", noBudget, "-o", file},
		{"alerts", "paint"},
		{"alerts"},
	} {
		if code, _, errs := harness(ctx, args...); code != exitUsage || errs == "" {
			t.Errorf("%v = %d, %q; want exit 2 with a message", args, code, errs)
		}
	}
}

// TestCheckTakesThePrometheusURL: harness check -prometheus-url hands the
// URL to ops.alerts, which reads that server's rules (here, finds nothing
// listening: an error naming it).
func TestCheckTakesThePrometheusURL(t *testing.T) {
	dir := t.TempDir()
	code, out, errs := harness(t.Context(), "check", "-target", "http://127.0.0.1:1", "-prometheus-url", "http://127.0.0.1:2/", "-out", dir)
	if code != exitFail {
		t.Fatalf("check against nothing = %d; want 1:\n%s%s", code, out, errs)
	}
	data, err := os.ReadFile(filepath.Join(dir, "readiness.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Results []struct{ ID, Status, Message string } `json:"results"`
	}
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatal(err)
	}
	for _, r := range rep.Results {
		if r.ID == "ops.alerts" {
			if r.Status != "error" || !strings.HasPrefix(r.Message, "GET http://127.0.0.1:2/api/v1/rules: dial tcp") {
				t.Errorf("ops.alerts: %s %q; want an error reading http://127.0.0.1:2's rules", r.Status, r.Message)
			}
			return
		}
	}
	t.Error("no ops.alerts in the report")
}
