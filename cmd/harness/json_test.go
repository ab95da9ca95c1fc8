package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/taskready/taskready/internal/golden"
	"github.com/taskready/taskready/loadtest/capacity"
	"github.com/taskready/taskready/loadtest/compare"
	"github.com/taskready/taskready/loadtest/record"
	"github.com/taskready/taskready/loadtest/rundir"
	"github.com/taskready/taskready/loadtest/scenario"
	"github.com/taskready/taskready/loadtest/summary"
)

// harnessJSON runs the harness in this process with args and decodes its
// stdout, which must be one JSON document whatever the exit code, into v.
func harnessJSON(t *testing.T, v any, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(context.Background(), args, &out, &errOut)
	dec := json.NewDecoder(bytes.NewReader(out.Bytes()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("harness %v: stdout is no JSON document of %T: %v\nstdout:\n%s\nstderr:\n%s", args, v, err, out.String(), errOut.String())
	}
	if dec.More() {
		t.Errorf("harness %v: stdout holds more than one document:\n%s", args, out.String())
	}
	return code, out.String(), errOut.String()
}

func TestValidateJSON(t *testing.T) {
	var v scenario.Validation
	code, stdout, stderr := harnessJSON(t, &v, "validate", "-json", "testdata/broken.yaml", "testdata/compare.yaml", "testdata/no-such.yaml")
	golden.Assert(t, "validate.json", []byte(stdout))
	if code != exitUsage {
		t.Errorf("exit %d, want %d as without -json", code, exitUsage)
	}
	// Diagnostics stay on stderr, as without -json.
	if !strings.Contains(stderr, "testdata/broken.yaml:4: scenarios.s.executor: unknown executor") {
		t.Errorf("stderr lacks the problem:\n%s", stderr)
	}
	if v.Valid || len(v.Files) != 3 || !v.Files[1].Valid || len(v.Errors) != 2 || v.Errors[0].Line != 4 {
		t.Errorf("validation %+v; want invalid, compare.yaml valid, two errors", v)
	}

	code, stdout, _ = harnessJSON(t, &v, "validate", "-json", "../../scenarios/smoke.yaml")
	if code != exitPass || !v.Valid || !strings.Contains(stdout, `"errors": []`) {
		t.Errorf("a valid file: exit %d, %s; want 0, valid, an empty list of errors", code, stdout)
	}
}

// A command given -json that fails before it has a result still prints
// one document: the error and the exit code.
func TestJSONOnFailure(t *testing.T) {
	tests := []struct {
		args []string
		code int
		says string
	}{
		{[]string{"validate", "-json"}, exitUsage, "name at least one scenario file"},
		{[]string{"compare", "-json", "testdata/no-such-run", "testdata"}, exitUsage, "not a run directory"},
		{[]string{"capacity", "-json", "-scenario", "no-such-scenario"}, exitUsage, "no-such-scenario"},
		{[]string{"capacity", "-json", "-start", "0"}, exitUsage, "-start"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var doc errorDocument
			code, _, stderr := harnessJSON(t, &doc, tt.args...)
			if code != tt.code || doc.ExitCode != code || !strings.Contains(doc.Error, tt.says) {
				t.Errorf("exit %d, document %+v; want %d and an error saying %q", code, doc, tt.code, tt.says)
			}
			if !strings.Contains(stderr, tt.says) {
				t.Errorf("stderr %q does not say it too", stderr)
			}
		})
	}
}

// writeRun writes a run directory of 30 seconds at 100 requests/s whose
// latencies are spread over 10-60ms times scale, and returns its path.
func writeRun(t *testing.T, scale float64) string {
	t.Helper()
	start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	rec, err := record.New(start)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3000 {
		ms := 10 + float64(i*7919%500)/10 // a fixed spread, the same every run
		rec.Add(record.Sample{Scenario: "browse", Endpoint: "list", Phase: "steady", Status: 200,
			Start: start.Add(time.Duration(i) * 10 * time.Millisecond), Latency: time.Duration(ms * scale * float64(time.Millisecond))})
	}
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, rundir.HistogramsDir), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := rundir.WriteFile(filepath.Join(dir, rundir.HistogramsDir, rundir.RecorderFile), rec.Encode); err != nil {
		t.Fatal(err)
	}
	return dir
}

