package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/taskready/taskready/loadtest/capacity"
	"github.com/taskready/taskready/loadtest/engine"
	"github.com/taskready/taskready/scenarios"
)

func capacityCmd() command {
	fs := flag.NewFlagSet("capacity", flag.ContinueOnError)
	var ef envFlags
	ef.register(fs, 2)
	scen := fs.String("scenario", "load", "scenario whose first scenario's journeys make the load and whose thresholds are the budgets")
	start := fs.Int("start", 10, "first rate tried, iterations per second")
	maxRate := fs.Int("max", 5000, "highest rate tried")
	hold := fs.Duration("hold", 30*time.Second, "how long each rate is held")
	precision := fs.Float64("precision", 0.05, "stop bisecting when the bracket is within this share of the rate that held")
	maxVUs := fs.Int("max-vus", 0, "cap on virtual users per step (default: enough for the journeys' think times, 2 × rate × (think + 250ms per request), at least 10)")
	seedUsers := fs.Int("seed-users", -1, "users to seed first (default: the scenario's users.count; 0: none)")
	out := fs.String("out", "out/capacity.json", "where the steps are written as JSON")
	return command{fs: fs, help: "find the highest arrival rate that holds the scenario's budgets", run: func(ctx context.Context, w io.Writer) error {
		f, err := scenarios.Load(*scen)
		if err != nil {
			return fmt.Errorf("%w: %v", errUsage, err)
		}
		if *start < 1 || *maxRate < *start || *hold <= 0 || *precision <= 0 {
			return fmt.Errorf("%w: want 1 <= -start <= -max, a positive -hold and -precision", errUsage)
		}
		ef.apiEnv = append(append(listFlag{}, loadLimits...), ef.apiEnv...)
		e, err := ef.up(ctx, w)
		if err != nil {
			return err
		}
		defer func() {
			if err := e.Close(); err != nil {
				fmt.Fprintln(w, "harness: taking the environment down:", err)
			}
		}()
		ro := runOptions{seedUsers: *seedUsers, seedTasks: 20}
		if err := ro.seed(ctx, w, f, e); err != nil {
			return err
		}
		fmt.Fprintf(w, "harness: searching the capacity of %s (%d API instance(s)) with %s's journeys, %s per step\n", e.Target, len(e.APIs), f.Name, *hold)
		res, err := capacity.Search(ctx, f, e.Target, capacity.Options{
			Start: *start, Max: *maxRate, Hold: *hold, Precision: *precision, MaxVUs: *maxVUs, Progress: w,
			Engine: []engine.Option{engine.WithProgress(w, time.Second)},
		})
		if err != nil {
			return err
		}
		bound := ""
		if res.LowerBound {
			bound = "at least "
		}
		fmt.Fprintf(w, "\ncapacity: %s%d iterations/s with %d API instance(s) (%s)\n", bound, res.Rate, len(e.APIs), res.Why)
		if err := os.MkdirAll(filepath.Dir(*out), 0o755); err != nil {
			return err
		}
		data, _ := json.MarshalIndent(struct {
			capacity.Result
			Instances int    `json:"api_instances"`
			Scenario  string `json:"scenario"`
			Target    string `json:"target"`
		}{res, len(e.APIs), f.Name, e.Target}, "", "  ")
		return os.WriteFile(*out, append(data, '\n'), 0o644)
	}}
}
