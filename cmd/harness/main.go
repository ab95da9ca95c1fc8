// Command harness brings up the task API with its stores, seeds it, breaks
// it on purpose, and checks it.
//
//	harness run       bring up an environment, run a scenario, write reports, gate
//	harness capacity  find the highest arrival rate that holds the budgets
//	harness compare   compare two runs, accounting for run-to-run noise
//	harness merge     merge the outputs of -segment workers and gate once
//	harness k6        export a scenario as a k6 script, import k6 results
//	harness k8s       render an indexed Job of N workers and a coordinator
//	harness check     verify the production checklist; readiness report
//	harness backup    write a compressed, checksummed archive of the database
//	harness restore-drill  restore the newest archive into a scratch database and compare
//	harness dashboards  generate, check or verify the Grafana dashboards
//	harness up        bring up an environment and hold it until Ctrl-C
//	harness down      remove what crashed runs left: containers, temporary directories
//	harness seed      bulk-insert deterministic users and tasks
//	harness fault     stop, start, pause, unpause or kill a component
//	harness smoke     smoke-test the contract of a running API
//	harness validate  check scenario files
//
// Exit codes: 0 success, 1 a check failed or the environment failed, 2 a
// usage or scenario error, 105 interrupted (Ctrl-C, SIGTERM); a load run
// also exits 99 when a threshold was crossed, 100 on a regression against
// its baseline and 101 when the run was invalid (see harness run -h).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"

	tclog "github.com/testcontainers/testcontainers-go/log"

	"github.com/taskready/taskready/loadtest/scenario"
	"github.com/taskready/taskready/loadtest/summary"
)

// Exit codes, from the one table of them in package summary.
const (
	exitPass    = summary.ExitPass
	exitFail    = summary.ExitError
	exitUsage   = summary.ExitUsage
	exitAborted = summary.ExitAborted
)

// errUsage marks errors that should print the usage and exit 2.
var errUsage = errors.New("usage")

// A command is one harness subcommand: its flags (whose set carries its
// name), one line of help, and what it does once they are parsed.
type command struct {
	fs   *flag.FlagSet
	help string
	run  func(ctx context.Context, out io.Writer) error
}

// name is what the user types: harness NAME.
func (c command) name() string { return c.fs.Name() }

// subcommand returns the subcommand fs was given (the first argument,
// one of names) and parses the flags that follow it, since flags may come
// after the subcommand as well as before.
func subcommand(fs *flag.FlagSet, names ...string) (string, error) {
	args := fs.Args()
	if len(args) == 0 {
		return "", fmt.Errorf("%w: want %s or %s", errUsage, strings.Join(names[:len(names)-1], ", "), names[len(names)-1])
	}
	if err := fs.Parse(args[1:]); err != nil {
		return "", fmt.Errorf("%w: %w", errUsage, err)
	}
	return args[0], nil
}

// commands lists every subcommand, in the order the usage shows them.
func commands() []command {
	return []command{
		runCmd(),
		capacityCmd(),
		compareCmd(),
		mergeCmd(),
		k6Cmd(),
		k8sCmd(),
		checkCmd(),
		backupCmd(),
		restoreDrillCmd(),
		dashboardsCmd(),
		upCmd(),
		downCmd(),
		seedCmd(),
		faultCmd(),
		smokeCmd(),
		validateCmd(),
	}
}

func main() {
	// testcontainers announces every engine connection on stderr; the
	// harness says what it does itself.
	tclog.SetDefault(tclog.NewNoopLogger())
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cmds := commands()
	usage := func() {
		fmt.Fprintln(stderr, "usage: harness <command> [flags]\n\ncommands:")
		for _, c := range cmds {
			fmt.Fprintf(stderr, "  %-13s %s\n", c.name(), c.help)
		}
		fmt.Fprintln(stderr, "\n'harness <command> -h' lists a command's flags.\nexit codes: 0 success, 1 a check or the environment failed, 2 usage error,\n  99 a threshold crossed, 100 a regression, 101 an invalid run,\n  105 interrupted by the user (harness run -h)")
	}
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage()
		return exitUsage
	}
	i := slices.IndexFunc(cmds, func(c command) bool { return c.name() == args[0] })
	if i < 0 {
		fmt.Fprintf(stderr, "harness: unknown command %q\n", args[0])
		usage()
		return exitUsage
	}
	cmd := cmds[i]
	cmd.fs.SetOutput(stderr)
	if err := cmd.fs.Parse(args[1:]); err != nil {
		return exitUsage
	}
	err := cmd.run(ctx, stdout)
	var exit *exitError
	switch {
	case err == nil:
		return exitPass
	case errors.As(err, &exit):
		return exit.code
	case ctx.Err() != nil:
		// Whatever failed, it failed because the user stopped it: say
		// so, with the code CI tells from a failure (k6's for an
		// external abort).
		fmt.Fprintf(stderr, "harness %s: interrupted (exit %d): %v\n", args[0], exitAborted, err)
		return exitAborted
	case errors.Is(err, scenario.ErrInvalid):
		// The file is wrong, not the command line: no usage text.
		fmt.Fprintf(stderr, "harness %s: %v\n", args[0], err)
		return exitUsage
	case errors.Is(err, errUsage):
		fmt.Fprintf(stderr, "harness %s: %v\n", args[0], err)
		cmd.fs.Usage()
		return exitUsage
	default:
		fmt.Fprintf(stderr, "harness %s: %v\n", args[0], err)
		return exitFail
	}
}
