package engine

import (
	"fmt"
	"math"
	"os"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/taskready/taskready/loadtest/executor"
	"github.com/taskready/taskready/loadtest/fault"
	"github.com/taskready/taskready/loadtest/record"
	"github.com/taskready/taskready/loadtest/scenario"
	"github.com/taskready/taskready/loadtest/summary"
)

// Meta is what the engine cannot know about a run: its id, where it ran
// and what the caller knows of its inputs.
type Meta struct {
	ID           string
	Provider     string
	APIInstances int
	Harness      string
	// FileSHA256 is the digest of the scenario file, "" for a shipped one.
	FileSHA256 string
	// Segment is the execution segment the run made, "" for all the load.
	Segment string
	// Notes are the environment's notes on the run.
	Notes []string
}

// Summary builds the summary document of the run with its outcome left
// undecided: the caller adds a comparison with a baseline, if any, and
// decides once (rundir.Run.Write does).
func (r *Result) Summary(meta Meta) *summary.Summary {
	return r.summary(meta, r.validity())
}

// summary builds the summary with validity v: the run's own, or for a
// merged run its workers' combined (no send-lag histogram survives a
// worker's outputs to measure again).
func (r *Result) summary(meta Meta, v summary.Validity) *summary.Summary {
	snap := r.Recorder.Snapshot()
	faults := fault.Judge(r.Faults, snap)
	elapsed := r.End.Sub(r.Start)
	verdicts, lines := Thresholds(r.File, snap, r.Writes)
	host, _ := os.Hostname()
	run := summary.Run{
		Format: summary.Format, Version: summary.Version, ID: meta.ID, Engine: "taskready",
		Name: r.File.Name, Description: r.File.Description, File: r.File.Path, Target: r.Target,
		FileSHA256: meta.FileSHA256, Segment: meta.Segment,
		Start: r.Start.UTC(), End: r.End.UTC(), Duration: elapsed.Seconds(),
		Environment: summary.Environment{
			Provider: meta.Provider, APIInstances: meta.APIInstances, Host: host,
			OS: runtime.GOOS, Arch: runtime.GOARCH, CPUs: runtime.NumCPU(), GoVersion: runtime.Version(), Harness: meta.Harness,
			Notes: meta.Notes,
		},
		Scenarios:   r.Scenarios,
		Validity:    v,
		Thresholds:  summary.Thresholds(verdicts, lines),
		Recoveries:  Recoveries(r.File, snap, faults...),
		Faults:      faults,
		Writes:      r.Writes,
		Series:      summary.Series(snap),
		Interval:    snap.Interval.Seconds(),
		Timeline:    Timeline(r.File),
		Aborted:     r.Aborted,
		Interrupted: r.Interrupted,
	}
	run.Endpoints, run.Phases = summary.Breakdowns(snap)
	summary.InTimeOrder(run.Phases, run.Timeline)
	run.Failures = summary.Failures(snap)
	run.Distribution = summary.Distribution(snap)
	targetRates(r.File, run.Series, snap.Interval)
	run.Journeys = summary.Journeys(snap)
	metrics := summary.Metrics(snap, r.Writes, elapsed, verdicts)
	var dropped, vusMax int64
	for _, s := range r.Scenarios {
		dropped += s.Dropped
		vusMax += s.VUsMax
	}
	perSecond := func(n int64) float64 {
		if elapsed <= 0 {
			return 0
		}
		return float64(n) / elapsed.Seconds()
	}
	if dropped > 0 {
		metrics["dropped_iterations"] = summary.Metric{Values: map[string]float64{"count": float64(dropped), "rate": perSecond(dropped)}}
	}
	metrics["vus_max"] = summary.Metric{Values: map[string]float64{"value": float64(vusMax), "min": float64(vusMax), "max": float64(vusMax)}}
	return &summary.Summary{RootGroup: r.Checks, Metrics: metrics, Run: run}
}

