// Command harness brings up the task API with its stores and checks it.
//
//	harness run     start the embedded environment and smoke-test the contract
//	harness smoke   smoke-test the contract of a running API (--target URL)
//
// Exit codes: 0 every check passed, 1 a check failed or the environment
// could not start, 2 a usage error.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/taskready/taskready/checks/contract"
	"github.com/taskready/taskready/loadtest/env"
)

// Exit codes.
const (
	exitPass  = 0
	exitFail  = 1
	exitUsage = 2
)

// errUsage marks errors that should print the usage and exit 2.
var errUsage = errors.New("usage")

type command struct {
	fs   *flag.FlagSet
	help string
	run  func(ctx context.Context, stdout io.Writer) error
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	commands := map[string]command{
		"run":   runCmd(),
		"smoke": smokeCmd(),
	}
	usage := func() {
		fmt.Fprintln(stderr, "usage: harness <command> [flags]\n\ncommands:")
		for _, name := range []string{"run", "smoke"} {
			fmt.Fprintf(stderr, "  %-7s %s\n", name, commands[name].help)
		}
		fmt.Fprintln(stderr, "\nexit codes: 0 pass, 1 a check failed or the environment failed, 2 usage error")
	}
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage()
		return exitUsage
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "harness: unknown command %q\n", args[0])
		usage()
		return exitUsage
	}
	cmd.fs.SetOutput(stderr)
	if err := cmd.fs.Parse(args[1:]); err != nil {
		return exitUsage
	}
	err := cmd.run(ctx, stdout)
	switch {
	case err == nil:
		return exitPass
	case errors.Is(err, errUsage):
		fmt.Fprintf(stderr, "harness %s: %v\n", args[0], err)
		cmd.fs.Usage()
		return exitUsage
	default:
		fmt.Fprintf(stderr, "harness %s: %v\n", args[0], err)
		return exitFail
	}
}

var errChecksFailed = errors.New("the contract smoke failed (see above)")

func runCmd() command {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	apiBin := fs.String("api-bin", "bin/taskapi", "taskapi binary to start (make build)")
	instances := fs.Int("api-instances", 1, "API processes to start")
	dataDir := fs.String("data-dir", "", "directory for the embedded MongoDB files (default: a temporary one)")
	return command{fs: fs, help: "start the embedded environment and smoke-test the contract", run: func(ctx context.Context, stdout io.Writer) error {
		if *instances < 1 {
			return fmt.Errorf("%w: -api-instances must be at least 1", errUsage)
		}
		fmt.Fprintln(stdout, "harness: starting the embedded environment")
		e, err := env.Embedded(ctx, env.Options{
			APIBinary: *apiBin, Instances: *instances, DataDir: *dataDir,
			Progress: func(component string, took time.Duration) {
				fmt.Fprintf(stdout, "  %-40s ready in %s\n", component, took.Round(time.Millisecond))
			},
		})
		if err != nil {
			return err
		}
		defer e.Close()
		fmt.Fprintf(stdout, "harness: %s\n", e.Description)
		for _, a := range e.APIs {
			if err := smoke(ctx, stdout, a.URL()); err != nil {
				return err
			}
		}
		return nil
	}}
}

func smokeCmd() command {
	fs := flag.NewFlagSet("smoke", flag.ContinueOnError)
	target := fs.String("target", "", "base URL of a running task API, e.g. http://localhost:5000")
	return command{fs: fs, help: "smoke-test the contract of a running API (-target URL)", run: func(ctx context.Context, stdout io.Writer) error {
		if *target == "" {
			return fmt.Errorf("%w: -target is required", errUsage)
		}
		return smoke(ctx, stdout, *target)
	}}
}

func smoke(ctx context.Context, stdout io.Writer, target string) error {
	fmt.Fprintf(stdout, "harness: smoke-testing the contract against %s\n", target)
	report, err := contract.Run(ctx, target)
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if err := report.WriteText(stdout); err != nil {
		return err
	}
	if !report.Passed() {
		return errChecksFailed
	}
	return nil
}
