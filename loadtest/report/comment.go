package report

import (
	"io"
	"strings"

	"github.com/taskready/taskready/loadtest/summary"
)

// CommentMarker opens every comment Comment writes. Markdown renderers
// hide it; a CI job searches a pull request's comments for it to update
// the one it posted before, so a pull request pushed ten times has one
// load-test comment, not ten.
const CommentMarker = "<!-- taskready-load -->"

// MaxCommentBytes bounds what Comment writes: GitHub refuses a comment
// body longer than 65,536 characters, and a character is at least a byte.
const MaxCommentBytes = 65536

// commentCut ends a comment that was cut to fit MaxCommentBytes. It
// follows a blank line, so it never reads as a row of a cut table.
const commentCut = "\n\n*The rest of this report is cut to fit a comment: the whole of it is report.md, beside summary.json.*\n"

// Comment writes s as a pull-request comment: CommentMarker, the title
// with the status and its reasons, then the comparison with the baseline,
// since that is what a reviewer decides the merge on, then the sections of
// Markdown. A run without a comparison says so where the table would be,
// so a missing baseline is not mistaken for "no change". A body longer
// than MaxCommentBytes is cut at a line and says where the rest is.
func Comment(w io.Writer, s *summary.Summary) error {
	if s == nil {
		return ErrNilSummary
	}
	m := &mdWriter{s: s}
	m.P(CommentMarker)
	m.title()
	if s.Run.Comparison == nil {
		m.section("Comparison with baseline")
		m.P("None: this run was compared with no baseline.")
	}
	m.comparison()
	m.details()
	_, err := io.WriteString(w, fitComment(m.String()))
	return err
}

// fitComment is body cut at its last line break that leaves room for
// commentCut within MaxCommentBytes, or body itself when it fits.
func fitComment(body string) string {
	if len(body) <= MaxCommentBytes {
		return body
	}
	head := body[:MaxCommentBytes-len(commentCut)]
	if i := strings.LastIndexByte(head, '\n'); i > 0 {
		head = head[:i]
	}
	return strings.ToValidUTF8(head, "") + commentCut
}
