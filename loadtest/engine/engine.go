// Package engine runs a scenario file against a target: every scenario of
// the file at once through the executor, one goroutine recording their
// samples, a live progress line, abortOnFail thresholds watched while it
// runs, and the validity of the run measured beside it. Result.Summary
// turns what it measured into the summary document that reports and gates
// read.
//
// A run is only as good as its load generator. The engine therefore
// measures itself: how late open-model iterations left after their
// scheduled time (send lag), how many iterations were dropped for want of
// a free virtual user, the achieved against the target rate, and the
// harness process's CPU. A run where any of these is out of bounds is
// invalid: its latencies would describe the generator, not the system.
package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/taskready/taskready/internal/ballast"
	"github.com/taskready/taskready/loadtest/executor"
	"github.com/taskready/taskready/loadtest/fault"
	"github.com/taskready/taskready/loadtest/ledger"
	"github.com/taskready/taskready/loadtest/record"
	"github.com/taskready/taskready/loadtest/scenario"
	"github.com/taskready/taskready/loadtest/summary"
	"github.com/taskready/taskready/loadtest/threshold"
)

// ErrAborted is the cause of the cancellation that stops the scenarios
// when an abortOnFail threshold fails. Run never returns it: an aborted
// run is a result (Result.Aborted), not an error.
var ErrAborted = errors.New("engine: a threshold with abortOnFail failed")

// Option sets an optional setting of Run.
type Option func(*config)

type config struct {
	client   *http.Client
	progress io.Writer
	tick     time.Duration
	interval time.Duration
	limits   Limits
	metrics  *Metrics
	sleep    func(context.Context, time.Duration) error
	player   fault.Player
	ledger   *ledger.Ledger
	readBack ledger.ReadBack
}

// Limits bound a valid run.
type Limits struct {
	// MaxDropped is the share of open-model iterations that may be
	// dropped (no free VU at maxVUs).
	MaxDropped float64
	// MaxSendLag bounds the 99th percentile of how late open-model
	// iterations left after their scheduled time.
	MaxSendLag time.Duration
	// MaxCPU is the share of all cores the harness process may use
	// before its own scheduling is suspect.
	MaxCPU float64
}

// DefaultLimits are those of a run nobody tuned: 1% dropped, 20 ms of p99
// send lag, 90% of the machine's CPU.
var DefaultLimits = Limits{MaxDropped: 0.01, MaxSendLag: 20 * time.Millisecond, MaxCPU: 0.90}

// WithClient sets the HTTP client every VU shares (default: one over the
// fasthttp-backed transport.Transport).
func WithClient(c *http.Client) Option { return func(cf *config) { cf.client = c } }

// WithProgress writes a live progress line to w every tick (a terminal
// gets it redrawn in place; anything else a line per tick).
func WithProgress(w io.Writer, tick time.Duration) Option {
	return func(cf *config) { cf.progress, cf.tick = w, tick }
}

// WithInterval sets the width of the time series' buckets.
func WithInterval(d time.Duration) Option { return func(cf *config) { cf.interval = d } }

// WithLimits sets the bounds of a valid run.
func WithLimits(l Limits) Option { return func(cf *config) { cf.limits = l } }

// WithMetrics publishes the run's progress to m (the harness's /metrics).
func WithMetrics(m *Metrics) Option { return func(cf *config) { cf.metrics = m } }

// WithFaults plays the scenario's faults on p during the run; the live
// progress line, if any, tells of each as it happens. A scenario with
// faults needs it.
func WithFaults(p fault.Player) Option { return func(cf *config) { cf.player = p } }

// WithLedger keeps l, the write ledger, during the run: it hears of
// every request, and once the load has stopped and every fault has
// healed it reads the tasks back (rb says how; its Target defaults to
// the run's, Since to the run's start less a minute of clock skew).
// Result.Writes holds what it found.
func WithLedger(l *ledger.Ledger, rb ledger.ReadBack) Option {
	return func(cf *config) { cf.ledger, cf.readBack = l, rb }
}

// WithSleep replaces how think time is slept (tests).
func WithSleep(f func(context.Context, time.Duration) error) Option {
	return func(cf *config) { cf.sleep = f }
}

// Result is what a run measured.
type Result struct {
	File   *scenario.File
	Target string
	Start  time.Time
	End    time.Time
	// Recorder holds every sample; the caller may encode it (histograms/).
	Recorder *record.Recorder
	// Checks is the k6 group tree: a check per journey step, at the root
	// as in the k6 export's script.
	Checks    *summary.Group
	Scenarios []summary.Scenario
	// SendLag is the distribution of how late open-model iterations left,
	// in microseconds.
	SendLag *hdrhistogram.Histogram
	// CPU is the harness process's CPU over the run, a share of all cores.
	CPU float64
	// CPUWait is how long its threads waited for a CPU, summed, as a
	// share of the run's wall time (summary.Validity.GeneratorCPUWait).
	CPUWait float64
	// Faults are the scenario's faults as they were played.
	Faults []fault.Window
	// Writes is what the write ledger found (nil: none was kept, or the
	// run was interrupted).
	Writes *summary.Writes
	// Aborted says why the run stopped early, "" if it did not.
	Aborted string
	// Interrupted is true when the caller's context ended the run before
	// its schedule did (the user's Ctrl-C): no budget is judged on it.
	Interrupted bool
	limits      Limits
}

