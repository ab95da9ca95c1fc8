package report_test

import (
	"bytes"
	"io"
	"testing"

	"github.com/taskready/taskready/internal/golden"
	"github.com/taskready/taskready/internal/reporttest"
	"github.com/taskready/taskready/loadtest/report"
	"github.com/taskready/taskready/loadtest/summary"
)

// renderers are the reports, by golden-file extension.
var renderers = []struct {
	ext    string
	render func(io.Writer, *summary.Summary) error
}{
	{"txt", func(w io.Writer, s *summary.Summary) error { return report.Text(w, s) }},
	{"md", report.Markdown},
	{"junit.xml", report.JUnit},
	{"html", report.HTML},
	{"comment.md", report.Comment},
	{"load-performance.json", report.LoadPerformance},
}

func TestGolden(t *testing.T) {
	t.Parallel()
	for _, fx := range fixtures {
		for _, r := range renderers {
			t.Run(fx.name+"."+r.ext, func(t *testing.T) {
				golden.Assert(t, fx.name+"."+r.ext, reporttest.Render(t, r.render, fx.make()))
			})
		}
	}
}

// TestFixturesJSON keeps testdata/<name>.summary.json in step with the Go
// fixtures, and checks that a summary read back from JSON, which is how
// the reports get it in real use, renders exactly as the one built in Go.
func TestFixturesJSON(t *testing.T) {
	t.Parallel()
	for _, fx := range fixtures {
		t.Run(fx.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := fx.make().Write(&b); err != nil {
				t.Fatal(err)
			}
			golden.Assert(t, fx.name+".summary.json", b.Bytes())
			read, err := summary.Read(bytes.NewReader(b.Bytes()))
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range renderers {
				if got, want := reporttest.Render(t, r.render, read), reporttest.Render(t, r.render, fx.make()); !bytes.Equal(got, want) {
					t.Errorf("%s of the summary read from JSON differs from that of the Go fixture", r.ext)
				}
			}
		})
	}
}

func TestTextColor(t *testing.T) {
	t.Parallel()
	for _, fx := range fixtures {
		var plain, colored bytes.Buffer
		if err := report.Text(&plain, fx.make()); err != nil {
			t.Fatal(err)
		}
		if err := report.Text(&colored, fx.make(), report.Color(true)); err != nil {
			t.Fatal(err)
		}
		reporttest.ColorOnly(t, fx.name, plain.Bytes(), colored.Bytes())
	}
}

func TestWriteErrors(t *testing.T) {
	t.Parallel()
	for _, r := range renderers {
		if err := r.render(reporttest.FailingWriter{}, fullSummary()); err == nil {
			t.Errorf("%s: a failing writer gave no error", r.ext)
		}
	}
}

func TestNilSummary(t *testing.T) {
	t.Parallel()
	for _, r := range renderers {
		if err := r.render(io.Discard, nil); err != report.ErrNilSummary {
			t.Errorf("%s of nil: error %v; want ErrNilSummary", r.ext, err)
		}
	}
}
