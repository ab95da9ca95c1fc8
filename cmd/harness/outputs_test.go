package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/taskready/taskready/loadtest/rundir"
	"github.com/taskready/taskready/loadtest/summary"
)

// A run written in out/ becomes out/latest, and -keep prunes the older
// run directories of out/ and nothing else there.
func TestWriteOutputsRetention(t *testing.T) {
	sum, err := summary.ReadFile("../../loadtest/rundir/testdata/run.summary.json")
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(t.TempDir())
	old := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for i, name := range []string{"20260301-120000-smoke", "20260301-120100-smoke", "20260301-120200-smoke"} {
		file := filepath.Join("out", name, rundir.SummaryFile)
		if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(file, []byte("{}"), 0o644); err != nil {
			t.Fatal(err)
		}
		at := old.Add(time.Duration(i) * time.Minute)
		if err := os.Chtimes(file, at, at); err != nil {
			t.Fatal(err)
		}
	}
	for _, keep := range []string{"out/readiness-20260301-120000", "out/backups"} {
		if err := os.MkdirAll(keep, 0o755); err != nil {
			t.Fatal(err)
		}
	}

	var out bytes.Buffer
	if err := writeOutputs(&out, "out/20260302-090000-smoke", &rundir.Run{Summary: sum}, 2); err != nil {
		t.Fatal(err)
	}
	if target, err := os.Readlink("out/latest"); err != nil || target != "20260302-090000-smoke" {
		t.Errorf("out/latest -> %q (%v); want the new run", target, err)
	}
	entries, _ := os.ReadDir("out")
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	want := "20260301-120200-smoke 20260302-090000-smoke backups latest readiness-20260301-120000"
	if got := strings.Join(names, " "); got != want {
		t.Errorf("out/ holds %s; want %s", got, want)
	}
	if msg := "harness: removed 2 older run(s) from out/ (-keep 2): 20260301-120000-smoke, 20260301-120100-smoke\n"; out.String() != msg {
		t.Errorf("said %q; want %q", out.String(), msg)
	}
}

func TestKeepFlag(t *testing.T) {
	for _, tt := range []struct {
		args []string
		env  string
		says string
	}{
		{[]string{"run", "-keep", "-1"}, "", `invalid value "-1" for flag -keep: want a number of runs, 0 to keep them all`},
		{[]string{"run"}, "some", `HARNESS_KEEP="some": invalid value for -keep: want a number of runs`},
	} {
		if tt.env != "" {
			t.Setenv("HARNESS_KEEP", tt.env)
		}
		var stdout, stderr bytes.Buffer
		if code := run(context.Background(), tt.args, &stdout, &stderr); code != exitUsage || !strings.Contains(stderr.String(), tt.says) {
			t.Errorf("harness %v (HARNESS_KEEP=%q) = %d, %q; want %d and %q", tt.args, tt.env, code, stderr.String(), exitUsage, tt.says)
		}
	}
}
