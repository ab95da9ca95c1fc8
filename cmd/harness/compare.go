package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"time"

	"github.com/taskready/taskready/loadtest/compare"
	"github.com/taskready/taskready/loadtest/engine"
	"github.com/taskready/taskready/loadtest/record"
	"github.com/taskready/taskready/loadtest/summary"
)

// compareFlags are the comparison's settings, shared by compare and run.
type compareFlags struct {
	percentile, minEffect, minRate float64
	minAbs                         time.Duration
}

func (c *compareFlags) register(fs *flag.FlagSet) {
	fs.Float64Var(&c.percentile, "percentile", 95, "compare: the latency percentile compared")
	fs.Float64Var(&c.minEffect, "min-effect", 0.10, "compare: the smallest relative latency change that counts (0.10 = 10%)")
	fs.DurationVar(&c.minAbs, "min-abs", time.Millisecond, "compare: the smallest absolute latency change that counts")
	fs.Float64Var(&c.minRate, "min-rate-effect", 0.005, "compare: the smallest error-rate change that counts (0.005 = half a point)")
}

func (c *compareFlags) options() []compare.Option {
	return []compare.Option{compare.Percentile(c.percentile), compare.MinEffect(c.minEffect), compare.MinAbsolute(c.minAbs), compare.MinRateEffect(c.minRate)}
}

func compareCmd() command {
	fs := flag.NewFlagSet("compare", flag.ContinueOnError)
	var cf compareFlags
	cf.register(fs)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), `usage: harness compare [flags] OLD NEW

OLD and NEW are run directories (out/<run-id>), their summary.json, or
their histograms/run.json. The verdict accounts for run-to-run noise with a
block bootstrap over the recorded intervals: regression, improvement, no
change, or inconclusive when the runs are too short or too noisy to tell.
Exit 100 on a regression, 0 otherwise.

flags:`)
		fs.PrintDefaults()
	}
	return command{fs: fs, help: "compare two runs, accounting for run-to-run noise (exit 100 on a regression)", run: func(_ context.Context, out io.Writer) error {
		if fs.NArg() != 2 {
			return fmt.Errorf("%w: want OLD and NEW", errUsage)
		}
		old, err := loadRecorder(fs.Arg(0))
		if err != nil {
			return err
		}
		cur, err := loadRecorder(fs.Arg(1))
		if err != nil {
			return err
		}
		rep, err := compare.Compare(old, cur, cf.options()...)
		if err != nil {
			return err
		}
		if err := rep.WriteText(out); err != nil {
			return err
		}
		if rep.Verdict == compare.Regression {
			return &exitError{code: summary.ExitRegression, msg: "regression"}
		}
		return nil
	}}
}

// loadRecorder reads the histograms of a run from its directory, its
// summary.json (the histograms beside it) or the histograms file itself.
func loadRecorder(path string) (*record.Recorder, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("%w: baseline: %v", errUsage, err)
	}
	file := path
	switch {
	case st.IsDir():
		file = filepath.Join(path, histogramsDir, recorderFile)
	case filepath.Base(path) == summaryFile:
		file = filepath.Join(filepath.Dir(path), histogramsDir, recorderFile)
	}
	f, err := os.Open(file)
	if err != nil {
		return nil, fmt.Errorf("%w: %v (a run directory has %s/%s)", errUsage, err, histogramsDir, recorderFile)
	}
	defer f.Close()
	rec, err := record.Decode(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return rec, nil
}

// compareWithBaseline adds the comparison with the baseline to sum and
// decides its outcome again.
func compareWithBaseline(sum *summary.Summary, res *engine.Result, baseline string, cf *compareFlags) error {
	old, err := loadRecorder(baseline)
	if err != nil {
		return err
	}
	rep, err := compare.Compare(old, res.Recorder, cf.options()...)
	if err != nil {
		return fmt.Errorf("compare with %s: %w", baseline, err)
	}
	c := &summary.Comparison{Baseline: baseline, Verdict: string(rep.Verdict)}
	for _, r := range rep.Rows {
		c.Rows = append(c.Rows, summary.ComparisonRow{
			Name: r.Scope(), Metric: r.Metric, Unit: r.Unit, Old: r.Old, New: r.New,
			Change: finite(r.Change), Low: finite(r.Low), High: finite(r.High),
			Verdict: string(r.Verdict), Reason: r.Reason,
		})
	}
	sum.Run.Comparison = c
	sum.Run.Decide()
	return nil
}

// finite keeps NaN and ±Inf, which JSON cannot carry, out of the summary.
func finite(v float64) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0
	}
	return v
}