// heapFloor is the ballast (package ballast) a run keeps, so that the
// garbage collector does not run every few milliseconds while the run's
// VUs and connections come up: in the first second of an open model at
// 20,000 iterations/s on 2 cores, 32 MB took it from a thousand VUs and
// 3-5% dropped to 223-380 VUs and none dropped.
const heapFloor = 32 << 20

// Run runs every scenario of f against target and returns what it
// measured. It returns an error only when the run could not be made (a
// bad scenario for the executor); an interrupted or aborted run is a
// result with Aborted set.
func Run(ctx context.Context, f *scenario.File, target string, opts ...Option) (*Result, error) {
	cf := config{tick: time.Second, interval: record.DefaultInterval, limits: DefaultLimits}
	for _, o := range opts {
		o(&cf)
	}
	if f == nil || len(f.Scenarios) == 0 {
		return nil, errors.New("engine: no scenario to run")
	}
	ballast.Ensure(heapFloor)
	plan, err := planFaults(f, cf.player)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	rec, err := record.New(start, record.Interval(cf.interval))
	if err != nil {
		return nil, fmt.Errorf("engine: %w", err)
	}
	res := &Result{
		File: f, Target: target, Start: start, Recorder: rec, Checks: summary.NewRootGroup(),
		SendLag: hdrhistogram.New(1, int64(time.Minute/time.Microsecond), 2), limits: cf.limits,
	}
	names := checkNames(f)
	cpu := startCPU()

	runCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	// Batches of up to 64 samples (executor.Run): 4,096 samples' worth
	// when they come one iteration at a time, as in the open model.
	samples := make(chan []record.Sample, 2048)
	counters := make([]executor.Counters, len(f.Scenarios))
	errs := make([]error, len(f.Scenarios))
	var wg sync.WaitGroup
	// Without a client of the caller's, every VU sends through the
	// fasthttp-backed transport: net/http's per-connection goroutines
	// cap a 2-core generator at 40% of wrk's rate, this at 82%
	// (BenchmarkEngineVsWrk).
	ecfg := executor.Config{Target: target, File: f, Client: cf.client, FastHTTP: cf.client == nil, Sleep: cf.sleep}
	if cf.ledger != nil {
		ecfg.Observe = cf.ledger.Observe
	}
	// The live counts (progress line and metrics) and the time series'
	// dropped iterations both hear from the executors.
	var live *tally
	var events executor.Events
	if cf.progress != nil || cf.metrics != nil {
		names := make([]string, len(f.Scenarios))
		for i, s := range f.Scenarios {
			names[i] = s.Name
		}
		live = newTally(names, cf.metrics)
		events = live
	}
	drops := newDropLog(start, events)
	ecfg.Events = drops
	for i, s := range f.Scenarios {
		wg.Add(1)
		go func() {
			defer wg.Done()
			counters[i], errs[i] = executor.Run(runCtx, ecfg, s, samples)
		}()
	}
	go func() {
		wg.Wait()
		close(samples)
	}()

	// Faults play beside the load and are undone when it ends, before
	// anything is judged.
	w := newWatcher(f, schedules(f), cf, start, live)
	tell := func(e fault.Event) {
		if w.line != nil {
			w.line.Note("harness: " + e.Text)
		}
		if cf.metrics != nil {
			cf.metrics.fault(e.Fault, e.Active)
		}
	}
	if cf.metrics != nil {
		for _, ft := range f.Faults {
			cf.metrics.fault(ft, false) // present from the start: 0 until it acts
		}
	}
	faultCtx, endFaults := context.WithCancel(runCtx)
	played := make(chan []fault.Window, 1)
	go func() { played <- fault.Play(faultCtx, cf.player, plan, start, tell) }()

	w.drain(runCtx, cancel, samples, res, names)
	endFaults()
	res.Faults = <-played
	drops.addTo(res.Recorder) // every executor has returned: samples is closed
	res.End = time.Now()
	res.CPU, res.CPUWait = cpu.share(res.End.Sub(start)), cpu.waited(res.End.Sub(start))
	if cf.metrics != nil {
		cf.metrics.CPU.Set(res.CPU)
	}

	for i, s := range f.Scenarios {
		if errs[i] != nil && !errors.Is(errs[i], context.Canceled) && !errors.Is(errs[i], context.DeadlineExceeded) {
			return nil, fmt.Errorf("scenario %s: %w", s.Name, errs[i])
		}
		res.Scenarios = append(res.Scenarios, scenarioResult(s, counters[i]))
	}
	switch cause := context.Cause(runCtx); {
	case errors.Is(cause, ErrAborted):
		res.Aborted = w.abortReason
	case ctx.Err() != nil:
		res.Aborted, res.Interrupted = "interrupted", true
	}
	if cf.ledger != nil && !res.Interrupted {
		res.Writes = readBack(ctx, cf, target, start)
	}
	return res, nil
}

