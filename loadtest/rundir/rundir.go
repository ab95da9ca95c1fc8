package rundir

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/taskready/taskready/internal/buildinfo"
	"github.com/taskready/taskready/loadtest/record"
	"github.com/taskready/taskready/loadtest/summary"
)

// The files of a run directory, relative to it.
const (
	SummaryFile   = "summary.json"
	HistogramsDir = "histograms"
	RecorderFile  = "run.json"
)

// ErrNotRunDir is wrapped by the errors of Read and ReadRecorder for a
// path that holds no run: callers tell a wrong argument from a damaged
// run by it.
var ErrNotRunDir = errors.New("not a run directory")

// Run is one run's outputs: its summary and the histograms it was built
// from (nil when there are none, as for an import of k6's summary).
type Run struct {
	Summary  *summary.Summary
	Recorder *record.Recorder
}

// Write decides r's outcome and writes r into dir: the summary, the
// histograms when r has them, and every report of Formats. The decision
// is the one a run gets: everything that judges it (thresholds, recovery
// budgets, validity, an interruption, a comparison with a baseline) is in
// the summary by now, and the reports must show the same verdict as the
// exit code.
func (r *Run) Write(dir string) error {
	r.Summary.Run.Decide()
	stampRevision(&r.Summary.Run.Environment, buildinfo.Read())
	stampCommit(&r.Summary.Run.Environment, os.Getenv)
	if err := os.MkdirAll(filepath.Join(dir, HistogramsDir), 0o755); err != nil {
		return fmt.Errorf("run directory: %w", err)
	}
	if r.Recorder != nil {
		if err := WriteFile(filepath.Join(dir, HistogramsDir, RecorderFile), r.Recorder.Encode); err != nil {
			return err
		}
	}
	if err := r.Summary.WriteFile(filepath.Join(dir, SummaryFile)); err != nil {
		return err
	}
	for _, f := range Formats() {
		if err := WriteFile(filepath.Join(dir, f.File), func(w io.Writer) error { return f.Write(w, r.Summary) }); err != nil {
			return err
		}
	}
	return nil
}

// stampRevision records the full VCS revision of build in e when e names
// build as its harness: a run this binary made, not one read back from
// another build's summary.json.
func stampRevision(e *summary.Environment, build buildinfo.Info) {
	if e.HarnessRevision == "" && build.Revision != "" && e.Harness == build.Short() {
		e.HarnessRevision = build.Revision
	}
}

// stampCommit records the commit CI says is under test, if it says.
func stampCommit(e *summary.Environment, getenv func(string) string) {
	for _, name := range []string{"GITHUB_SHA", "CI_COMMIT_SHA"} {
		if v := strings.TrimSpace(getenv(name)); e.Commit == "" && v != "" {
			e.Commit = v
		}
	}
}

// Read reads the run at path: a run directory, or its summary.json with
// the histograms beside it.
func Read(path string) (*Run, error) {
	dir := path
	if filepath.Base(path) == SummaryFile {
		dir = filepath.Dir(path)
	}
	sum, err := summary.ReadFile(filepath.Join(dir, SummaryFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s: %w", ErrNotRunDir, path, err)
	}
	if err != nil {
		return nil, err
	}
	rec, err := ReadRecorder(dir)
	if err != nil {
		return nil, err
	}
	return &Run{Summary: sum, Recorder: rec}, nil
}

// ReadRecorder reads the histograms of a run from its directory, its
// summary.json (the histograms beside it) or the histograms file itself.
func ReadRecorder(path string) (*record.Recorder, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNotRunDir, err)
	}
	file := path
	switch {
	case st.IsDir():
		file = filepath.Join(path, HistogramsDir, RecorderFile)
	case filepath.Base(path) == SummaryFile:
		file = filepath.Join(filepath.Dir(path), HistogramsDir, RecorderFile)
	}
	f, err := os.Open(file)
	if err != nil {
		return nil, fmt.Errorf("%w: %w (a run directory has %s/%s)", ErrNotRunDir, err, HistogramsDir, RecorderFile)
	}
	defer f.Close()
	rec, err := record.Decode(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return rec, nil
}

// WriteFile creates path and writes it with write, naming the file in a
// write error.
func WriteFile(path string, write func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Close()
}

// Copy replaces dst with a copy of the run directory src: what latest is
// where symbolic links cannot be made (SetLatest).
func Copy(src, dst string) error {
	if err := os.RemoveAll(dst); err != nil {
		return err
	}
	return filepath.WalkDir(src, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path) // path is under src
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o644)
	})
}
