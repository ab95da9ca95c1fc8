package compare

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/taskready/taskready/loadtest/record"
)

// WriteText writes the report as a table, under lines giving the verdict,
// the method and the noise measured.
func (r Report) WriteText(w io.Writer) error {
	c := r.cfg
	var b strings.Builder
	fmt.Fprintf(&b, "verdict: %s\n", r.Verdict)
	fmt.Fprintf(&b, "method: %d resamples (seed %d), %g%% confidence; latency p%g corrected, threshold %g%% and at least %s; error rate threshold %s\n",
		c.resamples, c.seed, 100*c.confidence, c.percentile, 100*c.minEffect, c.minAbsolute, unsigned(formatPoints(c.minRateEffect)))
	if c.runNoise > 0 {
		fmt.Fprintf(&b, "run to run: the p%g latency of one build varies by ±%.1f%% between runs (1 sd, calibrated), added to every latency interval\n", c.percentile, 100*c.runNoise)
	}
	if r.measured {
		fmt.Fprintf(&b, "noise: the series varies beyond independent requests by ±%.2f%% of the p%g latency and ±%s of the error rate (1 sd of new-old), added to the keys' intervals\n",
			100*r.latNoise, c.percentile, unsigned(formatPoints(r.rateNoise)))
	}
	b.WriteString("\n")
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "SCOPE\tMETRIC\tOLD\tNEW\tCHANGE\t%g%% CI OF NEW-OLD\tVERDICT\tREASON\n", 100*c.confidence)
	for _, row := range r.Rows {
		format := formatPoints
		value := func(v float64) string { return unsigned(signed(v*100)) + "%" }
		if row.Unit == "ms" {
			format = formatMs
			value = func(v float64) string { return unsigned(formatMs(v)) }
		}
		ci := "-"
		if !math.IsNaN(row.Low) {
			ci = format(row.Low) + ".." + format(row.High)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n",
			row.Scope(), row.Metric, value(row.Old), value(row.New), formatChange(row.Change), ci, row.Verdict, row.Reason)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, only := range []struct {
		what string
		keys []record.Key
	}{{"only in the baseline", r.OldOnly}, {"only in the new run", r.NewOnly}} {
		if len(only.keys) == 0 {
			continue
		}
		fmt.Fprintf(&b, "%s (not compared): %s\n", only.what, strings.Join(scopes(only.keys), ", "))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// formatMs formats a signed number of milliseconds to about three
// significant digits.
func formatMs(v float64) string { return signed(v) + "ms" }

// formatPoints formats a signed difference of fractions in percentage points.
func formatPoints(v float64) string { return signed(v*100) + "pp" }

func signed(v float64) string {
	if math.Abs(v) < 0.0005 { // below what three decimals show: no "-0.000"
		v = 0
	}
	s := strconv.FormatFloat(v, 'f', decimals(v), 64)
	if v >= 0 {
		s = "+" + s
	}
	return s
}

// decimals gives v about three significant digits, at most three decimals.
func decimals(v float64) int {
	if v == 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0
	}
	return min(max(2-int(math.Floor(math.Log10(math.Abs(v)))), 0), 3)
}

func unsigned(s string) string { return strings.TrimPrefix(s, "+") }

func formatChange(c float64) string {
	if math.IsInf(c, 0) || math.IsNaN(c) {
		return "n/a"
	}
	return signed(c*100) + "%"
}
