package report_test

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/taskready/taskready/checks/readiness"
	"github.com/taskready/taskready/checks/report"
	"github.com/taskready/taskready/internal/golden"
	"github.com/taskready/taskready/internal/reporttest"
)

// renderers are the writers, by golden-file extension.
var renderers = []struct {
	ext    string
	render func(io.Writer, *readiness.Report) error
}{
	{"txt", func(w io.Writer, r *readiness.Report) error { return report.Text(w, r) }},
	{"json", report.JSON},
	{"md", report.Markdown},
	{"junit.xml", report.JUnit},
	{"sarif", report.SARIF},
	{"html", report.HTML},
	{"prom", report.Metrics},
}

func TestGolden(t *testing.T) {
	t.Parallel()
	for _, fx := range fixtures {
		for _, r := range renderers {
			t.Run(fx.name+"."+r.ext, func(t *testing.T) {
				golden.Assert(t, fx.name+"."+r.ext, reporttest.Render(t, r.render, fx.make(t)))
			})
		}
	}
}

// TestReadBackRendersTheSame checks that a report read back from
// readiness.json, as a later re-render gets it, renders exactly as the
// report the run made.
func TestReadBackRendersTheSame(t *testing.T) {
	t.Parallel()
	for _, fx := range fixtures {
		rep := fx.make(t)
		back, err := readiness.ReadReport(bytes.NewReader(reporttest.Render(t, report.JSON, rep)))
		if err != nil {
			t.Fatalf("%s: %v", fx.name, err)
		}
		for _, r := range renderers {
			if got, want := reporttest.Render(t, r.render, back), reporttest.Render(t, r.render, rep); !bytes.Equal(got, want) {
				t.Errorf("%s.%s of the report read back differs from the original's", fx.name, r.ext)
			}
		}
	}
}

func TestTextColor(t *testing.T) {
	t.Parallel()
	for _, fx := range fixtures {
		var plain, colored bytes.Buffer
		if err := report.Text(&plain, fx.make(t)); err != nil {
			t.Fatal(err)
		}
		if err := report.Text(&colored, fx.make(t), report.Color(true)); err != nil {
			t.Fatal(err)
		}
		reporttest.ColorOnly(t, fx.name, plain.Bytes(), colored.Bytes())
	}
}

func TestTextLayout(t *testing.T) {
	t.Parallel()
	out := string(reporttest.Render(t, func(w io.Writer, r *readiness.Report) error { return report.Text(w, r) }, fullReport(t)))
	order := []string{"NEEDS ATTENTION", "✗ FAIL  CRITICAL  jwt.alg-none", "✗ ERROR CRITICAL  backup.recent", "headers.hsts",
		"PASSED", "NOT APPLICABLE", "IGNORED BY POLICY", "CATEGORIES", "SCORE", "GATES", "✗ FAILED: gates critical, high (exit 1)"}
	at := 0
	for _, s := range order {
		i := strings.Index(out[at:], s)
		if i < 0 {
			t.Fatalf("the text lacks %q after byte %d (or has it out of order):\n%s", s, at, out)
		}
		at += i
	}
	if !strings.HasSuffix(out, "✗ FAILED: gates critical, high (exit 1)\n") {
		t.Error("the last line is not the verdict a CI log can grep")
	}
	for _, l := range strings.Split(out, "\n") {
		if n := len([]rune(l)); n > 130 {
			t.Errorf("line of %d runes: %q", n, l)
		}
	}
	failedOnly := string(reporttest.Render(t, func(w io.Writer, r *readiness.Report) error { return report.Text(w, r, report.FailedOnly(true)) }, fullReport(t)))
	if strings.Contains(failedOnly, "PASSED") || !strings.Contains(failedOnly, "jwt.alg-none") || !strings.Contains(failedOnly, "GATES") {
		t.Error("FailedOnly should keep the findings and gates and drop the tables")
	}
}

func TestWriteErrors(t *testing.T) {
	t.Parallel()
	for _, r := range renderers {
		if err := r.render(reporttest.FailingWriter{}, fullReport(t)); err == nil {
			t.Errorf("%s: a failing writer gave no error", r.ext)
		}
	}
}

func TestNilReport(t *testing.T) {
	t.Parallel()
	for _, r := range renderers {
		if err := r.render(io.Discard, nil); err != report.ErrNilReport {
			t.Errorf("%s of nil: error %v; want ErrNilReport", r.ext, err)
		}
	}
	if _, err := report.WriteFiles(t.TempDir(), nil); err != report.ErrNilReport {
		t.Errorf("WriteFiles of nil: %v", err)
	}
}

func TestWriteFiles(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "out", "readiness")
	paths, err := report.WriteFiles(dir, fullReport(t))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{report.JSONFile, report.MarkdownFile, report.JUnitFile, report.SARIFFile, report.HTMLFile, report.MetricsFile}
	if len(paths) != len(want) {
		t.Fatalf("wrote %v", paths)
	}
	for i, name := range want {
		if filepath.Base(paths[i]) != name {
			t.Errorf("file %d is %s; want %s", i, paths[i], name)
		}
		if st, err := os.Stat(paths[i]); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestEvidenceTruncated(t *testing.T) {
	t.Parallel()
	rep := fullReport(t)
	for _, r := range rep.Results {
		for _, ev := range r.Evidence {
			if len(ev.Response) > readiness.EvidenceFieldLimit+40 {
				t.Errorf("%s: a response of %d bytes reached the report", r.ID, len(ev.Response))
			}
		}
	}
	md := string(reporttest.Render(t, report.Markdown, rep))
	if !strings.Contains(md, " bytes]") {
		t.Error("the Markdown does not say the long body was cut")
	}
	if len(md) > 60000 {
		t.Errorf("the Markdown is %d bytes; a PR comment holds 65536", len(md))
	}
	js := string(reporttest.Render(t, report.JSON, rep))
	if !strings.Contains(js, "… [truncated ") {
		t.Error("the JSON does not mark the truncated body")
	}
}

// TestWhatWasChecked: every format people read says which builds were
// involved, which waivers expired or expire soon, and what changed since
// the previous run.
func TestWhatWasChecked(t *testing.T) {
	t.Parallel()
	rep := fullReport(t)
	for _, r := range renderers {
		switch r.ext {
		case "junit.xml", "prom":
			continue
		}
		out := string(reporttest.Render(t, r.render, rep))
		for _, want := range []string{
			"v0.9.0 1a2b3c4d5e6f", "9f8e7d6c5b4a", // the harness and the API
			"waiver for headers.server-banner expired on 2026-11-15 (bob@example.com)",
			"waiver for limits.auth-burst expires on 2026-12-05 (alice@example.com), in 6 days",
			"20261121T150011Z-77aa01", "headers.hsts", // the previous run, a check newly failing
		} {
			if !strings.Contains(out, want) {
				t.Errorf("%s lacks %q", r.ext, want)
			}
		}
		if r.ext != "sarif" && !strings.Contains(out, "newly failing") && !strings.Contains(out, "newly_failing") {
			t.Errorf("%s does not say what is newly failing", r.ext)
		}
	}
}
