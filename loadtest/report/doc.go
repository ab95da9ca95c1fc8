// Package report renders the result document of a load run, summary.json
// (package summary), for people and for CI, in four forms and two
// shapes of them for CI systems:
//
//   - Text, the end-of-run summary for a terminal, laid out as k6 lays out
//     its own (thresholds, then totals with dot-leader columns) so that
//     people who read k6 summaries read ours without learning anything,
//     plus what k6 does not have: validity, recoveries, phases, the
//     scenarios' target against achieved rate, the baseline comparison,
//     and a last line with the outcome and exit code a CI log can grep.
//   - Markdown, for a CI job summary or a pull-request comment: the status
//     in the title and the reasons under it, because that is what a
//     reviewer reads first, then tables. No emoji and no raw HTML, so it
//     reads the same in any renderer; "|" and formatting characters in
//     names are escaped.
//   - JUnit, the one result format every CI system shows natively: a
//     suite per kind of verdict (thresholds, checks, validity, and
//     recoveries and comparison when the run has them), a failure per
//     crossed threshold, failed check, failed validity check or recovery,
//     and regression, pointing at the scenario file's line when known.
//   - HTML, one self-contained page for a CI artifact: inline CSS, charts
//     drawn here as inline SVG, one small inline script (a legend entry
//     hides and shows its series; without it every series shows), no
//     script, font or stylesheet fetched when it is opened, so it still
//     renders offline and years later. The charts share one time axis
//     with the phases shaded behind them, so a latency spike lines up
//     with the phase that caused it: rate, iterations (target, achieved,
//     dropped), latency (with the thresholds, a phase's only over that
//     phase, and the baseline's percentiles), status codes and errors,
//     then the latency distribution. An axis is scaled to its data: a
//     bound far above it is marked at the top edge, not drawn to scale.
//   - Comment, Markdown as a pull-request comment: a hidden marker a CI
//     job finds its earlier comment by, and the comparison with the
//     baseline first, since that is what decides a merge.
//   - LoadPerformance, the metrics in k6's --summary-export shape with
//     http_req_waiting added, for GitLab's load performance report.
//
// Every renderer reads only the *summary.Summary it is given and never
// changes it, so a summary imported from k6 is reported the same way as one
// of our own runs, and renderers may run concurrently on one summary. A
// summary whose outcome was never decided is decided on a copy.
//
// # Units
//
// k6 thresholds carry no units: p(95)<300 means milliseconds only because
// http_req_duration is a time trend. The reports print every value in its
// metric's unit (times as k6 prints them, "72.13ms" or "1.5s"; rates of
// rate metrics as percentages; counter rates per second), knowing the
// k6 built-in metrics by name and guessing the kind of a custom metric
// from the values its summary holds.
//
// # Numbers that cannot be drawn
//
// An empty series, a single point, a run without requests, and NaN or an
// infinity from a broken import all render: a latency of an interval
// without requests is a gap, not a zero; a series of one point is drawn
// across its interval; a value that is not a number is drawn as 0 and
// printed as "n/a", so no NaN or Inf ever reaches the SVG.
//
// # Use
//
//	s, err := summary.ReadFile("out/run-1/summary.json")
//	if err != nil { ... }
//	report.Text(os.Stdout, s, report.Color(stdoutIsTerminal))
//	report.JUnit(junitFile, s)
//	report.HTML(htmlFile, s)
package report
