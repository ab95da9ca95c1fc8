package main_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/taskready/taskready/loadtest/calibrate"
)

// harness calibrate runs A, A and a B slowed by 100 ms each way on the
// MongoDB link (every login reads MongoDB, so B's p95 grows by 200 ms or
// more, far beyond any noise), each on a new environment: the A/B pair is
// called a regression, and the result is printed and written as JSON.
func TestCalibrateCatchesASlowedBuild(t *testing.T) {
	t.Parallel()
	harness, taskapi := buildBinaries(t)
	out := filepath.Join(t.TempDir(), "calibration.json")
	code, text := harnessRun(t, harness, "calibrate", "-provider", "embedded", "-api-bin", taskapi, "-api-env", "BCRYPT_COST=4",
		"-api-instances", "1", "-scenario", "testdata/calibrate.yaml", "-runs", "1", "-b-link-latency", "mongo=100ms", "-out", out)
	if code != 0 {
		t.Fatalf("exit %d; want 0:\n%s", code, text)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var r calibrate.Result
	if err := json.Unmarshal(data, &r); err != nil {
		t.Fatal(err)
	}
	if len(r.Runs) != 3 || r.AA.Pairs != 1 || r.AB == nil || r.AB.Pairs != 1 || r.AB.Regressions != 1 {
		t.Fatalf("result = %+v; want 3 runs, one A/A pair, one A/B pair called a regression", r)
	}
	if b := r.Runs[2]; b.Kind != "B" || b.P95 < 200 {
		t.Errorf("the B run = %+v; want p95 of 200ms or more", b)
	}
	for _, want := range []string{"each on a new environment", "run 1/3 (A): p95", "run 3/3 (B): p95", "new environment in", "A/B pairs             1 of 1 regressions caught (100.0%)", "suggested -min-effect", "wrote " + out} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
}

// With -reuse-env the runs share one environment, brought up and seeded
// once; without -b-link-latency there are only A/A pairs; -runs-dir keeps each
// run's histograms, which harness compare reads.
func TestCalibrateReusesOneEnvironment(t *testing.T) {
	t.Parallel()
	harness, taskapi := buildBinaries(t)
	dir := t.TempDir()
	out, keep := filepath.Join(dir, "calibration.json"), filepath.Join(dir, "runs")
	code, text := harnessRun(t, harness, "calibrate", "-provider", "embedded", "-api-bin", taskapi, "-api-env", "BCRYPT_COST=4",
		"-api-instances", "1", "-scenario", "testdata/calibrate.yaml", "-runs", "1", "-reuse-env", "-runs-dir", keep, "-out", out)
	if code != 0 {
		t.Fatalf("exit %d; want 0:\n%s", code, text)
	}
	if n := strings.Count(text, "bringing up the embedded environment"); n != 1 {
		t.Errorf("brought an environment up %d times; want once:\n%s", n, text)
	}
	for _, want := range []string{"one environment for all", "run 2/2 (A): p95", "A/A pairs             "} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "A/B pairs") || strings.Contains(text, "new environment in") {
		t.Errorf("output has A/B pairs or new environments:\n%s", text)
	}
	code, text = harnessRun(t, harness, "compare", filepath.Join(keep, "run-01-A.json"), filepath.Join(keep, "run-02-A.json"))
	if code != 0 && code != 100 || !strings.Contains(text, "p95 latency") {
		t.Errorf("harness compare of the kept runs: exit %d; want a comparison:\n%s", code, text)
	}
}
