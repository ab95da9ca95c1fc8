package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/taskready/taskready/env"
	"github.com/taskready/taskready/env/link"
	"github.com/taskready/taskready/internal/loadavg"
	"github.com/taskready/taskready/loadtest/calibrate"
	"github.com/taskready/taskready/loadtest/compare"
	"github.com/taskready/taskready/loadtest/engine"
	"github.com/taskready/taskready/loadtest/fault"
	"github.com/taskready/taskready/loadtest/record"
	"github.com/taskready/taskready/loadtest/rundir"
	"github.com/taskready/taskready/loadtest/scenario"
	"github.com/taskready/taskready/scenarios"
)

type calibrateOptions struct {
	env       envFlags
	compare   compareFlags
	scenario  string
	pairs     int
	bLatency  listFlag
	seedUsers int
	reuse     bool
	runsDir   string
	out       string
	json      jsonOutput
}

func calibrateCmd() command {
	var o calibrateOptions
	fs := flag.NewFlagSet("calibrate", flag.ContinueOnError)
	o.env.register(fs, 2)
	o.compare.register(fs)
	fs.StringVar(&o.scenario, "scenario", "smoke", "scenario file, or the name of a shipped one, run over and over")
	fs.IntVar(&o.pairs, "runs", 10, "pairs to compare: each is two runs of the same build (A/A), and with -b-link-latency a third, slowed run (A/B)")
	fs.Var(&o.bLatency, "b-link-latency", "make each pair's B run slower: latency on a link from the APIs to a store, LINK=DURATION (repeatable), e.g. mongo=2ms")
	fs.IntVar(&o.seedUsers, "seed-users", -1, "users to seed first (default: the scenario's users.count; 0: none)")
	fs.BoolVar(&o.reuse, "reuse-env", false, "run every run on one environment, brought up and seeded once (faster with docker), instead of a new one per run as CI does: later runs then find the caches and the data the earlier ones left")
	fs.StringVar(&o.runsDir, "runs-dir", "", "directory to keep each run's histograms in (run-07-B.json), which harness compare reads")
	fs.StringVar(&o.out, "out", "out/calibration.json", "where the result is written as JSON")
	o.json.register(fs)
	usage := `usage: harness calibrate [flags]

Runs a scenario again and again and compares the runs as harness run
-baseline would: pairs of the same build (A/A) say how often noise is
called a regression here, and with -b-link-latency, pairs against a slowed
build (A/B) how often a real one is caught. Prints the spread of p95 and
the error rate, the run-to-run noise beyond what each run shows (with
which it judges every pair again), the smallest regression detectable with
95% confidence, and the -min-effect to use on this machine; harness run
-calibration applies them.

Each run gets a new environment, seeded afresh, as each CI job's run does:
two runs on one environment differ by what the first left behind (warm
caches, grown collections), which a pipeline's runs never share.`
	return command{fs: fs, help: "measure the comparison's noise on this machine and suggest -min-effect", usage: usage, run: o.run, json: &o.json}
}

func (o *calibrateOptions) run(ctx context.Context, out io.Writer) error {
	w := o.json.progress(out)
	f, err := scenarios.Load(o.scenario)
	if err != nil {
		return fmt.Errorf("%w: %w", errUsage, err)
	}
	if o.pairs < 1 {
		return fmt.Errorf("%w: -runs must be at least 1", errUsage)
	}
	if err := (&runOptions{env: o.env, engine: "taskready"}).canPlayFaults(f); err != nil {
		return fmt.Errorf("%w: %w", errUsage, err)
	}
	slow, err := parseLinkLatencies(o.bLatency, "-b-link-latency")
	if err != nil {
		return err
	}
	o.env.apiEnv = append(append(listFlag{}, loadLimits...), o.env.apiEnv...)
	c := &calibration{o: o, f: f, w: w, slow: slow,
		reuse: o.reuse || o.env.target != "", // a running API cannot be brought up again
	}
	c.total = 2 * o.pairs
	if len(slow) > 0 {
		c.total = 3 * o.pairs
	}
	if c.reuse {
		if c.shared, c.sharedTarget, err = c.prepare(ctx, w); err != nil {
			return err
		}
		defer closeEnv(c.shared, w)
		fmt.Fprintf(w, "harness: calibrating with %d runs of %s against %s (%d API instance(s)), one environment for all\n", c.total, f.Name, c.shared.Target, len(c.shared.APIs))
	} else {
		fmt.Fprintf(w, "harness: calibrating with %d runs of %s, each on a new environment\n", c.total, f.Name)
	}

	began := time.Now()
	for range o.pairs {
		if err := c.pair(ctx); err != nil {
			return err
		}
	}
	res, err := c.result(time.Since(began))
	if err != nil {
		return err
	}
	fmt.Fprintln(w)
	if err := res.WriteText(w); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(o.out), 0o755); err != nil {
		return err
	}
	if err := rundir.WriteFile(o.out, func(w io.Writer) error { return encodeJSON(w, res) }); err != nil {
		return err
	}
	fmt.Fprintf(w, "harness: wrote %s\n", o.out)
	if o.json.on {
		return o.json.write(out, res)
	}
	return nil
}

