package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/taskready/taskready/alerts"
	"github.com/taskready/taskready/dashboards"
	"github.com/taskready/taskready/dashboards/prom"
	"github.com/taskready/taskready/loadtest/scenario"
	"github.com/taskready/taskready/scenarios"
)

// dashboardsOptions are the flags and arguments of harness dashboards.
type dashboardsOptions struct {
	fs                                      *flag.FlagSet
	env                                     envFlags
	dir, scenario, readinessFile, promImage string
}

func dashboardsCmd() command {
	fs := flag.NewFlagSet("dashboards", flag.ContinueOnError)
	o := dashboardsOptions{fs: fs}
	fs.StringVar(&o.dir, "dir", "dashboards", "generate, check: the directory of the dashboard JSON files")
	fs.StringVar(&o.scenario, "scenario", "tour", "verify: the scenario to run while Prometheus scrapes (its load-test dashboard is verified)")
	fs.StringVar(&o.readinessFile, "readiness", "out/readiness/readiness.prom", "verify: a harness check run's readiness.prom to serve, so the readiness dashboard is verified too (skipped when missing)")
	fs.StringVar(&o.promImage, "prometheus-image", "", "verify: run Prometheus from this image whatever the provider (the docker provider's default: $HARNESS_PROMETHEUS_IMAGE, $LOCAL_IMAGE_PROMETHEUS, "+prom.DefaultImage+")")
	o.env.register(fs, 2)
	usage := `usage: harness dashboards generate|check|verify [flags]

Generate, check or verify the Grafana dashboards against a real Prometheus.

  generate  write the Grafana dashboards the code builds into -dir
  check     exit 1 when -dir differs from what generate would write
  verify    bring up an environment, start Prometheus scraping the API
            instances and the harness, run -scenario, then evaluate every
            query of the service and load-test dashboards over the run: a
            panel whose query is invalid or returns no series fails, by
            title; and lint every /metrics with promtool check metrics.
            Prometheus evaluates the alerting rules of -scenario's budgets
            (harness alerts generate) meanwhile: the firing alerts panel
            shows them, and a rule that fails to evaluate fails too.
            Exit 1 on a failure. Prometheus is Debian's prometheus package
            as a local process, or with the docker provider (or
            -prometheus-image) an image in a container on the host's
            network.`
	return command{fs: fs, help: "generate, check or verify the Grafana dashboards against a real Prometheus", usage: usage, run: o.run}
}

func (o *dashboardsOptions) run(ctx context.Context, out io.Writer) error {
	sub, err := subcommand(o.fs, "generate", "check", "verify")
	if err != nil {
		return err
	}
	switch sub {
	case "generate":
		loads, err := scenarios.All()
		if err != nil {
			return err
		}
		names, err := dashboards.Write(o.dir, loads)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "harness: wrote %d dashboards into %s: %s\n", len(names), o.dir, strings.Join(names, ", "))
		return nil
	case "check":
		loads, err := scenarios.All()
		if err != nil {
			return err
		}
		if err := dashboards.Check(o.dir, loads); err != nil {
			if errors.Is(err, dashboards.ErrStale) {
				fmt.Fprintf(out, "harness: %v\n", err)
				return &exitError{code: exitFail, msg: err.Error()}
			}
			return err
		}
		fmt.Fprintf(out, "harness: %s matches the generator\n", o.dir)
		return nil
	case "verify":
		return o.verify(ctx, out)
	}
	return fmt.Errorf("%w: unknown dashboards subcommand %q: want generate, check or verify", errUsage, sub)
}

// verify is `harness dashboards verify`: the CLI brings the environment
// up and seeds it; package dashboards runs and judges.
func (o *dashboardsOptions) verify(ctx context.Context, out io.Writer) error {
	f, err := scenarios.Load(o.scenario)
	if err != nil {
		if errors.Is(err, scenarios.ErrUnknown) {
			return fmt.Errorf("%w: %w", errUsage, err)
		}
		return err
	}
	readiness, err := os.ReadFile(o.readinessFile)
	if err != nil {
		fmt.Fprintf(out, "harness: %s: %v; the readiness dashboard is not verified (make check writes it)\n", o.readinessFile, err)
		readiness = nil
	}
	o.env.apiEnv = append(append(listFlag{}, loadLimits...), o.env.apiEnv...)
	e, err := o.env.up(ctx, out)
	if err != nil {
		return err
	}
	defer e.Close()
	if err := seedScenario(ctx, out, f, e, -1, 5); err != nil {
		return err
	}
	rules, err := verifyRules(out, f)
	if err != nil {
		return err
	}
	v, err := dashboards.VerifyRun(ctx, dashboards.VerifyOptions{Env: e, Scenario: f, Readiness: readiness, Rules: rules, PromImage: o.promImage, Progress: out})
	if errors.Is(err, dashboards.ErrNothingToScrape) {
		return fmt.Errorf("%w: %w", errUsage, err)
	}
	if err != nil {
		return err
	}
	if err := v.WriteText(out); err != nil {
		return err
	}
	if !v.OK() {
		return &exitError{code: exitFail, msg: "dashboards verify failed"}
	}
	return nil
}

// verifyRules are the alerting rules Prometheus evaluates during a
// verification run: f's, or the load scenario's when f has no budget to
// derive objectives from.
func verifyRules(out io.Writer, f *scenario.File) ([]byte, error) {
	r, err := alerts.Generate(f)
	if errors.Is(err, alerts.ErrNoObjective) {
		fmt.Fprintf(out, "harness: %v; Prometheus evaluates the load scenario's rules instead\n", err)
		load, lerr := scenarios.Load("load")
		if lerr != nil {
			return nil, lerr
		}
		r, err = alerts.Generate(load)
	}
	if err != nil {
		return nil, err
	}
	return r.Encode()
}
