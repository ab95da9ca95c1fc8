package rundir

import (
	"io"
	"strings"

	"github.com/taskready/taskready/loadtest/report"
	"github.com/taskready/taskready/loadtest/summary"
)

// Format is one report a run directory holds: its name, its file in the
// directory and the writer that renders a summary into it.
type Format struct {
	Name  string
	File  string
	Write func(io.Writer, *summary.Summary) error
}

// formats is the registry of the reports every run directory holds, in
// the order they are written and listed.
var formats = []Format{
	{Name: "html", File: "report.html", Write: report.HTML},
	{Name: "markdown", File: "report.md", Write: report.Markdown},
	{Name: "junit", File: "junit.xml", Write: report.JUnit},
}

// Formats returns the registry of report formats: a copy, so a caller
// cannot change what every run writes.
func Formats() []Format {
	return append([]Format(nil), formats...)
}

// Files lists the files of a run directory a user opens, reports first
// and the summary last: "report.html, report.md, junit.xml, summary.json".
func Files() string {
	names := make([]string, 0, len(formats)+1)
	for _, f := range formats {
		names = append(names, f.File)
	}
	return strings.Join(append(names, SummaryFile), ", ")
}
