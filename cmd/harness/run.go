package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/taskready/taskready/checks/contract"
	"github.com/taskready/taskready/env"
	"github.com/taskready/taskready/internal/spelling"
	"github.com/taskready/taskready/loadtest/calibrate"
	"github.com/taskready/taskready/loadtest/compare"
	"github.com/taskready/taskready/loadtest/engine"
	"github.com/taskready/taskready/loadtest/executor"
	"github.com/taskready/taskready/loadtest/fault"
	"github.com/taskready/taskready/loadtest/ledger"
	"github.com/taskready/taskready/loadtest/record"
	"github.com/taskready/taskready/loadtest/rundir"
	"github.com/taskready/taskready/loadtest/scenario"
	"github.com/taskready/taskready/loadtest/segment"
	"github.com/taskready/taskready/loadtest/summary"
	"github.com/taskready/taskready/loadtest/transport"
	"github.com/taskready/taskready/scenarios"
)

var errChecksFailed = errors.New("the contract smoke failed (see above)")

// exitError carries an exit code other than 1 out of a command: a run that
// completed but crossed a threshold, regressed or was invalid.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

// loadLimits are the API settings of a load run: the rate limits raised
// far above any load this harness makes, so that a run measures the API
// rather than its limiter. -api-env entries come after and win.
var loadLimits = []string{"RATE_LIMIT_AUTH=100000000/1m", "RATE_LIMIT_API=100000000/1m"}

func runCmd() command {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	o := runOptions{progress: os.Stderr, fs: fs}
	o.env.register(fs, 2)
	o.compare.register(fs)
	o.keep.register(fs)
	fs.StringVar(&o.scenario, "scenario", "smoke", "scenario file, or the name of a shipped one: "+fmt.Sprint(scenarios.Names()))
	fs.StringVar(&o.out, "out", "", "directory for summary.json, histograms/, report.html, report.md, junit.xml (default out/<run-id>, linked from out/latest)")
	fs.StringVar(&o.baseline, "baseline", "", "an earlier run (its directory or summary.json) to compare with: exit 100 on a regression; refused (exit 2) unless it ran the same scenario file on the same provider, API instances and CPUs, and was valid and whole")
	fs.StringVar(&o.calibration, "calibration", "", "a harness calibrate result (calibration.json) of this scenario on this kind of machine: -baseline compares with its suggested -min-effect unless -min-effect is given, and the summary records it")
	fs.BoolVar(&o.baselineForce, "baseline-force", false, "compare with -baseline even when it does not match this run (the summary says so)")
	fs.IntVar(&o.seedUsers, "seed-users", -1, "users to seed before the run (default: the scenario's users.count; 0: no seeding)")
	fs.IntVar(&o.seedTasks, "seed-tasks", defaultSeedTasks, "tasks per seeded user")
	fs.BoolVar(&o.contract, "contract", true, "smoke-test the contract before the load (a broken API makes no useful load test)")
	fs.StringVar(&o.metricsAddr, "metrics-addr", "", "serve the harness's Prometheus /metrics here while it runs, e.g. 127.0.0.1:9465")
	fs.Var(&o.latency, "link-latency", "add latency to the link from the APIs to a store for the run, LINK=DURATION (repeatable), e.g. mongo=50ms")
	fs.StringVar(&o.httpClient, "http", "fast", "the engine's HTTP client: fast (fasthttp connections, HTTP/1.1) or std (net/http: HTTP/2, proxies)")
	fs.StringVar(&o.engine, "engine", "taskready", "load generator: taskready, or k6 (an installed k6, its results imported)")
	fs.Float64Var(&o.limits.MaxDropped, "max-dropped", engine.DefaultLimits.MaxDropped, "validity: share of open-model iterations that may be dropped")
	fs.DurationVar(&o.limits.MaxSendLag, "max-send-lag", engine.DefaultLimits.MaxSendLag, "validity: p99 of how late open-model iterations may leave")
	fs.Float64Var(&o.limits.MaxCPU, "max-cpu", engine.DefaultLimits.MaxCPU, "validity: share of all cores the harness may use")
	fs.StringVar(&o.ledger, "ledger", "auto", "keep a write ledger and read every task the load wrote back after it: on, off, or auto (on when the scenario plays faults or has a threshold on lost_writes, resurrected_writes, duplicated_writes or ambiguous_writes)")
	fs.Float64Var(&o.ledgerPace, "ledger-pace", ledger.DefaultPace, "the ledger's read-back: at most this many requests a second")
	fs.BoolVar(&o.quiet, "quiet", false, "print no execution plan and no live progress line (both go to stderr, the results to stdout)")
	fs.StringVar(&o.segment, "segment", "", "make execution segment I/N (0-based) of the load, as worker I of N: 1/N of every rate and VU count; thresholds are left to harness merge of the N runs (seed and smoke-test once, beforehand: -seed-users 0 -contract=false)")
	usage := `usage: harness run [flags]

Brings up an environment (or uses -target), seeds it, runs a scenario,
writes the reports and gates on the result.

exit codes:
  0    every threshold held (and no regression against -baseline)
  99   a threshold or recovery budget was crossed (as k6)
  100  a regression against -baseline
  101  an invalid run: the load generator could not keep up
  105  interrupted (Ctrl-C, SIGTERM): the reports cover the run so far
       and no threshold or budget was judged on them
  1    an error: the environment or the run failed, or -target could not
       be reached
  2    a usage or scenario error`
	return command{fs: fs, help: "bring up an environment, run a scenario, write reports, gate", usage: usage, run: o.run}
}

