// Package render holds the text-building pieces the load-test report
// (loadtest/report) and the readiness report (checks/report) share:
// GitHub-flavoured Markdown with its escaping and tables, terminal text
// with ANSI styles and padding, an HTML template executed in memory, and
// the numbers on charts (axis scales, trimmed decimals), which
// loadtest/capacity's page shares too.
// What a report says stays in its own package; how it is spelled is here,
// so the two reports escape and lay out text the same way.
package render

import (
	"bytes"
	"html/template"
	"io"
	"time"
)

// HTML executes tmpl with data in memory and writes the page in one
// write, so that a template error never leaves half a page behind.
func HTML(w io.Writer, tmpl *template.Template, data any) error {
	var b bytes.Buffer
	if err := tmpl.Execute(&b, data); err != nil {
		return err
	}
	_, err := w.Write(b.Bytes())
	return err
}

// Time is when a run started, as both reports print it: UTC to the
// second, "unknown" when it was not recorded.
func Time(t time.Time) string {
	if t.IsZero() {
		return "unknown"
	}
	return t.UTC().Format("2006-01-02 15:04:05") + " UTC"
}
