package main

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"

	"github.com/taskready/taskready/internal/buildinfo"

	"github.com/taskready/taskready/loadtest/report"
	"github.com/taskready/taskready/loadtest/rundir"
	"github.com/taskready/taskready/loadtest/summary"
)

// writeOutputs writes r into its run directory dir, and copies it to
// out/latest when dir is under out/.
func writeOutputs(dir string, r *rundir.Run) error {
	if err := r.Write(dir); err != nil {
		return err
	}
	if filepath.Dir(dir) == "out" && filepath.Base(dir) != "latest" {
		return rundir.Copy(dir, filepath.Join("out", "latest"))
	}
	return nil
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
