package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/taskready/taskready/loadtest/k6"
	"github.com/taskready/taskready/loadtest/rundir"
	"github.com/taskready/taskready/loadtest/scenario"
	"github.com/taskready/taskready/loadtest/summary"
	"github.com/taskready/taskready/scenarios"
)

// k6Options are the flags of harness k6.
type k6Options struct {
	fs                                   *flag.FlagSet
	baseURL, outFile                     string
	summaryFile, stream, outDir, runName string
}

func k6Cmd() command {
	fs := flag.NewFlagSet("k6", flag.ContinueOnError)
	o := k6Options{fs: fs}
	fs.StringVar(&o.baseURL, "base-url", k6.DefaultBaseURL, "export: the script's default BASE_URL (k6 -e BASE_URL=... overrides it)")
	fs.StringVar(&o.outFile, "o", "", "export: write the script here instead of standard output")
	fs.StringVar(&o.summaryFile, "summary", "", "import: k6's --summary-export JSON")
	fs.StringVar(&o.stream, "stream", "", "import: k6's --out json stream (.ndjson, gzip or not)")
	fs.StringVar(&o.outDir, "out", "", "import: directory for summary.json and the reports (default out/<run-id>, linked from out/latest)")
	fs.StringVar(&o.runName, "name", "k6", "import: the run's name in the reports")
	usage := `usage: harness k6 export|import [flags]

Export a scenario as a k6 script; import k6's results.

  harness k6 export [-base-url URL] [-o FILE] SCENARIO
      write a k6 script with the scenario's scenarios, journeys and thresholds
  harness k6 import [-summary FILE] [-stream FILE] [-out DIR]
      read k6's results into our summary, reports and gating (exit 99 when
      k6 found a threshold crossed, 101 when it dropped iterations)`
	return command{fs: fs, help: "export a scenario as a k6 script; import k6's results", usage: usage, run: o.run}
}

func (o *k6Options) run(_ context.Context, out io.Writer) error {
	sub, err := subcommand(o.fs, "export", "import")
	if err != nil {
		return err
	}
	switch sub {
	case "export":
		if o.fs.NArg() != 1 {
			return fmt.Errorf("%w: k6 export takes one scenario", errUsage)
		}
		f, err := scenarios.Load(o.fs.Arg(0))
		if err != nil {
			return fmt.Errorf("%w: %w", errUsage, err)
		}
		return k6Export(out, f, o.baseURL, o.outFile)
	case "import":
		if o.summaryFile == "" && o.stream == "" {
			return fmt.Errorf("%w: k6 import needs -summary, -stream or both", errUsage)
		}
		sum, err := k6Import(o.summaryFile, o.stream, o.runName)
		if err != nil {
			return err
		}
		dir := o.outDir
		if dir == "" {
			dir = filepath.Join("out", time.Now().UTC().Format("20060102-150405")+"-"+o.runName)
		}
		sum.Run.ID = filepath.Base(dir)
		if err := writeOutputs(out, dir, &rundir.Run{Summary: sum}, 0); err != nil {
			return err
		}
		return finish(out, dir, sum)
	}
	return fmt.Errorf("%w: unknown k6 subcommand %q: want export or import", errUsage, sub)
}

// k6Export writes f as a k6 script to path, or to out when path is empty.
func k6Export(out io.Writer, f *scenario.File, baseURL, path string) error {
	if path == "" {
		return k6.Export(out, f, k6.BaseURL(baseURL))
	}
	if err := rundir.WriteFile(path, func(w io.Writer) error { return k6.Export(w, f, k6.BaseURL(baseURL)) }); err != nil {
		return err
	}
	fmt.Fprintf(out, "harness: wrote %s; run it with: k6 run -e BASE_URL=%s %s\n", path, baseURL, path)
	return nil
}

func k6Import(sumFile, stream, name string) (*summary.Summary, error) {
	var exp *k6.SummaryExport
	var st *k6.Stream
	if sumFile != "" {
		f, err := os.Open(sumFile)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", errUsage, err)
		}
		defer f.Close()
		if exp, err = k6.ReadSummaryExport(f); err != nil {
			return nil, fmt.Errorf("%s: %w", sumFile, err)
		}
	}
	if stream != "" {
		f, err := os.Open(stream)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", errUsage, err)
		}
		defer f.Close()
		if st, err = k6.ReadStream(f); err != nil {
			return nil, fmt.Errorf("%s: %w", stream, err)
		}
	}
	sum, err := k6.Summary(exp, st, name)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", strings.Trim(sumFile+" "+stream, " "), err)
	}
	return sum, nil
}

// runK6 runs an installed k6 on the exported scenario and imports what it
// wrote. k6's own exit code is not trusted for the gate: the import
// decides from its results, as for our runs. quiet passes k6 its own
// --quiet, so that -quiet means the same with either engine.
func runK6(ctx context.Context, out io.Writer, f *scenario.File, target, dir string, quiet bool) (*summary.Summary, error) {
	bin, err := exec.LookPath("k6")
	if err != nil {
		return nil, errK6Missing()
	}
	script := filepath.Join(dir, "script.js")
	if err := k6Export(io.Discard, f, target, script); err != nil {
		return nil, err
	}
	sumFile, stream := filepath.Join(dir, "k6-summary.json"), filepath.Join(dir, "k6-samples.ndjson")
	args := []string{"run", "--summary-export", sumFile, "--out", "json=" + stream, "-e", "BASE_URL=" + target}
	if quiet {
		args = append(args, "--quiet")
	}
	cmd := exec.CommandContext(ctx, bin, append(args, script)...)
	cmd.Stdout, cmd.Stderr = out, out
	fmt.Fprintf(out, "harness: %s\n", strings.Join(cmd.Args, " "))
	if err := cmd.Run(); err != nil {
		var exit *exec.ExitError
		if !errors.As(err, &exit) {
			return nil, fmt.Errorf("k6: %w", err)
		}
		if _, statErr := os.Stat(sumFile); statErr != nil {
			return nil, fmt.Errorf("k6 exited %d without a summary", exit.ExitCode())
		}
	}
	return k6Import(sumFile, stream, f.Name)
}
