package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/taskready/taskready/loadtest/report"
	"github.com/taskready/taskready/loadtest/rundir"
	"github.com/taskready/taskready/loadtest/summary"
)

// reportFormats are what harness report renders: every report a run
// directory holds, the terminal's text, and the two documents CI systems
// read (a pull-request comment, GitLab's load performance report).
func reportFormats() []rundir.Format {
	return append([]rundir.Format{{Name: "text", Write: func(w io.Writer, s *summary.Summary) error { return report.Text(w, s) }}},
		append(rundir.Formats(),
			rundir.Format{Name: "comment", File: "comment.md", Write: report.Comment},
			rundir.Format{Name: "load-performance", File: "load-performance.json", Write: report.LoadPerformance})...)
}

// reportOptions are the flags and argument of harness report.
type reportOptions struct {
	fs          *flag.FlagSet
	format, out string
}

func reportCmd() command {
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	o := &reportOptions{fs: fs}
	var names []string
	for _, f := range reportFormats() {
		names = append(names, f.Name)
	}
	fs.StringVar(&o.format, "format", "markdown", "the report: "+strings.Join(names, ", "))
	fs.StringVar(&o.out, "o", "", "write it to this file instead of standard output")
	usage := `usage: harness report [-format F] [-o FILE] RUN

Renders a report of a finished run from its summary.json: RUN is the run
directory (out/<run-id>, a compact baseline, a k6 import) or that file.
The formats:
  text, markdown, html, junit   what the run printed and wrote
  comment           report.md as a pull-request comment: a hidden marker
                    (<!-- taskready-load -->) for a CI job to find and
                    update its comment by, and the comparison with the
                    baseline first; at most 65,536 bytes
  load-performance  the metrics as k6's --summary-export with
                    http_req_waiting, for GitLab's load_performance report
                    (the harness does not time the first byte apart: it is
                    the latency as sent, an upper bound, and the document
                    says so)
Exit 0 when the report is written, whatever the run's verdict.`
	return command{fs: fs, help: "render a report of a finished run (a PR comment, GitLab's load performance report, ...)", usage: usage, run: o.run}
}

func (o *reportOptions) run(_ context.Context, out io.Writer) error {
	if o.fs.NArg() != 1 {
		return fmt.Errorf("%w: want one RUN (flags go before it)", errUsage)
	}
	var format *rundir.Format
	var names []string
	for _, f := range reportFormats() {
		if f.Name == o.format {
			format = &f
		}
		names = append(names, f.Name)
	}
	if format == nil {
		return fmt.Errorf("%w: -format %q is not one of %s%s", errUsage, o.format, strings.Join(names, ", "), didYouMean(o.format, names))
	}
	path := o.fs.Arg(0)
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		path = filepath.Join(path, rundir.SummaryFile)
	}
	s, err := summary.ReadFile(path)
	if os.IsNotExist(err) {
		return fmt.Errorf("%w: %w: %s has no %s", errUsage, rundir.ErrNotRunDir, o.fs.Arg(0), rundir.SummaryFile)
	}
	if err != nil {
		return err
	}
	if o.out == "" {
		return format.Write(out, s)
	}
	return rundir.WriteFile(o.out, func(w io.Writer) error { return format.Write(w, s) })
}