// calibration is one harness calibrate under way: what it runs, and what
// the runs and their comparisons gave so far.
type calibration struct {
	o     *calibrateOptions
	f     *scenario.File
	w     io.Writer                // progress
	slow  map[string]time.Duration // the B runs' link latencies
	reuse bool                     // one environment for all runs
	total int                      // runs planned

	shared       *env.Env // the one environment, with reuse
	sharedTarget string

	n        int // runs so far
	runs     []calibrate.Run
	pairs    []calibrate.Pair
	recorded []recordedPair // beside pairs, to judge them again
}

// prepare brings up an environment for the scenario, seeded, and says
// where the load goes; the caller closes the environment.
func (c *calibration) prepare(ctx context.Context, out io.Writer) (*env.Env, string, error) {
	e, err := c.o.env.up(ctx, out)
	if err != nil {
		return nil, "", err
	}
	target, err := c.o.ready(ctx, out, c.f, e)
	if err != nil {
		closeEnv(e, c.w)
		return nil, "", err
	}
	return e, target, nil
}

// pair runs two A runs and compares them, then, with -b-link-latency, a B
// run compared with the second A.
func (c *calibration) pair(ctx context.Context) error {
	a1, err := c.one(ctx, "A")
	if err != nil {
		return err
	}
	a2, err := c.one(ctx, "A")
	if err != nil {
		return err
	}
	if err := c.judge("A/A", a1, a2); err != nil {
		return err
	}
	if len(c.slow) == 0 {
		return nil
	}
	b, err := c.one(ctx, "B")
	if err != nil {
		return err
	}
	return c.judge("A/B", a2, b)
}

// one makes one run of kind "A" or "B" (slowed), on a new environment
// unless reused, and returns its recorder.
func (c *calibration) one(ctx context.Context, kind string) (*record.Recorder, error) {
	c.n++
	e, target, took := c.shared, c.sharedTarget, time.Duration(0)
	if !c.reuse {
		// The first environment's progress is shown; the others' would
		// bury the runs' lines.
		out := io.Discard
		if c.n == 1 {
			out = c.w
		}
		t0 := time.Now()
		var err error
		if e, target, err = c.prepare(ctx, out); err != nil {
			return nil, fmt.Errorf("run %d: %w", c.n, err)
		}
		defer closeEnv(e, c.w)
		took = time.Since(t0)
	}
	if len(c.slow) > 0 && kind == "B" {
		if err := degradeLinks(e, "calibrate", c.slow); err != nil {
			return nil, err
		}
		defer healLinks(e, "calibrate", c.slow)
	}
	res, err := engine.Run(ctx, c.f, target, engine.WithFaults(e))
	if err != nil {
		return nil, err
	}
	if res.Interrupted {
		return nil, ctx.Err()
	}
	snap := res.Recorder.Snapshot()
	load1, _ := loadavg.One() // 0 where the system does not say
	r := calibrate.Run{Kind: kind, P95: float64(snap.Total.Corrected.P95) / float64(time.Millisecond), ErrorRate: snap.Total.Rate, Load: load1}
	c.runs = append(c.runs, r)
	fresh := ""
	if !c.reuse {
		fresh = fmt.Sprintf(", new environment in %s", took.Round(100*time.Millisecond))
	}
	fmt.Fprintf(c.w, "  run %d/%d (%s): p95 %.2fms, errors %.2f%%, load average %.1f%s\n", c.n, c.total, kind, r.P95, 100*r.ErrorRate, r.Load, fresh)
	if c.o.runsDir != "" {
		if err := c.o.keepRun(c.n, kind, res.Recorder); err != nil {
			return nil, err
		}
	}
	return res.Recorder, nil
}

// judge compares cur with old as the gate would, as a pair of kind.
func (c *calibration) judge(kind string, old, cur *record.Recorder) error {
	rep, err := compare.Compare(old, cur, c.o.compare.options()...)
	if err != nil {
		return err
	}
	c.pairs = append(c.pairs, calibrate.PairOf(kind, rep))
	c.recorded = append(c.recorded, recordedPair{kind, old, cur})
	return nil
}

