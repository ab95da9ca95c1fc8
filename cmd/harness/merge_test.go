package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/taskready/taskready/internal/testbin"
	"github.com/taskready/taskready/loadtest/rundir"
	"github.com/taskready/taskready/loadtest/summary"
)

// TestMergeSegmentsEndToEnd is the distributed run of k6-operator on one
// machine: one target, 4 worker processes each making a quarter of the
// load at once (run -segment I/4), merged and gated once; then the whole
// load from one generator process, which the merged run must match.
//
// The target is the test's own: every fifth request it answers takes a
// second, the rest none. So every run's p95 is that second plus what a
// busy machine adds to it (up to a few hundred ms under a CPU hog), and
// a merge that lost or misplaced the slow tail would move it far more.
func TestMergeSegmentsEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("runs load from five processes")
	}
	t.Parallel()
	began := time.Now()
	bin := buildHarness(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	target := everyNthSlow(t, 5, time.Second)
	dir := t.TempDir()
	common := []string{"-target", target, "-seed-users", "0", "-contract=false", "-max-send-lag", "10s", "-max-cpu", "1"}

	workers := runSegments(t, ctx, bin, dir, "testdata/merge.yaml", 4, common)
	var workerReqs, workerIters int64
	lo, hi := math.Inf(1), math.Inf(-1) // the workers' p95s
	for i, w := range workers {
		s := readRun(t, w)
		p95 := s.Metrics["http_req_duration"].Values["p(95)"]
		lo, hi = min(lo, p95), max(hi, p95)
		if s.Run.Segment != fmt.Sprintf("%d/4", i) || len(s.Run.Thresholds) != 0 || !s.Run.Validity.Valid || s.Run.Outcome.ExitCode != 0 {
			t.Errorf("worker %d: segment %q, thresholds %+v, valid %v, outcome %+v; want its segment, no threshold evaluated, valid, 0",
				i, s.Run.Segment, s.Run.Thresholds, s.Run.Validity.Valid, s.Run.Outcome)
		}
		for name, metric := range s.Metrics {
			if len(metric.Thresholds) != 0 {
				t.Errorf("worker %d: %s carries threshold verdicts %v", i, name, metric.Thresholds)
			}
		}
		workerReqs += int64(s.Metrics[reqs].Values["count"])
		workerIters += int64(s.Metrics["iterations"].Values["count"])
	}

	merged := filepath.Join(dir, "merged")
	if code, out, errOut := harness(ctx, append([]string{"merge", "-out", merged}, workers...)...); code != 0 {
		t.Fatalf("harness merge exited %d:\n%s\n%s", code, out, errOut)
	}
	m := readRun(t, merged)
	// A quantile of a mixture lies between its parts' quantiles: exactly
	// true of the histograms merged, to their 1 % precision.
	if p95 := m.Metrics["http_req_duration"].Values["p(95)"]; p95 < lo*0.99 || p95 > hi*1.01 {
		t.Errorf("merged p95 %.2fms outside the workers' [%.2f, %.2f]ms", p95, lo, hi)
	}
	if got := int64(m.Metrics[reqs].Values["count"]); got != workerReqs || got == 0 {
		t.Errorf("merged run: %d requests, the workers %d between them", got, workerReqs)
	}
	if len(m.Run.Thresholds) != 3 || len(m.Run.Workers) != 4 || m.Run.Segment != "" || m.Run.Outcome.ExitCode != 0 {
		t.Errorf("merged run: thresholds %+v, workers %+v, segment %q, outcome %+v", m.Run.Thresholds, m.Run.Workers, m.Run.Segment, m.Run.Outcome)
	}
	for _, th := range m.Run.Thresholds {
		if th.Observed == nil || !th.Passed || th.Reason == "" {
			t.Errorf("merged threshold %s %s was not evaluated: %+v", th.Metric, th.Expression, th)
		}
	}
	for _, name := range []string{"report.html", "report.md", "junit.xml", "histograms/run.json"} {
		if st, err := os.Stat(filepath.Join(merged, name)); err != nil || st.Size() == 0 {
			t.Errorf("merged %s: %v", name, err)
		}
	}

	single := filepath.Join(dir, "single")
	if code, out, errOut := process(ctx, bin, append([]string{"run", "-scenario", "testdata/merge.yaml", "-out", single}, common...)...); code != 0 {
		t.Fatalf("the single run exited %d:\n%s\n%s", code, out, errOut)
	}
	s := readRun(t, single)
	planned := s.Run.Scenarios[0].Planned
	mergedIters := m.Run.Scenarios[0].Iterations
	if mergedIters != workerIters || math.Abs(float64(mergedIters-planned)) > 0.02*float64(planned) {
		t.Errorf("merged run: %d iterations, the workers %d, the single run planned %d", mergedIters, workerIters, planned)
	}
	// Four generator processes share the cores, which costs them
	// scheduling latency one process does not pay (+38% of a 200ms p95
	// once under a CPU hog). So the comparison decides with a minimum
	// effect of 50% of the second: what it must catch is a merge that is
	// wrong, not generators that are crowded.
	code, cmp, errOut := harness(ctx, "compare", "-min-effect", "0.5", single, merged)
	verdict := "none"
	if match := regexp.MustCompile(`verdict: (.+)`).FindStringSubmatch(cmp); match != nil {
		verdict = match[1]
	}
	if code != 0 || verdict != "no change" && verdict != "inconclusive" {
		t.Errorf("compare single merged exited %d, verdict %s; want no change or inconclusive:\n%s\n%s", code, verdict, cmp, errOut)
	}
	t.Logf("requests: workers %d, merged %d, single %d; iterations: merged %d, single planned %d",
		workerReqs, int64(m.Metrics[reqs].Values["count"]), int64(s.Metrics[reqs].Values["count"]), mergedIters, planned)
	t.Logf("p95: single %.2fms, merged %.2fms; compare single merged: %s",
		s.Metrics["http_req_duration"].Values["p(95)"], m.Metrics["http_req_duration"].Values["p(95)"], verdict)

	t.Run("a baseline", func(t *testing.T) {
		// The merged run is a baseline for the next merge of the same
		// workers; a run of another shape is refused as one.
		code, _, errOut := harness(ctx, append([]string{"merge", "-out", filepath.Join(dir, "again"), "-baseline", merged}, workers...)...)
		if code == exitUsage {
			t.Errorf("merge against the merged run as baseline was refused:\n%s", errOut)
		}
		if c := readRun(t, filepath.Join(dir, "again")).Run.Comparison; c == nil || c.BaselineRun == nil || c.BaselineRun.ID != m.Run.ID {
			t.Errorf("comparison %+v; want it to name the baseline run %s", c, m.Run.ID)
		}
		// One worker's run is a quarter of the load.
		code, _, errOut = harness(ctx, append([]string{"merge", "-out", filepath.Join(dir, "refused"), "-baseline", workers[0]}, workers...)...)
		if code != exitUsage || !strings.Contains(errOut, "run of segment 0/4, this run all the load") {
			t.Errorf("merge against one worker's run as baseline: exit %d, want 2 saying why:\n%s", code, errOut)
		}
	})
	t.Run("a segment missing", func(t *testing.T) {
		code, _, errOut := harness(ctx, append([]string{"merge", "-out", filepath.Join(dir, "partial")}, workers[:3]...)...)
		if code != exitFail || !strings.Contains(errOut, "segment 3/4 is missing") || !strings.Contains(errOut, workers[2]+" (2/4)") {
			t.Errorf("merge of 3 of 4 segments exited %d; want 1 naming the missing segment and the dirs:\n%s", code, errOut)
		}
	})
	t.Run("crossed only when merged", func(t *testing.T) {
		parts := runSegments(t, ctx, bin, filepath.Join(dir, "crossed"), "testdata/merge-crossed.yaml", 2, common)
		out := filepath.Join(dir, "crossed", "merged")
		code, text, errOut := harness(ctx, append([]string{"merge", "-out", out}, parts...)...)
		if code != summary.ExitCrossed {
			t.Fatalf("merge of two workers of 20 requests each under count<30 exited %d, want 99:\n%s\n%s", code, text, errOut)
		}
		if o := readRun(t, out).Run.Outcome; !strings.Contains(strings.Join(o.Reasons, "\n"), "http_reqs count<30 crossed") {
			t.Errorf("merged outcome %+v; want count<30 crossed", o)
		}
	})
	t.Logf("took %s", time.Since(began).Round(time.Millisecond))
}