// calibrated reads -calibration: it must be of f's scenario; its
// suggested minimum effect and its run-to-run noise stand unless
// -min-effect and -run-noise were given.
func (o *runOptions) calibrated(f *scenario.File) (*summary.Calibration, error) {
	if o.calibration == "" {
		return nil, nil
	}
	data, err := os.ReadFile(o.calibration)
	if err != nil {
		return nil, fmt.Errorf("%w: -calibration: %w", errUsage, err)
	}
	var res calibrate.Result
	if err := json.Unmarshal(data, &res); err != nil || res.AA.Pairs == 0 {
		return nil, fmt.Errorf("%w: -calibration %s: not a harness calibrate result (%v)", errUsage, o.calibration, err)
	}
	if res.Scenario != f.Name {
		return nil, fmt.Errorf("%w: -calibration %s calibrated scenario %s, not %s: calibrate this one (harness calibrate -scenario %s)", errUsage, o.calibration, res.Scenario, f.Name, f.Name)
	}
	given := map[string]bool{}
	o.fs.Visit(func(fl *flag.Flag) { given[fl.Name] = true })
	if !given["min-effect"] {
		o.compare.minEffect = res.Suggested
	}
	if !given["run-noise"] {
		o.compare.runNoise = res.RunNoise
	}
	return &summary.Calibration{File: o.calibration, Pairs: res.AA.Pairs, FalsePositiveRate: res.AA.Rate,
		Detectable: res.Detectable, Suggested: res.Suggested, MinEffect: o.compare.minEffect,
		MeasuredRunNoise: res.RunNoise, RunNoise: o.compare.runNoise}, nil
}

// keepLedger says whether -ledger mode asks for a write ledger on f.
func keepLedger(mode string, f *scenario.File) (bool, error) {
	switch mode {
	case "on":
		return true, nil
	case "off":
		return false, nil
	case "auto":
		return len(f.Faults) > 0 || slices.ContainsFunc(f.Thresholds, func(t scenario.Threshold) bool {
			return slices.Contains(record.WriteMetrics, t.Selector.Metric)
		}), nil
	}
	return false, fmt.Errorf("%w: -ledger %q: want on, off or auto", errUsage, mode)
}

// runOptions are the flags of harness run.
type runOptions struct {
	env                                          envFlags
	scenario, out, baseline, metricsAddr, engine string
	httpClient, segment, ledger, calibration     string
	ledgerPace                                   float64
	seedUsers, seedTasks                         int
	contract, quiet, baselineForce               bool
	limits                                       engine.Limits
	latency                                      listFlag
	compare                                      compareFlags
	keep                                         keepFlag

	fs *flag.FlagSet
	// progress is where the execution plan and the live line go:
	// stderr, beside the diagnostics, so stdout holds only the results.
	progress io.Writer
}