// result sums the calibration up. When the A/A pairs show run-to-run
// noise and -run-noise did not fix one, every pair is judged again with
// it first (rejudge).
func (c *calibration) result(took time.Duration) (calibrate.Result, error) {
	// Pairs judged with a -run-noise show only the noise beyond it.
	noise := math.Hypot(calibrate.EstimateRunNoise(c.pairs), c.o.compare.runNoise)
	pairs := c.pairs
	var unwidened *calibrate.Unwidened
	if noise > 0 && c.o.compare.runNoise == 0 {
		aa, ab := calibrate.Count(pairs)
		unwidened = &calibrate.Unwidened{AA: aa, AB: ab}
		var err error
		if pairs, err = rejudge(pairs, c.recorded, c.o.compare.options()); err != nil {
			return calibrate.Result{}, err
		}
	}
	res := calibrate.Summarize(c.f.Name, c.o.compare.minEffect, c.runs, pairs, took)
	res.Reused, res.RunNoise, res.Unwidened = c.reuse, noise, unwidened
	return res, nil
}

// recordedPair is a compared pair's two runs.
type recordedPair struct {
	kind     string
	old, cur *record.Recorder
}

// rejudge compares each pair again with its intervals widened by the
// run-to-run noise, as a gate given this calibration would judge it. The
// noise a pair is judged with is measured on the other A/A pairs: on its
// own difference too, it would shrink its own verdict. An A/B pair also
// leaves out the A/A pair before it, whose second run it shares.
func rejudge(pairs []calibrate.Pair, recorded []recordedPair, opts []compare.Option) ([]calibrate.Pair, error) {
	out := make([]calibrate.Pair, len(pairs))
	for i, r := range recorded {
		skip := []int{i}
		if r.kind == "A/B" {
			skip = append(skip, i-1)
		}
		noise := calibrate.EstimateRunNoise(pairs, skip...)
		rep, err := compare.Compare(r.old, r.cur, append(slices.Clone(opts), compare.RunNoise(noise))...)
		if err != nil {
			return nil, err
		}
		out[i] = calibrate.PairOf(r.kind, rep)
	}
	return out, nil
}

// keepRun writes run n's histograms into -runs-dir, as a run directory's
// histograms/run.json: harness compare reads them as they are.
func (o *calibrateOptions) keepRun(n int, kind string, rec *record.Recorder) error {
	if err := os.MkdirAll(o.runsDir, 0o755); err != nil {
		return fmt.Errorf("-runs-dir: %w", err)
	}
	path := filepath.Join(o.runsDir, fmt.Sprintf("run-%02d-%s.json", n, kind))
	if err := rundir.WriteFile(path, rec.Encode); err != nil {
		return fmt.Errorf("-runs-dir: %w", err)
	}
	return nil
}

// ready checks that e has what f's faults act on, seeds it, and returns
// where the load goes (through the clients' link when a fault acts on it).
func (o *calibrateOptions) ready(ctx context.Context, out io.Writer, f *scenario.File, e *env.Env) (string, error) {
	if err := faultTargets(f, e); err != nil {
		return "", fmt.Errorf("%w: %w", errUsage, err)
	}
	if err := seedScenario(ctx, out, f, e, o.seedUsers, defaultSeedTasks); err != nil {
		return "", err
	}
	// A scenario's faults play in every run alike: they are part of
	// what the gate compares.
	return fault.LoadTarget(f.Faults, e, e.Target)
}

// parseLinkLatencies reads LINK=DURATION entries of flag name.
func parseLinkLatencies(entries []string, name string) (map[string]time.Duration, error) {
	out := map[string]time.Duration{}
	for _, l := range entries {
		link, d, ok := strings.Cut(l, "=")
		lat, err := time.ParseDuration(d)
		if !ok || err != nil || lat < 0 {
			return nil, fmt.Errorf("%w: %s %q: want LINK=DURATION, e.g. mongo=2ms", errUsage, name, l)
		}
		if lat > 0 {
			out[link] = lat
		}
	}
	return out, nil
}

// degradeLinks adds each latency to its link, as the fault called name.
func degradeLinks(e *env.Env, name string, lat map[string]time.Duration) error {
	for l, d := range lat {
		if err := e.Degrade(l, name, link.Fault{Action: link.Latency, Latency: d}); err != nil {
			return fmt.Errorf("%w: %v", errUsage, err)
		}
	}
	return nil
}

// healLinks takes the latencies degradeLinks added as name off again.
func healLinks(e *env.Env, name string, lat map[string]time.Duration) {
	for l := range lat {
		_ = e.Restore(l, name)
	}
}