const reqs = "http_reqs"

// runSegments runs the n segments of scenario at once, each in a process
// of the harness binary bin, into dir/segment-I, and fails unless each
// exits 0.
func runSegments(t *testing.T, ctx context.Context, bin, dir, scenario string, n int, common []string) []string {
	t.Helper()
	dirs := make([]string, n)
	codes := make([]int, n)
	outs := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		dirs[i] = filepath.Join(dir, fmt.Sprintf("segment-%d", i))
		wg.Go(func() {
			args := append([]string{"run", "-segment", fmt.Sprintf("%d/%d", i, n), "-scenario", scenario, "-out", dirs[i]}, common...)
			var out, errOut string
			codes[i], out, errOut = process(ctx, bin, args...)
			outs[i] = out + errOut
		})
	}
	wg.Wait()
	for i := range n {
		if codes[i] != 0 {
			t.Fatalf("worker %d/%d exited %d:\n%s", i, n, codes[i], outs[i])
		}
	}
	return dirs
}

// process runs the harness binary bin and returns its exit code and output.
func process(ctx context.Context, bin string, args ...string) (int, string, string) {
	var out, errOut bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0, out.String(), errOut.String()
	case errors.As(err, &exit):
		return exit.ExitCode(), out.String(), errOut.String()
	}
	return -1, out.String(), errOut.String() + err.Error()
}

// harness runs the harness in process and returns its exit code and output.
func harness(ctx context.Context, args ...string) (int, string, string) {
	var out, errOut bytes.Buffer
	code := run(ctx, args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func readRun(t *testing.T, dir string) *summary.Summary {
	t.Helper()
	s, err := summary.ReadFile(filepath.Join(dir, rundir.SummaryFile))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// buildHarness returns the harness binary the workers run as (each
// worker of a distributed run is a process of its own), built once per
// test process.
func buildHarness(t *testing.T) string {
	t.Helper()
	return testbin.Path(t, "github.com/taskready/taskready/cmd/harness")
}

// everyNthSlow serves on loopback, answering every nth request after
// slow and the others at once.
func everyNthSlow(t *testing.T, n int64, slow time.Duration) string {
	t.Helper()
	var count atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if count.Add(1)%n == 0 {
			select {
			case <-time.After(slow):
			case <-r.Context().Done():
			}
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"status":"OK"}`))
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}