// The names of the validity checks. Dropped iterations mean the schedule
// was not applied, which a saturated system causes as readily as a slow
// generator; send lag and CPU are the generator's alone. The achieved rate
// is not a check of its own: the open model sends every due iteration,
// late if it must, so what it misses shows as dropped iterations and what
// it delays as send lag.
const (
	CheckDropped = "dropped iterations"
	CheckSendLag = "send lag p99"
	CheckCPU     = "generator CPU"
	CheckFaults  = "faults played"
	CheckWrites  = "writes read back"
)

// validity checks the generator kept up: dropped iterations and send lag
// (open model), and its CPU.
func (r *Result) validity() summary.Validity {
	l := r.limits
	v := summary.Validity{Valid: true, GeneratorCPU: r.CPU, GeneratorCPUWait: r.CPUWait}
	note := busyMachine(r.CPU*float64(runtime.NumCPU()), r.CPUWait, r.End.Sub(r.Start))
	add := func(name string, ok bool, observed, limit string) {
		c := summary.ValidityCheck{Name: name, OK: ok, Observed: observed, Limit: limit}
		if !ok && name != CheckCPU {
			c.Note, note = note, "" // late or dropped for want of a CPU; said once
		}
		v.Checks = append(v.Checks, c)
		v.Valid = v.Valid && ok
	}
	var planned, dropped int64
	open := false
	for _, s := range r.Scenarios {
		if s.Planned > 0 {
			open = true
			planned += s.Planned
			dropped += s.Dropped
		}
	}
	if open {
		share := float64(dropped) / float64(max(planned, 1))
		add(CheckDropped, share <= l.MaxDropped, fmt.Sprintf("%.2f%% (%d of %d)", share*100, dropped, planned), fmt.Sprintf("%.2f%%", l.MaxDropped*100))
		if r.SendLag.TotalCount() > 0 {
			p99 := time.Duration(r.SendLag.ValueAtQuantile(99)) * time.Microsecond
			v.SendLagP99 = float64(p99) / float64(time.Millisecond)
			add(CheckSendLag, p99 <= l.MaxSendLag, p99.Round(10*time.Microsecond).String(), l.MaxSendLag.String())
		}
	}
	add(CheckCPU, r.CPU <= l.MaxCPU, fmt.Sprintf("%.0f%% of %d cores", r.CPU*100, runtime.NumCPU()), fmt.Sprintf("%.0f%%", l.MaxCPU*100))
	if len(r.Faults) > 0 && !r.Interrupted {
		// A fault that did not happen as scheduled leaves the run
		// measuring something other than what the scenario asked.
		ok := 0
		var failed []string
		for _, w := range r.Faults {
			if w.Played && w.Err == "" {
				ok++
			} else {
				failed = append(failed, w.Name+": "+w.Err)
			}
		}
		add(CheckFaults, ok == len(r.Faults), fmt.Sprintf("%d of %d", ok, len(r.Faults)), "all")
		if len(failed) > 0 {
			v.Checks[len(v.Checks)-1].Note = strings.Join(failed, "; ")
		}
	}
	if w := r.Writes; w != nil {
		// A ledger that could not read everything back would let a gate
		// on lost writes pass on the writes it never saw.
		missed := w.Unverified + w.Untracked
		add(CheckWrites, missed == 0, fmt.Sprintf("%d of %d", w.Checked, w.Checked+missed), "all")
		if w.Error != "" {
			v.Checks[len(v.Checks)-1].Note = w.Error
		}
	}
	return v
}

// busyMachine says, when it did, that the harness waited for a CPU at
// least half as long as it ran and for a tenth of the run: other work on
// the machine held it back, which its own CPU share (low then) hides.
// used and waited are in cores (CPU seconds per second of wall).
func busyMachine(used, waited float64, wall time.Duration) string {
	if waited < 0.1 || waited < used/2 {
		return ""
	}
	s := wall.Seconds()
	return fmt.Sprintf("the harness waited %.1fs for a CPU and ran %.1fs: other work on this machine held it back; run where the harness has the cores to itself",
		waited*s, used*s)
}

