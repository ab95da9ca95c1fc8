package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/taskready/taskready/loadtest/report"
)

// harness report renders a finished run's summary: from the directory or
// the file, to stdout or -o, in the formats CI posts; a wrong format or a
// directory without a run is the user's mistake (exit 2), said in one line.
func TestReportCommand(t *testing.T) {
	t.Parallel()
	fixture, err := os.ReadFile("../../loadtest/report/testdata/full.summary.json")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "summary.json"), fixture, 0o644); err != nil {
		t.Fatal(err)
	}
	harness := func(args ...string) (int, string, string) {
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), append([]string{"report"}, args...), &stdout, &stderr)
		return code, stdout.String(), stderr.String()
	}

	code, out, errs := harness("-format", "comment", dir)
	if code != 0 || !strings.HasPrefix(out, report.CommentMarker+"\n") {
		t.Fatalf("report -format comment DIR = %d, stderr %q; want the comment:\n%.300s", code, errs, out)
	}
	if c, th := strings.Index(out, "### Comparison with baseline"), strings.Index(out, "### Thresholds"); c < 0 || th < c {
		t.Errorf("the comparison (at %d) is not before the thresholds (at %d)", c, th)
	}

	file := filepath.Join(dir, "load-performance.json")
	if code, out, errs := harness("-format", "load-performance", "-o", file, filepath.Join(dir, "summary.json")); code != 0 || out != "" {
		t.Fatalf("report -format load-performance -o = %d, stdout %q, stderr %q", code, out, errs)
	}
	var doc struct {
		Metrics map[string]map[string]any `json:"metrics"`
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &doc); err != nil || doc.Metrics["http_req_waiting"]["p(95)"] == nil {
		t.Errorf("-o wrote no load performance report (%v):\n%.300s", err, data)
	}

	if code, out, _ := harness(dir); code != 0 || !strings.HasPrefix(out, "## browse-and-write: **THRESHOLDS CROSSED**") {
		t.Errorf("report DIR = %d; want report.md:\n%.200s", code, out)
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-format", "coment", dir}, `-format "coment" is not one of text, html, markdown, junit, comment, load-performance (did you mean "comment"?)`},
		{[]string{t.TempDir()}, "not a run directory"},
		{[]string{}, "want one RUN"},
	} {
		if code, _, errs := harness(tc.args...); code != exitUsage || !strings.Contains(errs, tc.want) {
			t.Errorf("report %q = %d, %q; want %d and %q", tc.args, code, errs, exitUsage, tc.want)
		}
	}
}
