package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
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
	"github.com/taskready/taskready/scenarios"
)

type calibrateOptions struct {
	env       envFlags
	compare   compareFlags
	scenario  string
	pairs     int
	bLatency  listFlag
	seedUsers int
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
	fs.StringVar(&o.out, "out", "out/calibration.json", "where the result is written as JSON")
	o.json.register(fs)
	usage := `usage: harness calibrate [flags]

Runs a scenario against one environment again and again and compares the
runs as harness run -baseline would: pairs of the same build (A/A) say how
often noise is called a regression here, and with -b-link-latency, pairs
against a slowed build (A/B) how often a real one is caught. Prints the
spread of p95 and the error rate, the smallest regression detectable with
95% confidence, and the -min-effect to use on this machine.`
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
	e, err := o.env.up(ctx, w)
	if err != nil {
		return err
	}
	defer func() {
		if err := e.Close(); err != nil {
			fmt.Fprintln(w, "harness: taking the environment down:", err)
		}
	}()
	if err := faultTargets(f, e); err != nil {
		return fmt.Errorf("%w: %w", errUsage, err)
	}
	if err := seedScenario(ctx, w, f, e, o.seedUsers, defaultSeedTasks); err != nil {
		return err
	}
	// A scenario's faults play in every run alike: they are part of
	// what the gate compares.
	target, err := fault.LoadTarget(f.Faults, e, e.Target)
	if err != nil {
		return err
	}
	perPair := 2
	if len(slow) > 0 {
		perPair = 3
	}
	fmt.Fprintf(w, "harness: calibrating with %d runs of %s against %s (%d API instance(s))\n", perPair*o.pairs, f.Name, e.Target, len(e.APIs))

	began := time.Now()
	var runs []calibrate.Run
	var pairs []calibrate.Pair
	n := 0
	one := func(kind string) (*record.Recorder, error) {
		n++
		if len(slow) > 0 && kind == "B" {
			if err := degradeLinks(e, "calibrate", slow); err != nil {
				return nil, err
			}
			defer healLinks(e, "calibrate", slow)
		}
		res, err := engine.Run(ctx, f, target, engine.WithFaults(e))
		if err != nil {
			return nil, err
		}
		if res.Interrupted {
			return nil, ctx.Err()
		}
		snap := res.Recorder.Snapshot()
		load1, _ := loadavg.One() // 0 where the system does not say
		r := calibrate.Run{Kind: kind, P95: float64(snap.Total.Corrected.P95) / float64(time.Millisecond), ErrorRate: snap.Total.Rate, Load: load1}
		runs = append(runs, r)
		fmt.Fprintf(w, "  run %d/%d (%s): p95 %.2fms, errors %.2f%%, load average %.1f\n", n, perPair*o.pairs, kind, r.P95, 100*r.ErrorRate, r.Load)
		return res.Recorder, nil
	}
	for range o.pairs {
		a1, err := one("A")
		if err != nil {
			return err
		}
		a2, err := one("A")
		if err != nil {
			return err
		}
		rep, err := compare.Compare(a1, a2, o.compare.options()...)
		if err != nil {
			return err
		}
		pairs = append(pairs, calibrate.PairOf("A/A", rep))
		if len(slow) == 0 {
			continue
		}
		b, err := one("B")
		if err != nil {
			return err
		}
		if rep, err = compare.Compare(a2, b, o.compare.options()...); err != nil {
			return err
		}
		pairs = append(pairs, calibrate.PairOf("A/B", rep))
	}
	res := calibrate.Summarize(f.Name, o.compare.minEffect, runs, pairs, time.Since(began))
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
