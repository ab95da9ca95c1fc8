package engine

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/taskready/taskready/loadtest/executor"
	"github.com/taskready/taskready/loadtest/record"
	"github.com/taskready/taskready/loadtest/scenario"
	"github.com/taskready/taskready/loadtest/segment"
	"github.com/taskready/taskready/loadtest/summary"
)

// ErrIncompatible is wrapped by Merge's errors for runs that are not the N
// execution segments of one distributed run: not segments at all, of
// different splits or scenario files, a segment missing or given twice.
var ErrIncompatible = errors.New("engine: not the segments of one distributed run")

// Part is one worker's segment run, as its outputs hold it.
type Part struct {
	// Source names the run in errors and in the merged summary: the
	// directory it was read from.
	Source string
	// Summary is its summary.json, Recorder its histograms/run.json.
	Summary  *summary.Summary
	Recorder *record.Recorder
}

// Merge puts the N segment runs of one distributed run (harness run
// -segment I/N on N workers) back together, as if one generator had made
// the whole load: it checks that parts are segments 0 to N-1 of one split
// of f, each exactly once; merges their histograms; sums their scenarios'
// iterations and their checks; combines their validity (dropped
// iterations summed, the worst send lag and CPU, and invalid when any
// worker was, naming it); and evaluates f's thresholds and recovery
// budgets once, on the merged histograms. The summary's outcome is left
// undecided, as Result.Summary leaves it: a comparison with a baseline
// and the decision are the caller's.
//
// The workers' per-second series are aligned by wall clock, each moved to
// the nearest whole interval of the earliest worker's start (record's
// Merge); their run-wide histograms merge exactly.
//
// Merge takes the parts' recorders: the merged one is segment 0's, into
// which the others are added (they are left as they were).
func Merge(f *scenario.File, parts []Part, meta Meta) (*Result, *summary.Summary, error) {
	if f == nil || len(f.Scenarios) == 0 {
		return nil, nil, errors.New("engine: merge: no scenario file")
	}
	parts, err := order(parts)
	if err != nil {
		return nil, nil, err
	}
	if err := compatible(f, parts); err != nil {
		return nil, nil, err
	}
	workers := make([]summary.Worker, len(parts))
	for i, p := range parts {
		r := p.Summary.Run
		workers[i] = summary.Worker{
			Segment: r.Segment, ID: r.ID, Source: p.Source, Host: r.Environment.Host,
			Requests: int64(p.Summary.Metrics[record.MetricReqs].Values["count"]), Valid: r.Validity.Valid,
		}
	}

	rec := parts[0].Recorder
	for _, p := range parts[1:] {
		if err := rec.Merge(p.Recorder); err != nil {
			return nil, nil, fmt.Errorf("%w: %s: %w", ErrIncompatible, p.Source, err)
		}
	}
	res := &Result{
		File: f, Recorder: rec, Checks: summary.NewRootGroup(),
		SendLag: hdrhistogram.New(1, int64(time.Minute/time.Microsecond), 2),
	}
	var targets []string
	var aborted []string
	for i, p := range parts {
		r := p.Summary.Run
		if i == 0 || r.Start.Before(res.Start) {
			res.Start = r.Start
		}
		if r.End.After(res.End) {
			res.End = r.End
		}
		res.CPU = max(res.CPU, r.Validity.GeneratorCPU)
		res.CPUWait = max(res.CPUWait, r.Validity.GeneratorCPUWait)
		if !slices.Contains(targets, r.Target) {
			targets = append(targets, r.Target)
		}
		if r.Aborted != "" {
			aborted = append(aborted, fmt.Sprintf("segment %s (%s): %s", r.Segment, p.Source, r.Aborted))
		}
		// One interrupted worker leaves the merged run with part of a
		// segment's schedule: it is not judged either.
		res.Interrupted = res.Interrupted || r.Interrupted
		mergeGroup(res.Checks, p.Summary.RootGroup)
	}
	res.Target, res.Aborted = strings.Join(targets, ", "), strings.Join(aborted, "; ")
	res.Scenarios = mergeScenarios(f, parts)
	res.Writes = mergeWrites(parts)

	sum := res.summary(meta, mergeValidity(parts, res.Scenarios))
	sum.Run.Environment = mergeEnvironment(parts)
	sum.Run.FileSHA256 = parts[0].Summary.Run.FileSHA256
	sum.Run.Workers = workers
	return res, sum, nil
}

// mergeWrites adds up the workers' write ledgers: each read back the
// tasks its own load wrote. nil unless every worker kept one, since a
// gate on lost writes must not pass on the ledgers of some workers only.
func mergeWrites(parts []Part) *summary.Writes {
	var out summary.Writes
	for _, p := range parts {
		w := p.Summary.Run.Writes
		if w == nil {
			return nil
		}
		out.Add(w)
	}
	return &out
}

