package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/taskready/taskready/alerts"
	"github.com/taskready/taskready/scenarios"
)

// defaultAlertsFile is the rule file the compose stack's Prometheus loads.
const defaultAlertsFile = "deploy/prometheus/alerts.yml"

// alertsOptions are the flags of harness alerts.
type alertsOptions struct {
	fs                                     *flag.FlagSet
	scenario, outFile, runbookURL, runbook string
}

func alertsCmd() command {
	fs := flag.NewFlagSet("alerts", flag.ContinueOnError)
	o := alertsOptions{fs: fs}
	fs.StringVar(&o.scenario, "scenario", "load", "the scenario whose budgets the objectives come from: a shipped name or a file")
	fs.StringVar(&o.outFile, "o", defaultAlertsFile, "generate: write the rules here (- for standard output); check: the rule file to compare")
	fs.StringVar(&o.runbookURL, "runbook-url", alerts.DefaultRunbookURL, "the runbook each alert's runbook_url points into, before the #anchor of its section")
	fs.StringVar(&o.runbook, "runbook", "docs/runbook.md", "check: the runbook that must have a section (## AlertName) for each alert")
	usage := `usage: harness alerts generate|check [flags]

Write the API's Prometheus alerting rules from the budgets that gate a load run.

  generate  turn -scenario's thresholds into objectives (http_req_failed
            rate<X: availability; http_req_duration p(N)<B: latency, at the
            histogram's bucket edge at or below B), and write their
            recording rules and multi-window, multi-burn-rate alerts (SRE
            workbook: page at 14.4x over 1h and 5m or 6x over 6h and 30m,
            ticket at 3x over 1d and 2h or 1x over 3d and 6h), with the
            saturation, readiness and watchdog alerts, to -o; the file's
            header lists the objectives and what was skipped or rounded
  check     exit 1 when -o differs from what generate would write, or when
            -runbook lacks a section for an alert (or has one of an alert
            that is gone)`
	return command{fs: fs, help: "write the Prometheus alerting rules from a scenario's budgets, or check them", usage: usage, run: o.run}
}

func (o *alertsOptions) run(_ context.Context, out io.Writer) error {
	sub, err := subcommand(o.fs, "generate", "check")
	if err != nil {
		return err
	}
	if sub != "generate" && sub != "check" {
		return fmt.Errorf("%w: unknown alerts subcommand %q: want generate or check", errUsage, sub)
	}
	f, err := scenarios.Load(o.scenario)
	if err != nil {
		return fmt.Errorf("%w: %w", errUsage, err)
	}
	r, err := alerts.Generate(f, alerts.RunbookURL(o.runbookURL))
	if errors.Is(err, alerts.ErrNoObjective) {
		return fmt.Errorf("%w: %w", errUsage, err)
	}
	if err != nil {
		return err
	}
	if sub == "check" {
		return o.check(out, r)
	}
	data, err := r.Encode()
	if err != nil {
		return err
	}
	if o.outFile == "-" {
		_, err := out.Write(data)
		return err
	}
	if err := os.MkdirAll(filepath.Dir(o.outFile), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(o.outFile, data, 0o644); err != nil {
		return err
	}
	recording, alerting := r.Count()
	fmt.Fprintf(out, "harness: wrote %d alerts (%d alerting rules, %d recording rules) from the %s scenario's budgets into %s\n",
		len(r.Alerts()), alerting, recording, f.Name, o.outFile)
	for _, obj := range r.Objectives {
		fmt.Fprintf(out, "  %-13s %s (%s)\n", obj.Name, obj.Statement(), obj.Threshold)
	}
	for _, n := range r.Notes {
		fmt.Fprintf(out, "  note: %s\n", n)
	}
	return nil
}

// check is `harness alerts check`: the rule file is what generate writes,
// and the runbook explains every alert.
func (o *alertsOptions) check(out io.Writer, r *alerts.Rules) error {
	file, err := os.ReadFile(o.outFile)
	if err != nil {
		return err
	}
	runbook, err := os.ReadFile(o.runbook)
	if err != nil {
		return err
	}
	stale, unexplained := r.Compare(file), r.CheckRunbook(runbook)
	if stale != nil {
		fmt.Fprintf(out, "harness: %s: %v (run harness alerts generate -scenario %s -o %s)\n", o.outFile, stale, o.scenario, o.outFile)
	}
	if unexplained != nil {
		fmt.Fprintf(out, "harness: %s: %v\n", o.runbook, unexplained)
	}
	if stale != nil || unexplained != nil {
		return &exitError{code: exitFail, msg: "alerts check failed"}
	}
	fmt.Fprintf(out, "harness: %s matches the generator, and %s explains its %d alerts\n", o.outFile, o.runbook, len(r.Alerts()))
	return nil
}