func (o *runOptions) run(ctx context.Context, out io.Writer) error {
	f, err := scenarios.Load(o.scenario)
	if err != nil {
		if errors.Is(err, scenarios.ErrUnknown) {
			return fmt.Errorf("%w: %w", errUsage, err)
		}
		return err
	}
	if o.httpClient != "fast" && o.httpClient != "std" {
		return fmt.Errorf("%w: -http must be fast or std", errUsage)
	}
	if o.engine != "taskready" && o.engine != "k6" {
		return fmt.Errorf("%w: -engine must be taskready or k6", errUsage)
	}
	if o.engine == "k6" {
		if _, err := exec.LookPath("k6"); err != nil {
			return errK6Missing()
		}
	}
	if err := o.canPlayFaults(f); err != nil {
		return fmt.Errorf("%w: %w", errUsage, err)
	}
	keep, err := keepLedger(o.ledger, f)
	if err != nil {
		return err
	}
	cal, err := o.calibrated(f)
	if err != nil {
		return err
	}
	digest := scenarioDigest(o.scenario)
	id := time.Now().UTC().Format("20060102-150405") + "-" + f.Name
	var seg segment.Segment
	if o.segment != "" {
		if seg, err = o.worker(); err != nil {
			return err
		}
		id += fmt.Sprintf("-segment-%d-of-%d", seg.Index, seg.Count)
		// A worker sees 1/N of the load: its counts and percentiles would
		// gate on the wrong numbers, and abortOnFail would stop one worker
		// on a partial view. harness merge evaluates them once, on the
		// merged histograms.
		f = executor.Segment(f, seg)
		f.Thresholds, f.Recoveries = nil, nil
	}
	if o.engine == "taskready" { // k6's VUs are k6's to size
		if err := fitsMemory(f); err != nil {
			return err
		}
	}
	dir := o.out
	if dir == "" {
		dir = filepath.Join("out", id)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("output directory: %w", err)
	}

	o.env.apiEnv = append(append(listFlag{}, loadLimits...), o.env.apiEnv...)
	e, err := o.env.up(ctx, out)
	if err != nil {
		return err
	}
	// A store that died during the run says so here (an embedded
	// PostgreSQL that was killed, say), after the report.
	defer closeEnv(e, out)
	if err := faultTargets(f, e); err != nil {
		return fmt.Errorf("%w: %w", errUsage, err)
	}
	base, err := checkBaseline(out, o.baseline, rundir.Planned{Scenario: f.Name, FileSHA256: digest,
		Provider: e.Provider, APIInstances: len(e.APIs), CPUs: runtime.NumCPU()}, o.baselineForce)
	if err != nil {
		return err
	}
	if err := seedScenario(ctx, out, f, e, o.seedUsers, o.seedTasks); err != nil {
		return err
	}
	if o.contract {
		if err := smoke(ctx, out, e.Target); err != nil {
			return err
		}
	}
	if err := o.degrade(out, e); err != nil {
		return err
	}

	if o.engine == "k6" {
		sum, err := runK6(ctx, out, f, e.Target, dir, o.quiet)
		if err != nil {
			return err
		}
		sum.Run.ID, sum.Run.Target = id, e.Target
		if ctx.Err() != nil {
			// k6 heard the same Ctrl-C and wrote its summary of the run so
			// far, with its thresholds judged: not a verdict of ours.
			sum.Run.Interrupted = true
		}
		if err := writeOutputs(out, dir, &rundir.Run{Summary: sum}, int(o.keep)); err != nil {
			return err
		}
		return finish(out, dir, sum)
	}

	opts := []engine.Option{engine.WithLimits(o.limits), engine.WithFaults(e)}
	if !o.quiet {
		opts = append(opts, engine.WithProgress(o.progress, time.Second))
	}
	switch o.httpClient {
	case "fast":
	case "std":
		// net/http keeps two idle connections per host by default; a
		// load generator needs one per VU.
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConnsPerHost, tr.DisableCompression = 10000, true
		// Counting connections: data_sent and data_received are the
		// bytes on the wire, as with the fast client.
		opts = append(opts, engine.WithClient(&http.Client{Transport: transport.CountConns(tr)}))
	}
	if o.metricsAddr != "" {
		ms, err := engine.ServeMetrics(o.metricsAddr)
		if err != nil {
			return fmt.Errorf("%w: -metrics-addr: %w", errUsage, err)
		}
		defer ms.Close()
		fmt.Fprintf(out, "harness: metrics on http://%s/metrics\n", ms.Addr)
		opts = append(opts, engine.WithMetrics(ms.Metrics))
	}
	fmt.Fprintf(out, "harness: running %s (%s) against %s\n", f.Name, f.Path, e.Target)
	if !o.quiet {
		if err := engine.WritePlan(o.progress, f, e.Target); err != nil {
			return err
		}
	}
	// Faults on the clients' link need the load to go through it.
	loadTarget, err := fault.LoadTarget(f.Faults, e, e.Target)
	if err != nil {
		return err
	}
	if loadTarget != e.Target {
		fmt.Fprintf(out, "harness: the load goes through the clients' link (%s) for the faults on it\n", loadTarget)
	}
	if keep {
		// Read back from the API itself, not through the clients' link.
		opts = append(opts, engine.WithLedger(ledger.New(), ledger.ReadBack{Target: e.Target, Pace: o.ledgerPace}))
	}
	res, err := engine.Run(ctx, f, loadTarget, opts...)
	if err != nil {
		return err
	}
	res.Target = e.Target // the system under test, not the link's address
	meta := engine.Meta{ID: id, Provider: e.Provider, APIInstances: len(e.APIs), Harness: version(), FileSHA256: digest}
	if o.segment != "" {
		meta.Segment = seg.String()
		fmt.Fprintf(out, "harness: segment %s: thresholds and recovery budgets are left to harness merge\n", seg)
	}
	if e.Stores != nil {
		meta.Notes = append(meta.Notes, e.Stores.Notes...)
	}
	sum := res.Summary(meta)
	r := &rundir.Run{Summary: sum, Recorder: res.Recorder}
	if o.baseline != "" && !res.Interrupted { // a part of the schedule compares with nothing
		if err := base.compare(r, o.baseline, o.compare.options()...); err != nil {
			return err
		}
		r.Summary.Run.Comparison.Calibration = cal
	}
	if err := writeOutputs(out, dir, r, int(o.keep)); err != nil {
		return err
	}
	return finish(out, dir, sum)
}

