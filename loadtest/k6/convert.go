package k6

import (
	"errors"
	"fmt"
	"math"
	"runtime"
	"strconv"

	"github.com/taskready/taskready/loadtest/summary"
	"github.com/taskready/taskready/loadtest/threshold"
)

// ErrNothing is returned by Summary when given neither an export nor a
// stream.
var ErrNothing = errors.New("k6: nothing to import: give a --summary-export file, an --out json stream, or both")

// ErrNoData is wrapped by ReadSummaryExport and Summary for results that
// measured nothing: no metrics, or no HTTP request. k6 passes a threshold
// that saw no data; a gate must not.
var ErrNoData = errors.New("no data")

// Summary converts k6's results into our summary document, so that k6
// runs are reported and gated as ours are. The export, when given, is
// k6's own verdict: its metrics, checks and thresholds are taken as they
// are. The stream, when given, adds what the export lacks (breakdowns per
// endpoint and phase, the time series); without an export its metrics
// come from the stream, and its thresholds are the ones it declares,
// re-evaluated here (the stream does not declare sub-metric thresholds).
// The outcome is left undecided, as for a run of ours: the caller decides
// once, when everything that judges the run is in (rundir.Run.Write).
func Summary(exp *SummaryExport, st *Stream, name string) (*summary.Summary, error) {
	if exp == nil && st == nil {
		return nil, ErrNothing
	}
	run := summary.Run{
		Format: summary.Format, Version: summary.Version, Engine: "k6", Name: name,
		Environment: summary.Environment{OS: runtime.GOOS, Arch: runtime.GOARCH, CPUs: runtime.NumCPU()},
		Validity:    summary.Validity{Valid: true},
	}
	s := &summary.Summary{Metrics: map[string]summary.Metric{}}
	var verdicts []threshold.Verdict
	if st != nil {
		snap := st.Recorder.Snapshot()
		run.Start, run.End = st.Start.UTC(), st.End.UTC()
		run.Duration = st.End.Sub(st.Start).Seconds()
		run.Endpoints, run.Phases = summary.Breakdowns(snap)
		run.Failures = summary.Failures(snap)
		run.Distribution = summary.Distribution(snap)
		run.Journeys = summary.Journeys(snap)
		run.Series = summary.Series(snap)
		if exp == nil {
			ts, err := st.DeclaredThresholds()
			if err != nil {
				return nil, err
			}
			verdicts = st.Evaluate(ts)
			s.Metrics = summary.Metrics(snap, nil, st.End.Sub(st.Start), verdicts)
			s.RootGroup = checksGroup(st.Checks)
		}
		run.Scenarios = []summary.Scenario{{Name: "k6", Executor: "k6", Iterations: st.Iterations, Dropped: st.DroppedIterations, VUsMax: int64(st.VUsMax.Max)}}
	}
	if exp != nil {
		for key, m := range exp.Metrics {
			s.Metrics[key] = summary.Metric{Values: m.Values, Thresholds: m.Crossed}
		}
		s.RootGroup = convertGroup(exp.RootGroup)
		for _, t := range exp.Thresholds() {
			expr, _ := threshold.ParseExpression(t.Expression)
			verdicts = append(verdicts, threshold.Verdict{
				Threshold: threshold.Threshold{Selector: t.Selector, Expr: expr, Source: t.Expression},
				Passed:    t.Passed, Observed: t.Observed, Reason: reason(t),
			})
		}
	}
	if n := httpRequests(exp, st); n <= 0 {
		return nil, fmt.Errorf("k6: %w: the results hold no HTTP request (http_reqs count %g): the test made none, so there is nothing to judge", ErrNoData, n)
	}
	run.Thresholds = summary.Thresholds(verdicts, nil)
	run.Validity = validity(s.Metrics)
	s.Run = run
	return s, nil
}

// httpRequests is how many HTTP requests k6 made: the export's http_reqs
// count (k6's own total) when there is an export, else the stream's.
func httpRequests(exp *SummaryExport, st *Stream) float64 {
	if exp != nil {
		return exp.Metrics["http_reqs"].Values["count"]
	}
	return float64(max(st.Requests, st.Recorder.Snapshot().Total.Count))
}

// reason says why k6 passed or failed a threshold, as our verdicts do.
func reason(t ThresholdResult) string {
	if math.IsNaN(t.Observed) {
		if t.Passed {
			return "passed by k6 (value not in the export)"
		}
		return "crossed by k6 (value not in the export)"
	}
	if t.Passed {
		return "k6: " + roundFloat(t.Observed) + " held " + t.Expression
	}
	return "k6: " + roundFloat(t.Observed) + " crossed " + t.Expression
}

// validity judges an imported run by what k6 measured of itself: its
// dropped iterations. k6 records neither send lag nor its CPU.
func validity(ms map[string]summary.Metric) summary.Validity {
	v := summary.Validity{Valid: true}
	dropped := ms["dropped_iterations"].Values["count"]
	iters := ms["iterations"].Values["count"]
	if planned := dropped + iters; planned > 0 {
		share := dropped / planned
		ok := share <= 0.01
		v.Checks = append(v.Checks, summary.ValidityCheck{Name: "dropped iterations", OK: ok,
			Observed: roundFloat(share*100) + "%", Limit: "1%"})
		v.Valid = ok
	}
	return v
}

func convertGroup(g Group) *summary.Group {
	out := &summary.Group{Name: g.Name, Path: g.Path, ID: g.ID, Groups: map[string]*summary.Group{}, Checks: map[string]*summary.Check{}}
	for _, c := range g.Checks {
		out.Checks[c.Name] = &summary.Check{Name: c.Name, Path: c.Path, ID: c.ID, Passes: c.Passes, Fails: c.Fails}
	}
	for _, sub := range g.Groups {
		out.Groups[sub.Name] = convertGroup(sub)
	}
	return out
}

// checksGroup rebuilds the group tree from the stream's checks, whose
// group tag is k6's group path ("::create and delete").
func checksGroup(cs []CheckCount) *summary.Group {
	root := summary.NewRootGroup()
	for _, c := range cs {
		g := root
		for _, name := range splitGroup(c.Group) {
			g = g.Group(name)
		}
		chk := g.Check(c.Name)
		chk.Passes += c.Passes
		chk.Fails += c.Fails
	}
	return root
}

func splitGroup(path string) []string {
	var out []string
	for len(path) > 0 {
		if len(path) >= 2 && path[:2] == "::" {
			path = path[2:]
			continue
		}
		i := 0
		for i < len(path) && !(i+1 < len(path) && path[i] == ':' && path[i+1] == ':') {
			i++
		}
		out = append(out, path[:i])
		path = path[i:]
	}
	return out
}

func roundFloat(v float64) string { return strconv.FormatFloat(math.Round(v*1000)/1000, 'f', -1, 64) }
