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
// more, far beyond any noise): the A/B pair is called a regression, and
// the result is printed and written as JSON.
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
	for _, want := range []string{"run 3/3 (B): p95", "A/B pairs             1 of 1 regressions caught (100.0%)", "suggested -min-effect", "wrote " + out} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
}
