package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/taskready/taskready/loadtest/engine"
	"github.com/taskready/taskready/loadtest/rundir"
	"github.com/taskready/taskready/loadtest/scenario"
	"github.com/taskready/taskready/loadtest/summary"
	"github.com/taskready/taskready/scenarios"
)

func mergeCmd() command {
	fs := flag.NewFlagSet("merge", flag.ContinueOnError)
	o := mergeOptions{fs: fs}
	o.compare.register(fs)
	fs.StringVar(&o.out, "out", "", "directory for the merged summary.json, histograms/, report.html, report.md, junit.xml (default out/merged-<run-id>, linked from out/latest)")
	fs.StringVar(&o.baseline, "baseline", "", "an earlier run (its directory or summary.json) to compare the merged run with: exit 100 on a regression; refused (exit 2) unless it ran the same scenario file on the same provider, API instances and CPUs, and was valid and whole")
	fs.BoolVar(&o.baselineForce, "baseline-force", false, "compare with -baseline even when it does not match the merged run (the summary says so)")
	fs.StringVar(&o.scenario, "scenario", "", "scenario file whose thresholds and recovery budgets are evaluated (default: the file the workers ran)")
	usage := `usage: harness merge [flags] DIR...

Merges the runs of N workers that each made one execution segment of the
same scenario file (harness run -segment I/N, I from 0 to N-1, each
exactly once): their histograms, scenarios, checks and validity (dropped
iterations summed, the worst send lag and CPU, invalid if any worker was).
Then it evaluates the thresholds and recovery budgets once, on the merged
data, writes the same reports as harness run to -out, and gates as it does.

exit codes:
  0    every threshold held (and no regression against -baseline)
  99   a threshold or recovery budget was crossed (as k6)
  100  a regression against -baseline
  101  an invalid run: a worker could not keep up
  105  a worker was interrupted: budgets not judged on its partial data
  1    an error: the runs are not the N segments of one run, or unreadable
  2    a usage error`
	return command{fs: fs, help: "merge the runs of N workers (run -segment I/N) and gate once on their thresholds", usage: usage, run: o.run}
}

// mergeOptions are the flags and arguments of harness merge.
type mergeOptions struct {
	fs                      *flag.FlagSet
	out, baseline, scenario string
	baselineForce           bool
	compare                 compareFlags
}

func (o *mergeOptions) run(_ context.Context, out io.Writer) error {
	dirs := o.fs.Args()
	if len(dirs) == 0 {
		return fmt.Errorf("%w: want the run directories of the workers", errUsage)
	}
	parts := make([]engine.Part, len(dirs))
	for i, dir := range dirs {
		p, err := readPart(dir)
		if err != nil {
			return err
		}
		parts[i] = p
	}
	f, err := o.scenarioFile(out, parts[0].Summary.Run)
	if err != nil {
		return err
	}
	id := "merged-" + time.Now().UTC().Format("20060102-150405") + "-" + f.Name
	res, sum, err := engine.Merge(f, parts, engine.Meta{ID: id, Harness: version()})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "harness: merged %d segments of %s: %s\n", len(parts), f.Name, strings.Join(dirs, " "))
	dir := o.out
	if dir == "" {
		dir = filepath.Join("out", id)
	}
	env := sum.Run.Environment
	base, err := checkBaseline(out, o.baseline, rundir.Planned{Scenario: sum.Run.Name, FileSHA256: sum.Run.FileSHA256,
		Provider: env.Provider, APIInstances: env.APIInstances, CPUs: env.CPUs}, o.baselineForce)
	if err != nil {
		return err
	}
	r := &rundir.Run{Summary: sum, Recorder: res.Recorder}
	if o.baseline != "" {
		if err := base.compare(r, o.baseline, o.compare.options()...); err != nil {
			return err
		}
	}
	if err := writeOutputs(out, dir, r, 0); err != nil {
		return err
	}
	return finish(out, dir, sum)
}

// readPart reads a worker's run: a directory, or its summary.json with
// the histograms beside it.
func readPart(path string) (engine.Part, error) {
	r, err := rundir.Read(path)
	if err != nil {
		return engine.Part{}, notRunDir(err)
	}
	return engine.Part{Source: path, Summary: r.Summary, Recorder: r.Recorder}, nil
}

// scenarioFile loads the file whose thresholds the merged run is judged
// by: -scenario, or the one the workers recorded, which must not have
// changed since they ran it.
func (o *mergeOptions) scenarioFile(out io.Writer, run summary.Run) (*scenario.File, error) {
	path := o.scenario
	if path == "" {
		path = run.File
	}
	if path == "" {
		return nil, fmt.Errorf("%w: the workers recorded no scenario file: give -scenario", errUsage)
	}
	f, err := scenarios.Load(path)
	if errors.Is(err, scenarios.ErrUnknown) && o.scenario == "" && filepath.Dir(path) == "scenarios" {
		// A shipped scenario is recorded as scenarios/<name>.yaml.
		f, err = scenarios.Load(strings.TrimSuffix(filepath.Base(path), ".yaml"))
	}
	if errors.Is(err, scenarios.ErrUnknown) {
		return nil, fmt.Errorf("%w: %w (give the workers' file with -scenario)", errUsage, err)
	}
	if err != nil {
		return nil, err
	}
	switch digest := scenarioDigest(path); {
	case run.FileSHA256 == "" || digest == "" || digest == run.FileSHA256:
	case o.scenario == "":
		return nil, fmt.Errorf("%s has changed since the workers ran it (sha256 %.12s, then %.12s): give -scenario to judge their runs by another file on purpose",
			path, digest, run.FileSHA256)
	default:
		fmt.Fprintf(out, "harness: note: -scenario %s (sha256 %.12s) is not the file the workers ran (%s, sha256 %.12s); its thresholds judge their runs\n",
			path, digest, run.File, run.FileSHA256)
	}
	return f, nil
}
