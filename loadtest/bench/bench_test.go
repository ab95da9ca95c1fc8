package bench

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// The whole rig, small: real nginx, wrk, bombardier and vegeta built from
// the module proxy, the engine as this test binary (TestMain). It checks
// that every table and goal is there and nothing is left behind, never the
// numbers: those are the benchmark's to report. The crowded half is the
// same code beside the hogs, which TestCrowd starts and stops; it is left
// out to halve the time.
func TestRun(t *testing.T) {
	if testing.Short() {
		t.Skip("builds vegeta and bombardier and runs 30 one-second turns")
	}
	nginx := nginxForTest(t)
	if _, err := exec.LookPath("wrk"); err != nil {
		if os.Getenv("REQUIRE_NGINX") == "1" {
			t.Fatalf("%v, and REQUIRE_NGINX=1", ErrNoWrk)
		}
		t.Skipf("%v (REQUIRE_NGINX=1 to fail instead)", ErrNoWrk)
	}
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command to build the peers with")
	}
	cfg := Config{
		Conns: 4, MaxVUs: 40, Duration: time.Second, Rounds: 1, OpenDuration: time.Second,
		Rates: []int{100}, BiasRate: 100, Crowded: false, WrkThreads: 1, Nginx: nginx, Go: "go",
	}
	// A temp dir of the test's own: another process's bench on this
	// machine (a second make test, say) must not count as a leftover.
	t.Setenv("TMPDIR", t.TempDir())
	before, _ := os.ReadDir(os.TempDir())
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	var out, progress bytes.Buffer
	if err := Run(ctx, cfg, os.Args[0], &out, &progress); err != nil {
		t.Fatalf("%v\nprogress:\n%s", err, progress.String())
	}
	for _, want := range []string{
		"target: http://127.0.0.1:", "nginx/",
		"### quiet · closed model: 4 connections/VUs, 1s a turn, median of 1 rounds",
		"### quiet · open model",
		"| wrk ", "| bombardier ", "| **harness (-http fast)** ", "| **harness (-http std)** ", "| vegeta ",
		"| 100    | **harness** ", "dispatch bias at 100/s", "half the engine's closed-model maximum",
		"### goals", "load average",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	if !strings.Contains(progress.String(), "quiet · open · 100/s · harness") {
		t.Errorf("progress lacks the open turns:\n%s", progress.String())
	}
	if strings.Contains(out.String(), "### crowded") {
		t.Errorf("a quiet-only run measured crowded:\n%s", out.String())
	}
	after, _ := os.ReadDir(os.TempDir())
	for _, e := range after {
		if strings.HasPrefix(e.Name(), "bench-") && !contains(before, e.Name()) {
			t.Errorf("left %s in the temp dir", e.Name())
		}
	}
}

func contains(entries []os.DirEntry, name string) bool {
	for _, e := range entries {
		if e.Name() == name {
			return true
		}
	}
	return false
}
