package main_test

import (
	stdbuildinfo "debug/buildinfo"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/taskready/taskready/checks/check"
	"github.com/taskready/taskready/checks/readiness"
	"github.com/taskready/taskready/checks/report"
	"github.com/taskready/taskready/internal/buildinfo"
)

// TestCheckManaged runs the readiness checks as make check does, with no
// policy: every gate passes against this API with production settings,
// served over TLS (-tls), and the environment's own Redis password, the
// HTTPS checks pass with their evidence, the reports are written, and the
// users the checks created are gone.
//
// Not in parallel: the API hashes passwords at the production bcrypt
// cost, which the checks judge, and a register beside another
// environment's load on a crowded machine outlasted the balancer's 5 s
// header timeout (504).
func TestCheckManaged(t *testing.T) {
	harness, taskapi := buildBinaries(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "readiness")
	// A previous run in which HSTS failed and a check since retired
	// passed: this run shows what changed.
	prev, err := readiness.Evaluate(readiness.RunInfo{ID: "previous-run", Target: "http://127.0.0.1:1", Start: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)},
		[]readiness.Result{
			{ID: "headers.nosniff", Title: "t", Category: check.Transport, Severity: check.Medium, Status: check.Fail},
			{ID: "retired.check", Title: "t", Category: check.Transport, Severity: check.Low, Status: check.Pass},
		})
	if err != nil {
		t.Fatal(err)
	}
	prevDir := filepath.Join(dir, "previous")
	if _, err := report.WriteFiles(prevDir, prev); err != nil {
		t.Fatal(err)
	}
	code, text := harnessRun(t, harness, "check", "-provider", "embedded", "-api-bin", taskapi, "-tls",
		"-backup-dir", filepath.Join(dir, "backups"), "-backup-first", "-out", out, "-previous", prevDir)
	if code != 0 {
		t.Fatalf("harness check exited %d:\n%s", code, text)
	}
	for _, want := range []string{"seeded 100 users", "backed up 1100 documents", "removed the", "PASSED", "checking https://127.0.0.1:",
		"SINCE THE PREVIOUS RUN  run previous-run", "newly passing", "retired.check", "pass → not run"} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
	data, err := os.ReadFile(filepath.Join(out, "readiness.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Passed bool `json:"passed"`
		Run    struct {
			Environment *struct{ Provider, Note string } `json:"environment"`
			ToolVersion string                           `json:"tool_version"`
			API         *check.Build                     `json:"api"`
		} `json:"run"`
		Previous *readiness.Comparison `json:"previous"`
		Results  []struct {
			ID       string           `json:"id"`
			Severity string           `json:"effective_severity"`
			Status   string           `json:"effective_status"`
			Evidence []check.Evidence `json:"evidence"`
		} `json:"results"`
	}
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatal(err)
	}
	if !rep.Passed || len(rep.Results) < 50 {
		t.Fatalf("passed %v with %d results", rep.Passed, len(rep.Results))
	}
	// The report names the API's build as the binary records it, and
	// the harness's.
	bi, err := stdbuildinfo.ReadFile(taskapi)
	if err != nil {
		t.Fatal(err)
	}
	want := buildinfo.From(bi)
	if want.Revision == "" {
		want.Revision = buildinfo.Unknown
	}
	if a := rep.Run.API; a == nil || a.Version != want.Version || a.Revision != want.Revision || !strings.Contains(a.Source, "taskapi_build_info") {
		t.Errorf("report api = %+v; want version %q, revision %q", a, want.Version, want.Revision)
	}
	if rep.Run.ToolVersion == "" {
		t.Error("the report names no harness version")
	}
	if c := rep.Previous; c == nil || c.Run != "previous-run" || len(c.NewlyPassing) != 1 || c.NewlyPassing[0].ID != "headers.nosniff" {
		t.Errorf("comparison = %+v; want headers.nosniff newly passing", c)
	}
	// The report says it is not a production deployment's.
	if e := rep.Run.Environment; e == nil || e.Provider != "embedded" || !strings.Contains(e.Note, "not a production deployment") {
		t.Errorf("report environment = %+v; want embedded with a not-production note", e)
	}
	https := map[string]bool{}
	for _, r := range rep.Results {
		// FerretDB has no replica set and no MongoDB explain: those warn,
		// with the reason. Nothing critical or high may fail or error, and
		// the managed Redis must refuse clients without its password.
		if (r.Severity == "critical" || r.Severity == "high") && (r.Status == "fail" || r.Status == "error") {
			t.Errorf("%s (%s) %s", r.ID, r.Severity, r.Status)
		}
		if r.ID == "redis.auth" && r.Status != "pass" {
			t.Errorf("redis.auth %s; want pass: the managed Redis requires a password", r.Status)
		}
		// Over TLS the HTTPS checks and HSTS judge the environment, and
		// pass on what they observed.
		if strings.HasPrefix(r.ID, "https.") || r.ID == "headers.hsts" {
			https[r.ID] = true
			if r.Status != "pass" || len(r.Evidence) == 0 || r.Evidence[0].Observed == "" {
				t.Errorf("%s %s with evidence %+v; want pass with an observation", r.ID, r.Status, r.Evidence)
			}
		}
	}
	if len(https) != 5 {
		t.Errorf("HTTPS checks in the report: %v; want https.certificate, .expiry, .protocols, .redirect and headers.hsts", https)
	}
	for _, f := range []string{"readiness.html", "readiness.md", "readiness.sarif", "junit.xml"} {
		if st, err := os.Stat(filepath.Join(out, f)); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
}

func TestCheckUsage(t *testing.T) {
	t.Parallel()
	harness, _ := buildBinaries(t)
	for _, args := range [][]string{
		{"check", "-target", "http://127.0.0.1:1", "-provider", "docker"},
		{"check", "-target", "http://127.0.0.1:1", "-backup-first", "-backup-dir", t.TempDir()},
		{"check", "-target", "http://127.0.0.1:1", "-policy", "testdata/no-such-policy.yaml"},
		{"check", "-target", "http://127.0.0.1:1", "-policy", "testdata/policy-without-owner.yaml"},
		{"check", "-target", "http://127.0.0.1:1", "-previous", filepath.Join(t.TempDir(), "none")},
		{"check", "-target", "http://127.0.0.1:1", "-previous", "testdata/compare.yaml"},
		{"check", "-provider", "embedded", "-redis-sentinels", "3"},
		{"check", "-provider", "embedded", "-metrics-url", "http://127.0.0.1:1/metrics"},
		{"check", "-target", "https://127.0.0.1:1", "-tls"},
		{"check", "-target", "https://127.0.0.1:1", "-ca-file", filepath.Join(t.TempDir(), "none.pem")},
		{"check", "-target", "https://127.0.0.1:1", "-ca-file", "testdata/compare.yaml"},
		{"check", "-provider", "embedded", "-tls", "-ca-file", "testdata/compare.yaml"},
		{"check", "-provider", "embedded", "-http-url", "http://127.0.0.1:1"},
		{"restore-drill", "-state", filepath.Join(t.TempDir(), "none.json")},
	} {
		code, text := harnessRun(t, harness, args...)
		if code != 2 {
			t.Errorf("harness %v exited %d, want 2:\n%s", args, code, text)
		}
		// One line that says what is wrong, and where to read more.
		if lines := strings.Split(strings.TrimSpace(text), "\n"); len(lines) > 2 || !strings.HasPrefix(lines[0], "harness ") || strings.Contains(text, "panic") {
			t.Errorf("harness %v printed %d lines:\n%s", args, len(lines), text)
		}
	}
}
