package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/taskready/taskready/loadtest/compare"
	"github.com/taskready/taskready/loadtest/rundir"
	"github.com/taskready/taskready/loadtest/summary"
)

// compareFlags are the comparison's settings, shared by compare and run.
type compareFlags struct {
	percentile, minEffect, minRate, runNoise float64
	minAbs                                   time.Duration
}

func (c *compareFlags) register(fs *flag.FlagSet) {
	fs.Float64Var(&c.percentile, "percentile", 95, "compare: the latency percentile compared")
	fs.Float64Var(&c.minEffect, "min-effect", 0.10, "compare: the smallest relative latency change that counts (0.10 = 10%)")
	fs.DurationVar(&c.minAbs, "min-abs", time.Millisecond, "compare: the smallest absolute latency change that counts")
	fs.Float64Var(&c.minRate, "min-rate-effect", 0.005, "compare: the smallest error-rate change that counts (0.005 = half a point)")
	fs.Float64Var(&c.runNoise, "run-noise", 0, "compare: how much the latency percentile of one build varies from run to run, beyond what a run shows in itself (0.05 = 5%, one standard deviation; harness calibrate measures it)")
}

func (c *compareFlags) options() []compare.Option {
	return []compare.Option{compare.Percentile(c.percentile), compare.MinEffect(c.minEffect), compare.MinAbsolute(c.minAbs), compare.MinRateEffect(c.minRate), compare.RunNoise(c.runNoise)}
}

// compareOptions are the flags and arguments of harness compare.
type compareOptions struct {
	fs      *flag.FlagSet
	compare compareFlags
	json    jsonOutput
}

func compareCmd() command {
	fs := flag.NewFlagSet("compare", flag.ContinueOnError)
	o := &compareOptions{fs: fs}
	o.compare.register(fs)
	o.json.register(fs)
	usage := `usage: harness compare [flags] OLD NEW

OLD and NEW are run directories (out/<run-id>), their summary.json, or
their histograms/run.json. The verdict accounts for run-to-run noise with a
block bootstrap over the recorded intervals: regression, improvement, no
change, or inconclusive when the runs are too short or too noisy to tell.
Exit 100 on a regression, 0 otherwise. With -json, stdout holds one
document: the verdict, the method, the noise and a row per comparison.`
	return command{fs: fs, help: "compare two runs, accounting for run-to-run noise (exit 100 on a regression)", usage: usage, run: o.run, json: &o.json}
}

func (o *compareOptions) run(_ context.Context, out io.Writer) error {
	if o.fs.NArg() != 2 {
		return fmt.Errorf("%w: want OLD and NEW", errUsage)
	}
	old, err := rundir.ReadRecorder(o.fs.Arg(0))
	if err != nil {
		return notRunDir(err)
	}
	cur, err := rundir.ReadRecorder(o.fs.Arg(1))
	if err != nil {
		return notRunDir(err)
	}
	rep, err := compare.Compare(old, cur, o.compare.options()...)
	if err != nil {
		return err
	}
	write := rep.WriteText
	if o.json.on {
		write = func(w io.Writer) error { return o.json.write(w, rep) }
	}
	if err := write(out); err != nil {
		return err
	}
	if rep.Verdict == compare.Regression {
		return &exitError{code: summary.ExitRegression, msg: "regression"}
	}
	return nil
}