// worker checks the flags of a segment run: the segment, and that the
// rest of the run suits a worker.
func (o *runOptions) worker() (segment.Segment, error) {
	seg, err := segment.Parse(o.segment)
	switch {
	case err != nil:
		return seg, fmt.Errorf("%w: -segment: %v", errUsage, err)
	case o.engine != "taskready":
		return seg, fmt.Errorf("%w: -segment needs -engine taskready (k6 has execution segments of its own)", errUsage)
	case o.baseline != "":
		return seg, fmt.Errorf("%w: -segment: a segment is 1/%d of the run; give -baseline to harness merge", errUsage, seg.Count)
	}
	return seg, nil
}

// scenarioDigest is the SHA-256 of the scenario file at nameOrPath, "" for
// a shipped scenario (the harness's version names it) or an unreadable
// file.
func scenarioDigest(nameOrPath string) string {
	data, err := os.ReadFile(nameOrPath)
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// degrade applies -link-latency after the contract smoke, so the smoke
// still tells a broken API from a slow one.
func (o *runOptions) degrade(out io.Writer, e *env.Env) error {
	lat, err := parseLinkLatencies(o.latency, "-link-latency")
	if err != nil {
		return err
	}
	if err := degradeLinks(e, "link-latency", lat); err != nil {
		return err
	}
	for _, name := range slices.Sorted(maps.Keys(lat)) {
		fmt.Fprintf(out, "harness: %s added to every exchange on the %s link\n", lat[name], name)
	}
	return nil
}

// finish prints where the reports are and turns the outcome into the exit
// code.
func finish(out io.Writer, dir string, sum *summary.Summary) error {
	if err := writeText(out, sum); err != nil {
		return err
	}
	fmt.Fprintf(out, "\nreports: %s (%s)\n", dir, rundir.Files())
	if sum.Run.Outcome.ExitCode == summary.ExitPass {
		return nil
	}
	return &exitError{code: sum.Run.Outcome.ExitCode, msg: string(sum.Run.Outcome.Status)}
}

// smokeOptions are the flags of harness smoke.
type smokeOptions struct{ target string }

func smokeCmd() command {
	var o smokeOptions
	fs := flag.NewFlagSet("smoke", flag.ContinueOnError)
	fs.StringVar(&o.target, "target", "", "base URL of a running task API, e.g. http://localhost:5000")
	return command{fs: fs, help: "smoke-test the contract of a running API (-target URL)", run: o.run}
}

func (o *smokeOptions) run(ctx context.Context, out io.Writer) error {
	if o.target == "" {
		return fmt.Errorf("%w: -target is required", errUsage)
	}
	return smoke(ctx, out, o.target)
}

func smoke(ctx context.Context, out io.Writer, target string) error {
	fmt.Fprintf(out, "harness: smoke-testing the contract against %s\n", target)
	report, err := contract.Run(ctx, target)
	if err != nil {
		return fmt.Errorf("%w: %w", errUsage, err)
	}
	if err := report.WriteText(out); err != nil {
		return err
	}
	if !report.Passed() {
		return errChecksFailed
	}
	return nil
}

// canPlayFaults refuses, before anything starts, a run that cannot play
// the scenario's faults: the harness plays them on an environment it
// brought up, with its own engine, as one process.
func (o *runOptions) canPlayFaults(f *scenario.File) error {
	if len(f.Faults) == 0 {
		return nil
	}
	first := f.Faults[0]
	// With -target only the clients' link is the harness's to play on.
	if i := slices.IndexFunc(f.Faults, func(ft scenario.Fault) bool { return ft.Target != env.ClientLink }); i >= 0 && o.env.target != "" {
		ft := f.Faults[i]
		return fmt.Errorf("%s:%d: fault %s: with -target the harness controls no component of the API and no link but the clients' (%s); run it on an environment the harness brings up (-provider embedded or docker)", f.Path, ft.Line, ft.Name, env.ClientLink)
	}
	switch {
	case o.engine != "taskready":
		return fmt.Errorf("%s:%d: fault %s: faults are played by the harness's own engine; run without -engine %s", f.Path, first.Line, first.Name, o.engine)
	case o.segment != "":
		return fmt.Errorf("%s:%d: fault %s: faults are played once, by one harness; run without -segment", f.Path, first.Line, first.Name)
	}
	return nil
}

// faultTargets checks that every fault names a component or a link the
// environment has (the clients' link is made for the run).
func faultTargets(f *scenario.File, e *env.Env) error {
	links := []string{env.ClientLink}
	for name := range e.Links {
		links = append(links, name)
	}
	slices.Sort(links)
	var components []string
	for _, c := range e.Components() {
		components = append(components, c.Name())
	}
	for _, ft := range f.Faults {
		if ft.OnLink() {
			if _, ok := e.Links[ft.Target]; !ok && ft.Target != env.ClientLink {
				return fmt.Errorf("%s:%d: fault %s: %s acts on a link, and the %s environment has no link %q%s (links: %s)",
					f.Path, ft.Line, ft.Name, ft.Action, e.Provider, ft.Target, didYouMean(ft.Target, links), strings.Join(links, ", "))
			}
			continue
		}
		c, err := e.Component(ft.Target)
		if err != nil {
			return fmt.Errorf("%s:%d: fault %s: the %s environment has no component %q%s (components: %s)",
				f.Path, ft.Line, ft.Name, e.Provider, ft.Target, didYouMean(ft.Target, components), strings.Join(components, ", "))
		}
		if l, ok := c.(env.Limited); ok {
			if err := l.Can(ft.Action); err != nil {
				return fmt.Errorf("%s:%d: fault %s: on the %s environment, %w", f.Path, ft.Line, ft.Name, e.Provider, err)
			}
		}
	}
	return nil
}

// didYouMean is " (did you mean X?)" for the known word nearest to word,
// or "".
func didYouMean(word string, known []string) string {
	if near := spelling.Closest(word, known, 2); near != "" {
		return fmt.Sprintf(" (did you mean %q?)", near)
	}
	return ""
}

// checkedBaseline is a baseline that BaselineFor read, and why it was
// compared although it does not match the run (-baseline-force).
type checkedBaseline struct {
	summary *summary.Summary
	forced  string
}

// checkBaseline reads the baseline at path, if any, and refuses it (a
// usage error) when it does not match the run p will be, unless force.
func checkBaseline(out io.Writer, path string, p rundir.Planned, force bool) (checkedBaseline, error) {
	if path == "" {
		return checkedBaseline{}, nil
	}
	s, err := rundir.BaselineFor(path, p)
	switch {
	case errors.Is(err, rundir.ErrBaselineMismatch) && force:
		fmt.Fprintf(out, "harness: %s; compared anyway (-baseline-force)\n", err)
		return checkedBaseline{summary: s, forced: err.Error()}, nil
	case errors.Is(err, rundir.ErrBaselineMismatch):
		return checkedBaseline{}, fmt.Errorf("%w: %w; -baseline-force compares anyway", errUsage, err)
	case err != nil:
		return checkedBaseline{}, fmt.Errorf("%w: %w", errUsage, notRunDir(err))
	}
	return checkedBaseline{summary: s}, nil
}

// compare compares r with the baseline at path and says in r's summary
// which run the baseline was, and whether it was forced.
func (b checkedBaseline) compare(r *rundir.Run, path string, opts ...compare.Option) error {
	if err := r.Compare(path, opts...); err != nil {
		return notRunDir(err)
	}
	c := r.Summary.Run.Comparison
	c.Forced = b.forced
	if b.summary != nil {
		run := b.summary.Run
		c.BaselineRun = &summary.BaselineRun{ID: run.ID, Start: run.Start, Commit: run.Environment.Commit}
	}
	return nil
}
