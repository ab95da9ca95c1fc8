package alerts_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/taskready/taskready/alerts"
)

// promtool is the path of promtool. Without it the test skips, with how to
// install it, unless the run says promtool must be there (CI,
// REQUIRE_PROMETHEUS, REQUIRE_CONTAINERS=1): then it fails.
func promtool(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("promtool")
	if err == nil {
		return path
	}
	if os.Getenv("CI") != "" || os.Getenv("REQUIRE_PROMETHEUS") != "" || os.Getenv("REQUIRE_CONTAINERS") == "1" {
		t.Fatalf("promtool not on PATH, and this run requires it: apt-get install prometheus")
	}
	t.Skip("promtool not installed: apt-get install prometheus (Debian) puts it on PATH")
	return ""
}

// runPromtool runs promtool with args and returns its exit code and what
// it printed.
func runPromtool(t *testing.T, args ...string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, promtool(t), args...).CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("promtool %v: %v", args, ctx.Err())
	}
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("promtool %v: %v", args, err)
	}
	return code, string(out)
}

// TestPromtoolChecksTheRules: promtool reads every rule of the committed
// file, and the compose stack's prometheus.yml loads it.
func TestPromtoolChecksTheRules(t *testing.T) {
	t.Parallel()
	code, out := runPromtool(t, "check", "rules", committed)
	want := strconv.Itoa(countRules(load(t, "load"))) + " rules found"
	if code != 0 || !strings.Contains(out, "SUCCESS: "+want) {
		t.Errorf("promtool check rules exited %d; want SUCCESS: %s:\n%s", code, want, out)
	}
	code, out = runPromtool(t, "check", "config", "../deploy/prometheus/prometheus.yml")
	if code != 0 || !strings.Contains(out, "alerts.yml") || !strings.Contains(out, "SUCCESS: "+want) {
		t.Errorf("promtool check config of the compose stack's prometheus.yml exited %d; want it to load alerts.yml:\n%s", code, out)
	}
}

// countRules counts r's recording and alerting rules.
func countRules(r *alerts.Rules) int {
	recording, alerting := r.Count()
	return recording + alerting
}

// ruleTests are the promtool test files of testdata.
func ruleTests(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("testdata/*.test.yml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata/*.test.yml: %v", err)
	}
	return files
}

// TestPromtoolRuleTests runs each promtool test file: synthetic burns and
// saturation fire each alert when they should, and noise leaves them
// silent (the files say which and why).
func TestPromtoolRuleTests(t *testing.T) {
	t.Parallel()
	for _, f := range ruleTests(t) {
		t.Run(filepath.Base(f), func(t *testing.T) {
			t.Parallel()
			if code, out := runPromtool(t, "test", "rules", f); code != 0 || !strings.Contains(out, "SUCCESS") {
				t.Errorf("promtool test rules %s exited %d:\n%s", f, code, out)
			}
		})
	}
}

// ruleTestFile is what TestRuleTestsCoverEveryAlert reads of a promtool
// test file.
type ruleTestFile struct {
	RuleFiles []string `yaml:"rule_files"`
	Tests     []struct {
		Name  string `yaml:"name"`
		Cases []struct {
			EvalTime  string `yaml:"eval_time"`
			Alertname string `yaml:"alertname"`
			ExpAlerts []any  `yaml:"exp_alerts"`
		} `yaml:"alert_rule_test"`
	} `yaml:"tests"`
}

// TestRuleTestsCoverEveryAlert: every alert has a test in which it is
// silent and then fires (at the right time, not merely at some time), and
// a test of noise in which it never fires; the watchdog, which always
// fires, only the first half. Every file tests the committed rules.
func TestRuleTestsCoverEveryAlert(t *testing.T) {
	t.Parallel()
	firesOnTime, neverFires := map[string]bool{}, map[string]bool{}
	for _, f := range ruleTests(t) {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var rt ruleTestFile
		if err := yaml.Unmarshal(data, &rt); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if len(rt.RuleFiles) != 1 || filepath.Join("testdata", rt.RuleFiles[0]) != filepath.Clean(filepath.Join("testdata", "..", committed)) {
			t.Errorf("%s tests %v; want the committed %s alone", f, rt.RuleFiles, committed)
		}
		for _, tc := range rt.Tests {
			silentAt, fires := map[string]time.Duration{}, map[string]bool{}
			for _, c := range tc.Cases {
				at, err := time.ParseDuration(c.EvalTime)
				if err != nil {
					t.Fatalf("%s: %s: eval_time %q: %v", f, tc.Name, c.EvalTime, err)
				}
				if len(c.ExpAlerts) == 0 {
					if s, ok := silentAt[c.Alertname]; !ok || at < s {
						silentAt[c.Alertname] = at
					}
					continue
				}
				fires[c.Alertname] = true
				if s, ok := silentAt[c.Alertname]; (ok && s < at) || c.Alertname == "TaskAPIWatchdog" {
					firesOnTime[c.Alertname] = true
				}
			}
			for a := range silentAt {
				if !fires[a] {
					neverFires[a] = true
				}
			}
		}
	}
	for _, a := range load(t, "load").Alerts() {
		if !firesOnTime[a] {
			t.Errorf("%s: no promtool test in which it is silent and then fires", a)
		}
		if !neverFires[a] && a != "TaskAPIWatchdog" {
			t.Errorf("%s: no promtool test of noise in which it stays silent", a)
		}
	}
}
