package readiness

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/taskready/taskready/checks/check"
)

// JSONFile is the name of readiness.json in a report directory.
const JSONFile = "readiness.json"

// Comparison is what changed since a previous run: the reader of a
// report asks first what got worse.
type Comparison struct {
	// Source is where the previous report was read from.
	Source string `json:"source,omitempty"`
	// Run, Start and Target identify the previous run.
	Run    string    `json:"run"`
	Start  time.Time `json:"start"`
	Target string    `json:"target"`
	// Passed and Score are the previous run's verdict and score.
	Passed bool  `json:"passed"`
	Score  Score `json:"score"`
	// ScoreDelta is this run's score minus the previous one, when both
	// are defined.
	ScoreDelta *int `json:"score_delta,omitempty"`
	// NewlyFailing failed or errored now and did not before (or did not
	// run); NewlyPassing failed or errored before and pass or warn now.
	NewlyFailing []StatusChange `json:"newly_failing"`
	NewlyPassing []StatusChange `json:"newly_passing"`
	// Changed are the other checks whose label changed ("pass" to
	// "warn", "fail" to "ignored", a check that no longer runs).
	Changed []StatusChange `json:"changed,omitempty"`
}

// StatusChange is one check's label (Result.Label) in the previous run and
// in this one; "not run" when the check was not in that run.
type StatusChange struct {
	ID       string         `json:"id"`
	Severity check.Severity `json:"severity"` // effective, in the run that has it last
	From     string         `json:"from"`
	To       string         `json:"to"`
}

// NotRun is the label of a check absent from one of the runs compared.
const NotRun = "not run"

// failing is whether a result counts against the release: a failure or
// an error that the policy does not ignore.
func failing(r Result) bool {
	return !r.Ignored && (r.EffectiveStatus == check.Fail || r.EffectiveStatus == check.Error)
}

// compare is what changed from prev to cur, in cur's reading order.
func compare(prev, cur *Report, source string) *Comparison {
	c := &Comparison{Source: source, Run: prev.Run.ID, Start: prev.Run.Start, Target: prev.Run.Target, Passed: prev.Passed, Score: prev.Score,
		NewlyFailing: []StatusChange{}, NewlyPassing: []StatusChange{}}
	if prev.Score.Defined() && cur.Score.Defined() {
		d := cur.Score.Value - prev.Score.Value
		c.ScoreDelta = &d
	}
	before := map[string]Result{}
	for _, r := range prev.Results {
		before[r.ID] = r
	}
	seen := map[string]bool{}
	for _, r := range cur.Results {
		seen[r.ID] = true
		p, had := before[r.ID]
		ch := StatusChange{ID: r.ID, Severity: r.EffectiveSeverity, From: NotRun, To: r.Label()}
		if had {
			ch.From = p.Label()
		}
		switch {
		case failing(r) && (!had || !failing(p)):
			c.NewlyFailing = append(c.NewlyFailing, ch)
		case had && failing(p) && !failing(r) && (r.EffectiveStatus == check.Pass || r.EffectiveStatus == check.Warn) && !r.Ignored:
			c.NewlyPassing = append(c.NewlyPassing, ch)
		case had && ch.From != ch.To:
			c.Changed = append(c.Changed, ch)
		}
	}
	var gone []StatusChange
	for _, p := range prev.Results {
		if !seen[p.ID] {
			gone = append(gone, StatusChange{ID: p.ID, Severity: p.EffectiveSeverity, From: p.Label(), To: NotRun})
		}
	}
	sort.Slice(gone, func(i, j int) bool { return gone[i].ID < gone[j].ID })
	c.Changed = append(c.Changed, gone...)
	return c
}

// ErrNoReport is wrapped by ReadReportFile's error for a path that holds
// no readiness report.
var ErrNoReport = errors.New("no readiness report")

// ReadReportFile reads a previous run's report: its readiness.json, or
// the directory that holds it. The error says in one line what is wrong.
func ReadReportFile(path string) (*Report, error) {
	file := path
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		file = filepath.Join(path, JSONFile)
	}
	f, err := os.Open(file)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%w at %s: the file does not exist (give a readiness.json or the directory holding it)", ErrNoReport, file)
		}
		return nil, fmt.Errorf("%w at %s: %w", ErrNoReport, file, err)
	}
	defer f.Close()
	rep, err := ReadReport(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return rep, nil
}
