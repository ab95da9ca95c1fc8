package rundir

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/taskready/taskready/loadtest/summary"
)

// ErrBaselineMismatch is wrapped by BaselineFor's error when the baseline
// is not a run the new one can be compared with.
var ErrBaselineMismatch = errors.New("the baseline does not match this run")

// Planned is what a run will be, known before it starts: what a baseline
// must match for a comparison to mean anything.
type Planned struct {
	Scenario     string // the scenario file's name
	FileSHA256   string // its digest, "" for a shipped one
	Provider     string
	APIInstances int
	CPUs         int
	Segment      string // the execution segment it makes, "" for all the load
}

// BaselineFor reads the summary of the run at path (a run directory, its
// summary.json or its histograms) and returns it when it can be compared
// with p: the same scenario file, provider, number of API instances and
// CPUs, the same share of the load (all of it, or the same segment), and
// a valid, whole run. Otherwise the error, wrapping
// ErrBaselineMismatch, says every difference in one line.
func BaselineFor(path string, p Planned) (*summary.Summary, error) {
	dir := path
	if st, err := os.Stat(path); err == nil && !st.IsDir() {
		dir = filepath.Dir(path)
		if filepath.Base(dir) == HistogramsDir {
			dir = filepath.Dir(dir)
		}
	}
	old, err := summary.ReadFile(filepath.Join(dir, SummaryFile))
	if err != nil {
		return nil, fmt.Errorf("baseline %s: %w", path, err)
	}
	r := old.Run
	var diffs []string
	differ := func(what, was, now string) {
		if was != now {
			diffs = append(diffs, fmt.Sprintf("%s %s, this run %s", what, was, now))
		}
	}
	differ("scenario", r.Name, p.Scenario)
	if r.Name == p.Scenario && r.FileSHA256 != p.FileSHA256 {
		diffs = append(diffs, "scenario file "+r.Name+" changed since (another digest)")
	}
	differ("provider", r.Environment.Provider, p.Provider)
	differ("API instances", fmt.Sprint(r.Environment.APIInstances), fmt.Sprint(p.APIInstances))
	differ("CPUs", fmt.Sprint(r.Environment.CPUs), fmt.Sprint(p.CPUs))
	whole := func(seg string) string {
		if seg == "" {
			return "all the load"
		}
		return "segment " + seg
	}
	differ("run of", whole(r.Segment), whole(p.Segment))
	switch {
	case r.Interrupted:
		diffs = append(diffs, "it was interrupted")
	case r.Aborted != "":
		diffs = append(diffs, "it was aborted ("+r.Aborted+")")
	case !r.Validity.Valid:
		diffs = append(diffs, "it was invalid (its numbers describe its load generator)")
	}
	if len(diffs) > 0 {
		return old, fmt.Errorf("%w: %s was %s", ErrBaselineMismatch, path, strings.Join(diffs, "; "))
	}
	return old, nil
}