// compare -json prints the report's document and nothing else on stdout,
// with the exit code compare has without -json.
func TestCompareJSON(t *testing.T) {
	old, slow := writeRun(t, 1), writeRun(t, 1.5)
	for _, tt := range []struct {
		name     string
		old, cur string
		code     int
		verdict  compare.Verdict
	}{
		{"regression", old, slow, summary.ExitRegression, compare.Regression},
		{"itself", old, old, exitPass, compare.NoChange},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var doc compare.Document
			code, stdout, stderr := harnessJSON(t, &doc, "compare", "-json", "-min-effect", "0.2", tt.old, tt.cur)
			if code != tt.code || doc.Verdict != tt.verdict || stderr != "" {
				t.Errorf("exit %d, verdict %s, stderr %q; want %d, %s and nothing on stderr", code, doc.Verdict, stderr, tt.code, tt.verdict)
			}
			// The document is the report's, as the package makes it.
			a, _ := rundir.ReadRecorder(tt.old)
			b, _ := rundir.ReadRecorder(tt.cur)
			rep, err := compare.Compare(a, b, compare.MinEffect(0.2))
			if err != nil {
				t.Fatal(err)
			}
			want, _ := json.MarshalIndent(rep, "", "  ")
			if stdout != string(want)+"\n" {
				t.Errorf("stdout\n%s\nwant\n%s", stdout, want)
			}
			if doc.Method.MinEffect != 0.2 || len(doc.Rows) != 4 {
				t.Errorf("method %+v, %d rows; want -min-effect 0.2 and 4 rows", doc.Method, len(doc.Rows))
			}
		})
	}
}

// capacity -json against a loopback target: the report on stdout (the
// same as its -out file), every progress line on stderr.
func TestCapacityJSON(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
	t.Cleanup(srv.Close)
	file := filepath.Join(t.TempDir(), "capacity.json")
	var rep capacity.Report
	code, stdout, stderr := harnessJSON(t, &rep, "capacity", "-json", "-target", srv.URL, "-scenario", "testdata/capacity.yaml",
		"-seed-users", "0", "-start", "5", "-max", "10", "-hold", "1s", "-out", file)
	if code != exitPass {
		t.Fatalf("exit %d; want 0\nstderr:\n%s", code, stderr)
	}
	// Whether 10/s held or this busy machine's generator fell behind,
	// the search tried 5/s first and says so.
	if len(rep.Steps) == 0 || rep.Steps[0].Rate != 5 || rep.Scenario != "capacity" || rep.Target != srv.URL || rep.HoldMs != 1000 {
		t.Errorf("report %+v; want the steps from 5/s of scenario capacity against %s, held 1000ms", rep, srv.URL)
	}
	for _, want := range []string{"harness: searching the capacity", "capacity:      5/s for 1s", "\ncapacity: "} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if data, err := os.ReadFile(file); err != nil || string(data) != stdout {
		t.Errorf("-out file %q (%v) differs from stdout %q", data, err, stdout)
	}
	// Beside it, the page with the chart; on stderr, the steps' table.
	if page, err := os.ReadFile(strings.TrimSuffix(file, ".json") + ".html"); err != nil || !strings.Contains(string(page), `<table id="steps">`) {
		t.Errorf("capacity.html: %v; want the page with the steps", err)
	}
	if !strings.Contains(stderr, "achieved         p95   errors  verdict") || !strings.Contains(stderr, "5/s ") {
		t.Errorf("stderr lacks the steps' table:\n%s", stderr)
	}
}