// order checks that parts are segments 0 to N-1 of one N, each once, and
// returns them in segment order.
func order(parts []Part) ([]Part, error) {
	if len(parts) == 0 {
		return nil, fmt.Errorf("%w: no runs to merge", ErrIncompatible)
	}
	segs := make([]segment.Segment, len(parts))
	for i, p := range parts {
		if p.Summary == nil || p.Recorder == nil {
			return nil, fmt.Errorf("%w: %s: no summary or histograms", ErrIncompatible, p.Source)
		}
		if p.Summary.Run.Segment == "" {
			return nil, fmt.Errorf("%w: %s is not an execution segment (harness run -segment I/N)", ErrIncompatible, p.Source)
		}
		s, err := segment.Parse(p.Summary.Run.Segment)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %w", ErrIncompatible, p.Source, err)
		}
		segs[i] = s
	}
	n := segs[0].Count
	by := make([][]string, n)
	for i, s := range segs {
		if s.Count != n {
			return nil, fmt.Errorf("%w: %s is segment %s but %s is segment %s: splits of different sizes",
				ErrIncompatible, parts[0].Source, segs[0], parts[i].Source, s)
		}
		by[s.Index] = append(by[s.Index], parts[i].Source)
	}
	var problems []string
	for idx, sources := range by {
		seg := segment.Segment{Index: idx, Count: n}
		switch {
		case len(sources) == 0:
			problems = append(problems, "segment "+seg.String()+" is missing")
		case len(sources) > 1:
			problems = append(problems, "segment "+seg.String()+" is given more than once: "+strings.Join(sources, ", "))
		}
	}
	if len(problems) > 0 {
		got := make([]string, len(parts))
		for i, p := range parts {
			got[i] = fmt.Sprintf("%s (%s)", p.Source, segs[i])
		}
		return nil, fmt.Errorf("%w: %s; got %s", ErrIncompatible, strings.Join(problems, "; "), strings.Join(got, ", "))
	}
	out := make([]Part, n)
	for i, s := range segs {
		out[s.Index] = parts[i]
	}
	return out, nil
}

// compatible checks that every part ran f, the same file as the others,
// with histograms of the same shape.
func compatible(f *scenario.File, parts []Part) error {
	first := parts[0]
	r0 := first.Summary.Run
	for _, p := range parts {
		r := p.Summary.Run
		switch {
		case r.Name != f.Name:
			return fmt.Errorf("%w: %s ran scenario file %q, not %q", ErrIncompatible, p.Source, r.Name, f.Name)
		case r.File != r0.File:
			return fmt.Errorf("%w: %s ran %s but %s ran %s", ErrIncompatible, first.Source, r0.File, p.Source, r.File)
		case r.FileSHA256 != "" && r0.FileSHA256 != "" && r.FileSHA256 != r0.FileSHA256:
			return fmt.Errorf("%w: %s and %s ran different versions of %s (sha256 %.12s, %.12s)",
				ErrIncompatible, first.Source, p.Source, r.File, r0.FileSHA256, r.FileSHA256)
		}
		if err := first.Recorder.Compatible(p.Recorder); err != nil {
			return fmt.Errorf("%w: %s and %s: %w", ErrIncompatible, first.Source, p.Source, err)
		}
		var names []string
		for _, s := range r.Scenarios {
			names = append(names, s.Name)
		}
		for _, s := range f.Scenarios {
			if !slices.Contains(names, s.Name) {
				return fmt.Errorf("%w: %s did not run scenario %q of %s", ErrIncompatible, p.Source, s.Name, f.Path)
			}
		}
		for _, name := range names {
			if !slices.ContainsFunc(f.Scenarios, func(s scenario.Scenario) bool { return s.Name == name }) {
				return fmt.Errorf("%w: %s ran scenario %q, which %s does not have", ErrIncompatible, p.Source, name, f.Path)
			}
		}
	}
	return nil
}

// mergeScenarios sums the workers' counters of each scenario of f and sets
// the target and achieved rates against the whole's schedule, as a single
// run of f would. VUsMax is the sum of the workers' maxima, which may not
// all have been reached at once.
func mergeScenarios(f *scenario.File, parts []Part) []summary.Scenario {
	out := make([]summary.Scenario, 0, len(f.Scenarios))
	for _, s := range f.Scenarios {
		var c executor.Counters
		for _, p := range parts {
			for _, ws := range p.Summary.Run.Scenarios {
				if ws.Name == s.Name {
					c.Iterations += ws.Iterations
					c.Dropped += ws.Dropped
					c.VUsMax += ws.VUsMax
				}
			}
		}
		out = append(out, scenarioResult(s, c))
	}
	return out
}

