package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/taskready/taskready/internal/buildinfo"

	"github.com/taskready/taskready/loadtest/report"
	"github.com/taskready/taskready/loadtest/rundir"
	"github.com/taskready/taskready/loadtest/summary"
)

// runsDir is where runs are written by default, one directory each, with
// latest pointing at the newest.
const runsDir = "out"

// writeOutputs writes r into its run directory dir; when dir is in out/,
// points out/latest at it; and with keep above 0, removes the run
// directories in out/ beyond the newest keep.
func writeOutputs(w io.Writer, dir string, r *rundir.Run, keep int) error {
	if err := r.Write(dir); err != nil {
		return err
	}
	if filepath.Dir(dir) == runsDir && filepath.Base(dir) != rundir.LatestName {
		copied, err := rundir.SetLatest(runsDir, filepath.Base(dir))
		if err != nil {
			return err
		}
		if copied {
			fmt.Fprintf(w, "harness: %s is a copy of the run: this system made no symbolic link\n", filepath.Join(runsDir, rundir.LatestName))
		}
	}
	if keep > 0 {
		removed, err := rundir.Prune(runsDir, keep)
		if err != nil {
			return err
		}
		if len(removed) > 0 {
			fmt.Fprintf(w, "harness: removed %d older run(s) from %s/ (-keep %d): %s\n", len(removed), runsDir, keep, strings.Join(removed, ", "))
		}
	}
	return nil
}

// keepFlag is -keep: how many runs out/ keeps, 0 for all.
type keepFlag int

func (k *keepFlag) String() string { return strconv.Itoa(int(*k)) }

func (k *keepFlag) Set(s string) error {
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return errors.New("want a number of runs, 0 to keep them all")
	}
	*k = keepFlag(n)
	return nil
}

func (k *keepFlag) register(fs *flag.FlagSet) {
	fs.Var(k, "keep", "after the run, remove the run directories in out/ beyond the newest N (those with a summary.json; 0: keep all)")
}

// notRunDir marks a path that holds no run as the user's mistake, which
// prints the usage.
func notRunDir(err error) error {
	if errors.Is(err, rundir.ErrNotRunDir) {
		return fmt.Errorf("%w: %w", errUsage, err)
	}
	return err
}

func writeText(w io.Writer, sum *summary.Summary) error {
	fmt.Fprintln(w)
	return report.Text(w, sum)
}

// version is the harness's module version and short VCS revision, as
// every report names it.
func version() string { return buildinfo.Read().Short() }

// versionText is what `harness version` prints: the module version, the
// VCS revision and whether the tree had uncommitted changes, and the Go
// release that built it.
func versionText() string { return buildinfo.Read().String() }

func errK6Missing() error {
	// Not a usage error: the command line is right, the machine lacks k6.
	return errors.New("-engine k6 needs k6 on PATH: install it from https://grafana.com/docs/k6/latest/set-up/install-k6/ (or use `harness k6 export` and run the script where k6 is)")
}
