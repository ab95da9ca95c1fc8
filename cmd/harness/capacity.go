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

	"github.com/taskready/taskready/loadtest/capacity"
	"github.com/taskready/taskready/loadtest/engine"
	"github.com/taskready/taskready/loadtest/rundir"
	"github.com/taskready/taskready/scenarios"
)

// capacityOptions are the flags of harness capacity.
type capacityOptions struct {
	env        envFlags
	scenario   string
	start, max int
	hold       time.Duration
	precision  float64
	maxVUs     int
	seedUsers  int
	out        string
	json       jsonOutput
}

func capacityCmd() command {
	var o capacityOptions
	fs := flag.NewFlagSet("capacity", flag.ContinueOnError)
	o.env.register(fs, 2)
	fs.StringVar(&o.scenario, "scenario", "load", "scenario whose first scenario's journeys make the load and whose thresholds are the budgets")
	fs.IntVar(&o.start, "start", 10, "first rate tried, iterations per second")
	fs.IntVar(&o.max, "max", 5000, "highest rate tried")
	fs.DurationVar(&o.hold, "hold", 30*time.Second, "how long each rate is held")
	fs.Float64Var(&o.precision, "precision", 0.05, "stop bisecting when the bracket is within this share of the rate that held")
	fs.IntVar(&o.maxVUs, "max-vus", 0, "cap on virtual users per step (default: enough for the journeys' think times, 2 × rate × (think + 250ms per request), at least 10)")
	fs.IntVar(&o.seedUsers, "seed-users", -1, "users to seed first (default: the scenario's users.count; 0: none)")
	fs.StringVar(&o.out, "out", "out/capacity.json", "where the steps are written as JSON")
	o.json.register(fs)
	return command{fs: fs, help: "find the highest arrival rate that holds the scenario's budgets", run: o.run, json: &o.json}
}

func (o *capacityOptions) run(ctx context.Context, out io.Writer) error {
	w := o.json.progress(out)
	f, err := scenarios.Load(o.scenario)
	if err != nil {
		return fmt.Errorf("%w: %w", errUsage, err)
	}
	if o.start < 1 || o.max < o.start || o.hold <= 0 || o.precision <= 0 {
		return fmt.Errorf("%w: want 1 <= -start <= -max, a positive -hold and -precision", errUsage)
	}
	o.env.apiEnv = append(append(listFlag{}, loadLimits...), o.env.apiEnv...)
	e, err := o.env.up(ctx, w)
	if err != nil {
		return err
	}
	defer closeEnv(e, w)
	if err := seedScenario(ctx, w, f, e, o.seedUsers, 20); err != nil {
		return err
	}
	fmt.Fprintf(w, "harness: searching the capacity of %s (%d API instance(s)) with %s's journeys, %s per step\n", e.Target, len(e.APIs), f.Name, o.hold)
	res, err := capacity.Search(ctx, f, e.Target, capacity.Options{
		Start: o.start, Max: o.max, Hold: o.hold, Precision: o.precision, MaxVUs: o.maxVUs, Progress: w,
		Engine: []engine.Option{engine.WithProgress(w, time.Second)},
	})
	if err != nil {
		return err
	}
	bound := ""
	if res.LowerBound {
		bound = "at least "
	}
	rep := capacity.NewReport(res, f.Name, e.Target, len(e.APIs), o.hold)
	fmt.Fprintln(w)
	if err := rep.WriteText(w); err != nil {
		return err
	}
	fmt.Fprintf(w, "\ncapacity: %s%d iterations/s with %d API instance(s) (%s)\n", bound, res.Rate, len(e.APIs), res.Why)
	if res.Rate == 0 {
		fmt.Fprintf(w, "harness: no rate held, not even -start %d/s: try a lower -start, and see each step's reasons in %s\n", o.start, o.out)
	}
	if err := os.MkdirAll(filepath.Dir(o.out), 0o755); err != nil {
		return err
	}
	if err := rundir.WriteFile(o.out, func(w io.Writer) error { return encodeJSON(w, rep) }); err != nil {
		return err
	}
	page := strings.TrimSuffix(o.out, filepath.Ext(o.out)) + ".html"
	if err := rundir.WriteFile(page, rep.WriteHTML); err != nil {
		return err
	}
	fmt.Fprintf(w, "harness: wrote %s and %s (p95 and errors against the offered rate)\n", o.out, page)
	if o.json.on {
		return o.json.write(out, rep)
	}
	return nil
}