// mergeGroup adds the checks of src and its sub-groups to dst.
func mergeGroup(dst, src *summary.Group) {
	if src == nil {
		return
	}
	for name, c := range src.Checks {
		d := dst.Check(name)
		d.Passes += c.Passes
		d.Fails += c.Fails
	}
	for name, g := range src.Groups {
		mergeGroup(dst.Group(name), g)
	}
}

// mergeValidity combines the workers' validity: each condition holds when
// it held on every worker (each judged it against its own limits), and
// its observed value is the whole's (dropped iterations summed) or the
// worst worker's (send lag, CPU), naming the workers it failed on.
func mergeValidity(parts []Part, scenarios []summary.Scenario) summary.Validity {
	v := summary.Validity{Valid: true}
	var names []string
	for _, p := range parts {
		pv := p.Summary.Run.Validity
		v.Valid = v.Valid && pv.Valid
		v.GeneratorCPU = max(v.GeneratorCPU, pv.GeneratorCPU)
		v.GeneratorCPUWait = max(v.GeneratorCPUWait, pv.GeneratorCPUWait)
		v.SendLagP99 = max(v.SendLagP99, pv.SendLagP99)
		for _, c := range pv.Checks {
			if !slices.Contains(names, c.Name) {
				names = append(names, c.Name)
			}
		}
	}
	for _, name := range names {
		mc := summary.ValidityCheck{Name: name, OK: true}
		var limits, failed, observed []string
		for _, p := range parts {
			r := p.Summary.Run
			i := slices.IndexFunc(r.Validity.Checks, func(c summary.ValidityCheck) bool { return c.Name == name })
			if i < 0 {
				continue
			}
			c := r.Validity.Checks[i]
			if !slices.Contains(limits, c.Limit) {
				limits = append(limits, c.Limit)
			}
			observed = append(observed, fmt.Sprintf("%s on segment %s", c.Observed, r.Segment))
			if !c.OK {
				mc.OK = false
				failed = append(failed, fmt.Sprintf("segment %s (%s)", r.Segment, p.Source))
			}
		}
		mc.Limit = strings.Join(limits, " / ")
		mc.Observed = combinedObserved(name, parts, scenarios, observed)
		if len(failed) > 0 {
			mc.Observed += "; over the limit on " + strings.Join(failed, ", ")
		}
		v.Checks = append(v.Checks, mc)
		v.Valid = v.Valid && mc.OK
	}
	return v
}

// combinedObserved is what the merged run observed of the validity
// condition name, in the words a single run uses.
func combinedObserved(name string, parts []Part, scenarios []summary.Scenario, each []string) string {
	worst := func(of func(summary.Validity) float64) (float64, string) {
		w, seg := math.Inf(-1), ""
		for _, p := range parts {
			if x := of(p.Summary.Run.Validity); x > w {
				w, seg = x, p.Summary.Run.Segment
			}
		}
		return w, seg
	}
	switch name {
	case CheckDropped:
		var planned, dropped int64
		for _, s := range scenarios {
			if s.Planned > 0 {
				planned += s.Planned
				dropped += s.Dropped
			}
		}
		share := float64(dropped) / float64(max(planned, 1))
		return fmt.Sprintf("%.2f%% (%d of %d)", share*100, dropped, planned)
	case CheckSendLag:
		ms, seg := worst(func(v summary.Validity) float64 { return v.SendLagP99 })
		lag := time.Duration(ms * float64(time.Millisecond)).Round(10 * time.Microsecond)
		return fmt.Sprintf("%s (worst, segment %s)", lag, seg)
	case CheckCPU:
		cpu, seg := worst(func(v summary.Validity) float64 { return v.GeneratorCPU })
		return fmt.Sprintf("%.0f%% (worst, segment %s)", cpu*100, seg)
	}
	return strings.Join(each, ", ")
}

// mergeEnvironment is the workers' environment: segment 0's, with every
// worker's host and notes.
func mergeEnvironment(parts []Part) summary.Environment {
	env := parts[0].Summary.Run.Environment
	env.Notes = nil
	var hosts []string
	for _, p := range parts {
		e := p.Summary.Run.Environment
		if e.Host != "" && !slices.Contains(hosts, e.Host) {
			hosts = append(hosts, e.Host)
		}
		for _, n := range e.Notes {
			if !slices.Contains(env.Notes, n) {
				env.Notes = append(env.Notes, n)
			}
		}
	}
	env.Host = strings.Join(hosts, ", ")
	return env
}