// readBack has the ledger read back every task the run wrote, telling
// the progress writer, if any, what it does. The load has stopped and
// the faults are undone: anything still wrong is what the run left.
func readBack(ctx context.Context, cf config, target string, start time.Time) *summary.Writes {
	rb := cf.readBack
	if rb.Target == "" {
		rb.Target = target
	}
	if rb.Since.IsZero() {
		rb.Since = start.Add(-time.Minute)
	}
	if rb.Pace <= 0 {
		rb.Pace = ledger.DefaultPace
	}
	n := cf.ledger.Counts()
	// Every object read by itself, and a page per user on top, at the
	// pace, twice over: a bound that only a failing API reaches.
	budget := 30*time.Second + time.Duration(2*float64(2*n.Objects)/rb.Pace*float64(time.Second))
	rctx, cancel := context.WithTimeout(ctx, budget)
	defer cancel()
	if cf.progress != nil {
		fmt.Fprintf(cf.progress, "harness: reading back %d task(s) the load wrote (%d writes acknowledged), at most %g requests/s\n",
			n.Objects, n.Acknowledged, rb.Pace)
	}
	w := cf.ledger.Verify(rctx, rb)
	if errors.Is(rctx.Err(), context.DeadlineExceeded) {
		w.Error = fmt.Sprintf("the read-back ran out of its %s after %d of %d tasks: the API answered too slowly or failed the reads (%d requests); "+
			"run it where the API keeps up, or with fewer writes", budget.Round(time.Second), w.Checked, w.Checked+w.Unverified, w.Requests)
	}
	if cf.progress != nil {
		fmt.Fprintf(cf.progress, "harness: write ledger: %s\n", ledger.Describe(w))
	}
	return w
}

// planFaults resolves f's faults on its schedule; a scenario with faults
// needs a player.
func planFaults(f *scenario.File, p fault.Player) ([]fault.Planned, error) {
	if len(f.Faults) == 0 {
		return nil, nil
	}
	if p == nil {
		return nil, fmt.Errorf("engine: the scenario plays %d fault(s) and this run has no environment to play them on", len(f.Faults))
	}
	plan, err := fault.Plan(f.Faults, phaseStart(f))
	if err != nil {
		return nil, fmt.Errorf("engine: %w", err)
	}
	return plan, nil
}

// phaseStart says when a phase of f first begins, from the run's start.
func phaseStart(f *scenario.File) func(string) (time.Duration, bool) {
	spans := Timeline(f) // in time order: the first is the start
	return func(phase string) (time.Duration, bool) {
		for _, sp := range spans {
			if sp.Phase == phase {
				return time.Duration(sp.From * float64(time.Second)), true
			}
		}
		return 0, false
	}
}

// scenarioResult is s's schedule beside what its executor achieved.
func scenarioResult(s scenario.Scenario, c executor.Counters) summary.Scenario {
	out := summary.Scenario{Name: s.Name, Executor: string(s.Executor), Iterations: c.Iterations, Dropped: c.Dropped, VUsMax: c.VUsMax}
	if !s.Executor.Open() {
		return out
	}
	var planned float64
	var length time.Duration
	if sched, err := executor.Plan(s); err == nil {
		if paced, ok := sched.(executor.Paced); ok {
			planned, length = paced.Planned()
		}
	}
	// The schedule's iterations are those its loop emitted (run or
	// dropped); the area under the rate differs from them by a fraction.
	out.Planned = c.Iterations + c.Dropped
	if length > 0 {
		out.TargetRate = planned / length.Seconds()
		out.AchievedRate = float64(c.Iterations) / length.Seconds()
	}
	return out
}

// schedules plans every scenario of f, once for the watcher and the
// metrics; a scenario no executor plans is left out, and its
// executor.Run fails the run.
func schedules(f *scenario.File) []executor.Schedule {
	var out []executor.Schedule
	for _, s := range f.Scenarios {
		if sched, err := executor.Plan(s); err == nil {
			out = append(out, sched)
		}
	}
	return out
}

// checkNames names each step's check as the k6 export does, so a run and
// its k6 twin report the same checks.
func checkNames(f *scenario.File) map[[2]string]string {
	names := map[[2]string]string{}
	for jname, j := range f.Journeys {
		for i := range j.Steps {
			names[[2]string{jname, j.Steps[i].Name}] = scenario.CheckName(jname, &j.Steps[i])
		}
	}
	return names
}

// Thresholds evaluates the file's thresholds against snap and the write
// ledger's findings w (nil when none was kept).
func Thresholds(f *scenario.File, snap record.Snapshot, w *summary.Writes) ([]threshold.Verdict, []int) {
	ts := make([]threshold.Threshold, len(f.Thresholds))
	lines := make([]int, len(f.Thresholds))
	for i, t := range f.Thresholds {
		ts[i], lines[i] = t.Threshold, t.Line
	}
	return summary.Evaluate(snap, w, ts), lines
}