// Timeline lists when each scenario ran each named phase, from the
// schedule: constant scenarios as one span, ramping ones a span per
// stretch of stages with the same phase.
func Timeline(f *scenario.File) []summary.Span {
	var out []summary.Span
	for _, s := range f.Scenarios {
		sched, err := executor.Plan(s)
		if err != nil {
			continue
		}
		for _, sp := range sched.Spans() {
			out = append(out, summary.Span{Scenario: s.Name, Phase: sp.Phase,
				From: (s.StartTime + sp.From).Seconds(), To: (s.StartTime + sp.To).Seconds()})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].From < out[j].From })
	return out
}

// Recoveries evaluates the recovery budgets on the time series: after the
// last scenario leaves phase After (or the fault called After is undone),
// the first interval whose statistic is back under the bound ends the
// recovery. The series is not broken down by endpoint, so a budget reads
// all requests; the statistic is one the series keeps (p(50), med, p(95),
// p(99), max).
func Recoveries(f *scenario.File, snap record.Snapshot, faults ...summary.Fault) []summary.Recovery {
	if len(f.Recoveries) == 0 {
		return nil
	}
	spans := Timeline(f)
	var out []summary.Recovery
	for _, rc := range f.Recoveries {
		res := summary.Recovery{After: rc.After, Metric: rc.Metric, Stat: rc.Stat, Below: rc.Below, Within: rc.Within.Seconds(), Line: rc.Line}
		end := -1.0
		for _, sp := range spans {
			if sp.Phase == rc.After {
				end = math.Max(end, sp.To)
			}
		}
		for _, ft := range faults {
			if ft.Name == rc.After && ft.End != nil {
				end = *ft.End
			}
		}
		pick, ok := seriesStat(rc.Stat)
		switch {
		case end < 0:
			res.Reason = fmt.Sprintf("no phase %q in the schedule, nor a fault of that name that was undone", rc.After)
		case !ok:
			res.Reason = fmt.Sprintf("%s is not kept per interval (use p(50), p(95), p(99) or max)", rc.Stat)
		default:
			res.Passed, res.RecoveredAfter, res.Reason = recovery(snap, end, rc, pick)
		}
		out = append(out, res)
	}
	return out
}

func recovery(snap record.Snapshot, end float64, rc scenario.Recovery, pick func(record.Quantiles) time.Duration) (bool, *float64, string) {
	width := snap.Interval.Seconds()
	for _, iv := range snap.Intervals {
		from := iv.Offset.Seconds()
		if from+width <= end || iv.Requests == 0 {
			continue
		}
		v := float64(pick(iv.Corrected)) / float64(time.Millisecond)
		if v < rc.Below {
			// The interval that is back under the bound counts whole:
			// the recovery took until its end at most.
			after := math.Max(from+width-end, 0)
			ok := after <= rc.Within.Seconds()
			return ok, &after, fmt.Sprintf("%s %.1fms < %gms %.0fs after %s ended (budget %s)", rc.Stat, v, rc.Below, after, rc.After, rc.Within)
		}
	}
	return false, nil, fmt.Sprintf("%s never got back under %gms after %s ended", rc.Stat, rc.Below, rc.After)
}

func seriesStat(stat string) (func(record.Quantiles) time.Duration, bool) {
	switch stat {
	case "p(50)", "med":
		return func(q record.Quantiles) time.Duration { return q.P50 }, true
	case "p(95)":
		return func(q record.Quantiles) time.Duration { return q.P95 }, true
	case "p(99)":
		return func(q record.Quantiles) time.Duration { return q.P99 }, true
	case "max":
		return func(q record.Quantiles) time.Duration { return q.Max }, true
	}
	return nil, false
}
