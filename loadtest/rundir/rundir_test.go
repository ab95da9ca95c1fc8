package rundir_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/taskready/taskready/loadtest/compare"
	"github.com/taskready/taskready/loadtest/record"
	"github.com/taskready/taskready/loadtest/rundir"
	"github.com/taskready/taskready/loadtest/summary"
)

var start = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// recorder records n requests of latency lat, one every 10ms.
func recorder(t *testing.T, n int, lat time.Duration) *record.Recorder {
	t.Helper()
	r, err := record.New(start)
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		at := start.Add(time.Duration(i) * 10 * time.Millisecond)
		r.Add(record.Sample{Scenario: "s", Endpoint: "list", Method: "GET", Status: 200, Intended: at, Start: at, Latency: lat})
	}
	return r
}

func fixture(t *testing.T) *summary.Summary {
	t.Helper()
	s, err := summary.ReadFile(filepath.Join("testdata", "run.summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestWriteRead(t *testing.T) {
	dir := t.TempDir()
	r := &rundir.Run{Summary: fixture(t), Recorder: recorder(t, 100, 20*time.Millisecond)}
	if err := r.Write(dir); err != nil {
		t.Fatal(err)
	}
	for _, f := range rundir.Formats() {
		if st, err := os.Stat(filepath.Join(dir, f.File)); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v, want a non-empty report", f.Name, err)
		}
	}
	for _, path := range []string{dir, filepath.Join(dir, rundir.SummaryFile)} {
		back, err := rundir.Read(path)
		if err != nil {
			t.Fatalf("Read(%s): %v", path, err)
		}
		if back.Summary.Run.ID != r.Summary.Run.ID || back.Recorder.Snapshot().Total.Count != 100 {
			t.Errorf("Read(%s): id %q, %d requests; want %q, 100", path, back.Summary.Run.ID, back.Recorder.Snapshot().Total.Count, r.Summary.Run.ID)
		}
	}
	if _, err := rundir.ReadRecorder(filepath.Join(dir, rundir.HistogramsDir, rundir.RecorderFile)); err != nil {
		t.Errorf("ReadRecorder of the histograms file: %v", err)
	}
}

func TestNotRunDir(t *testing.T) {
	empty := t.TempDir()
	for name, read := range map[string]func() error{
		"Read of an empty directory":     func() error { _, err := rundir.Read(empty); return err },
		"ReadRecorder of an empty dir":   func() error { _, err := rundir.ReadRecorder(empty); return err },
		"ReadRecorder of a missing path": func() error { _, err := rundir.ReadRecorder(filepath.Join(empty, "nope")); return err },
		"Compare with a missing baseline": func() error {
			r := &rundir.Run{Summary: fixture(t), Recorder: recorder(t, 10, time.Millisecond)}
			return r.Compare(filepath.Join(empty, "nope"))
		},
	} {
		if err := read(); !errors.Is(err, rundir.ErrNotRunDir) {
			t.Errorf("%s: %v; want ErrNotRunDir", name, err)
		}
	}
}

func TestReadDamaged(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, rundir.HistogramsDir), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, rundir.HistogramsDir, rundir.RecorderFile), []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := rundir.ReadRecorder(dir)
	if err == nil || errors.Is(err, rundir.ErrNotRunDir) {
		t.Errorf("damaged histograms: %v; want a decode error, not ErrNotRunDir", err)
	}
}

// TestCompare: a run ten times slower than its baseline carries a
// regression in its summary, and nothing decided yet.
func TestCompare(t *testing.T) {
	base := t.TempDir()
	if err := (&rundir.Run{Summary: fixture(t), Recorder: recorder(t, 3000, 5*time.Millisecond)}).Write(base); err != nil {
		t.Fatal(err)
	}
	sum := fixture(t)
	sum.Run.Outcome = summary.Outcome{}
	r := &rundir.Run{Summary: sum, Recorder: recorder(t, 3000, 50*time.Millisecond)}
	if err := r.Compare(base, compare.Percentile(95)); err != nil {
		t.Fatal(err)
	}
	c := sum.Run.Comparison
	if c == nil || c.Baseline != base || c.Verdict != string(compare.Regression) || len(c.Rows) == 0 {
		t.Fatalf("comparison %+v; want a regression against %s", c, base)
	}
	if sum.Run.Outcome.Status != "" {
		t.Errorf("Compare decided the outcome: %+v", sum.Run.Outcome)
	}

	// Write decides, with the comparison among its inputs: the valid run
	// whose thresholds held is a regression, in the file as in memory.
	sum.Run.Validity = summary.Validity{Valid: true}
	sum.Run.Thresholds, sum.Run.Recoveries = nil, nil
	dir := t.TempDir()
	if err := r.Write(dir); err != nil {
		t.Fatal(err)
	}
	back, err := rundir.Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	for name, o := range map[string]summary.Outcome{"in memory": sum.Run.Outcome, "written": back.Summary.Run.Outcome} {
		if o.Status != summary.StatusRegression || o.ExitCode != summary.ExitRegression {
			t.Errorf("%s: outcome %+v; want a regression, exit 100", name, o)
		}
	}
}

func TestComparisonFinite(t *testing.T) {
	nan := 0.0
	nan /= nan
	c := rundir.Comparison("old", compare.Report{Verdict: compare.Inconclusive, Rows: []compare.Row{{Metric: "p95 latency", Change: nan, Low: nan, High: 1}}})
	if row := c.Rows[0]; row.Change != 0 || row.Low != 0 || row.High != 1 {
		t.Errorf("row %+v; want NaN kept out as 0", row)
	}
}

func TestFiles(t *testing.T) {
	if got, want := rundir.Files(), "report.html, report.md, junit.xml, summary.json"; got != want {
		t.Errorf("Files() = %q; want %q", got, want)
	}
}
