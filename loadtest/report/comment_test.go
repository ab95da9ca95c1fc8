package report_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/taskready/taskready/loadtest/report"
	"github.com/taskready/taskready/loadtest/summary"
)

// The comment leads with what decides a merge: after the marker and the
// title, the comparison with the baseline, or a line saying there was
// none, before any other section.
func TestCommentComparisonFirst(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		s    *summary.Summary
		want string // the line under the comparison's heading
	}{
		{"full", fullSummary(), "Baseline `out/20261127T100000Z-browse-and-write/summary.json` (run `20261127T100000Z-browse-and-write`, commit `4f1c3c9d0e8a`, started 2026-11-27 10:02:18 UTC): **regression**"},
		{"no baseline", emptySummary(), "None: this run was compared with no baseline."},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := report.Comment(&b, tt.s); err != nil {
				t.Fatal(err)
			}
			body := b.String()
			if !strings.HasPrefix(body, report.CommentMarker+"\n## ") {
				t.Fatalf("the comment does not open with the marker and the title:\n%s", body)
			}
			sections := headings(body)
			if len(sections) == 0 || sections[0] != "Comparison with baseline" {
				t.Errorf("sections %q; want the comparison first", sections)
			}
			if n := strings.Count(body, "### Comparison with baseline"); n != 1 {
				t.Errorf("the comparison is in the comment %d times; want once", n)
			}
			if !strings.Contains(body, "### Comparison with baseline\n\n"+tt.want+"\n") {
				t.Errorf("the comparison does not begin with %q:\n%s", tt.want, body)
			}
		})
	}
}

// headings are the "### " headings of a Markdown body, in order.
func headings(body string) []string {
	var out []string
	for line := range strings.Lines(body) {
		if h, ok := strings.CutPrefix(line, "### "); ok {
			out = append(out, strings.TrimSpace(h))
		}
	}
	return out
}

// A run with thousands of endpoints still makes a comment GitHub takes:
// cut at a line, after the comparison, with a note where the rest is.
func TestCommentFitsAComment(t *testing.T) {
	t.Parallel()
	s := fullSummary()
	for i := range 3000 {
		s.Run.Endpoints = append(s.Run.Endpoints, summary.Breakdown{Scenario: "browse", Endpoint: fmt.Sprintf("endpoint-é-%04d", i), Requests: 10, RPS: 1, P95: 12})
	}
	var b bytes.Buffer
	if err := report.Comment(&b, s); err != nil {
		t.Fatal(err)
	}
	body := b.String()
	if b.Len() > report.MaxCommentBytes {
		t.Fatalf("the comment is %d bytes; want at most %d", b.Len(), report.MaxCommentBytes)
	}
	if !utf8.ValidString(body) || !strings.HasPrefix(body, report.CommentMarker) || !strings.Contains(body, "**regression**") {
		t.Fatal("the cut comment lost its marker, its comparison or its encoding")
	}
	before, note, ok := strings.Cut(body, "\n\n*The rest of this report is cut to fit a comment")
	if !ok || !strings.HasSuffix(note, "report.md, beside summary.json.*\n") {
		t.Fatalf("the cut comment does not end with the note:\n%s", body[max(0, len(body)-300):])
	}
	if last := before[strings.LastIndexByte(before, '\n')+1:]; !strings.HasPrefix(last, "| ") || !strings.HasSuffix(last, " |") {
		t.Errorf("the comment is cut inside a line: %q", last)
	}

	// One that fits is not cut.
	b.Reset()
	if err := report.Comment(&b, fullSummary()); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), "cut to fit") {
		t.Error("a comment that fits was cut")
	}
}
