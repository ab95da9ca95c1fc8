// Command harness brings up the task API with its stores, seeds it, breaks
// it on purpose, and checks it.
//
//	harness run       bring up an environment, run a scenario, write reports, gate
//	harness capacity  find the highest arrival rate that holds the budgets
//	harness compare   compare two runs, accounting for run-to-run noise
//	harness calibrate measure the comparison's noise on this machine, suggest -min-effect
//	harness report    render a report of a finished run: a PR comment, GitLab's load performance report
//	harness merge     merge the outputs of -segment workers and gate once
//	harness k6        export a scenario as a k6 script, import k6 results
//	harness k8s       render an indexed Job of N workers and a coordinator
//	harness check     verify the production checklist; readiness report
//	harness certs     make sure a directory holds a TLS certificate (the compose stack's first start)
//	harness backup    write a compressed, checksummed archive of the database
//	harness restore-drill  restore the newest archive into a scratch database, verify it, measure RPO and RTO
//	harness restore   restore an archive into an empty database and verify it (disaster recovery)
//	harness dashboards  generate, check or verify the Grafana dashboards
//	harness alerts    write the Prometheus alerting rules from a scenario's budgets
//	harness up        bring up an environment and hold it until Ctrl-C
//	harness down      remove what crashed runs left: containers, temporary directories
//	harness seed      bulk-insert deterministic users and tasks
//	harness fault     stop, start, pause, unpause or kill a component; put a link under a toxic
//	harness smoke     smoke-test the contract of a running API
//	harness validate  check scenario files
//	harness version   print the module version and VCS revision it was built from
//
// harness -h lists them, harness CMD -h shows one's usage and flags. A
// flag not given on the command line is read from HARNESS_<FLAG>
// (-seed-users from HARNESS_SEED_USERS), else it keeps its default.
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

// errUsage marks errors of the command line: exit 2, with a pointer to
// the command's help.
var errUsage = errors.New("usage")

// A command is one harness subcommand: its flags (whose set carries its
// name), one line of help, what it does once they are parsed, and, for
// commands with arguments or subcommands, the usage text its -h shows
// above the flags.
type command struct {
	fs    *flag.FlagSet
	help  string
	usage string
	run   func(ctx context.Context, out io.Writer) error
	// json is the command's -json flag, for commands that have one: run
	// gives it stderr, and a document for the error the command failed
	// with before it printed its own.
	json *jsonOutput
}

// printHelp writes c's help: its usage (or the one-line summary), then its
// flags.
func (c command) printHelp(w io.Writer) {
	if c.usage != "" {
		fmt.Fprintln(w, strings.TrimRight(c.usage, "\n"))
	} else {
		fmt.Fprintf(w, "usage: harness %s [flags]\n\n%s.\n", c.name(), strings.ToUpper(c.help[:1])+c.help[1:])
	}
	var flags strings.Builder
	c.fs.SetOutput(&flags)
	c.fs.PrintDefaults()
	c.fs.SetOutput(io.Discard)
	if flags.Len() > 0 {
		fmt.Fprintf(w, "\nflags:\n%s\n%s\n", flags.String(), envHelp(c.fs))
	}
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
		calibrateCmd(),
		reportCmd(),
		mergeCmd(),
		k6Cmd(),
		k8sCmd(),
		checkCmd(),
		certsCmd(),
		backupCmd(),
		restoreDrillCmd(),
		restoreCmd(),
		dashboardsCmd(),
		alertsCmd(),
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

// usage lists the commands: what `harness -h` prints.
func usage(w io.Writer, cmds []command) {
	fmt.Fprintln(w, "usage: harness <command> [flags]\n\ncommands:")
	for _, c := range cmds {
		fmt.Fprintf(w, "  %-13s %s\n", c.name(), c.help)
	}
	fmt.Fprintln(w, "  version       print the harness's version and build revision")
	fmt.Fprintln(w, "\n'harness <command> -h' lists a command's flags; a flag not given is read from\nthe environment as HARNESS_<FLAG> (-seed-users: HARNESS_SEED_USERS).\nexit codes: 0 success, 1 a check or the environment failed, 2 usage error,\n  99 a threshold crossed, 100 a regression, 101 an invalid run,\n  105 interrupted by the user (harness run -h)")
}

// find is the command called name, or an error that suggests the
// nearest one.
func find(cmds []command, name string) (command, error) {
	names := make([]string, len(cmds))
	for i, c := range cmds {
		if c.name() == name {
			return c, nil
		}
		names[i] = c.name()
	}
	return command{}, fmt.Errorf("unknown command %q%s", name, didYouMean(name, append(names, "version")))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cmds := commands()
	if len(args) == 0 {
		usage(stderr, cmds)
		return exitUsage
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		if len(args) == 1 {
			usage(stdout, cmds)
			return exitPass
		}
		c, err := find(cmds, args[1])
		if err != nil {
			fmt.Fprintf(stderr, "harness: %v\nrun 'harness -h' for the list of commands\n", err)
			return exitUsage
		}
		c.printHelp(stdout)
		return exitPass
	case "version", "-version", "--version":
		if len(args) > 1 && slices.Contains([]string{"-h", "-help", "--help"}, args[1]) {
			fmt.Fprintln(stdout, "usage: harness version\n\nPrint the harness's module version, build revision and Go release (also: harness --version).")
			return exitPass
		}
		fmt.Fprintf(stdout, "harness %s\n", versionText())
		return exitPass
	}
	cmd, err := find(cmds, args[0])
	if err != nil {
		fmt.Fprintf(stderr, "harness: %v\nrun 'harness -h' for the list of commands\n", err)
		return exitUsage
	}
	// Parsing is silent: -h prints the help to stdout, and a bad flag is
	// one line on stderr, not the flag package's usage dump.
	cmd.fs.SetOutput(io.Discard)
	cmd.fs.Usage = func() {}
	if err := cmd.fs.Parse(args[1:]); err != nil {
		err = fmt.Errorf("%w: %w", errUsage, err)
		return exitCode(ctx, stdout, stderr, cmd, err)
	}
	if err := applyEnv(cmd.fs, os.LookupEnv); err != nil {
		return exitCode(ctx, stdout, stderr, cmd, err)
	}
	if cmd.json != nil {
		cmd.json.stderr = stderr
	}
	return exitCode(ctx, stdout, stderr, cmd, cmd.run(ctx, stdout))
}

// exitCode turns what a command returned into its exit code, saying why
// on stderr (and the help on stdout, when that is what was asked for).
func exitCode(ctx context.Context, stdout, stderr io.Writer, cmd command, err error) int {
	code := exitCodeOf(ctx, stdout, stderr, cmd, err)
	if err != nil && code != exitPass {
		cmd.json.fail(stdout, reason(err), code)
	}
	return code
}

func exitCodeOf(ctx context.Context, stdout, stderr io.Writer, cmd command, err error) int {
	name := cmd.name()
	var exit *exitError
	switch {
	case err == nil:
		return exitPass
	case errors.Is(err, flag.ErrHelp):
		cmd.printHelp(stdout)
		return exitPass
	case errors.As(err, &exit):
		return exit.code
	case ctx.Err() != nil:
		// Whatever failed, it failed because the user stopped it: say
		// so, with the code CI tells from a failure (k6's for an
		// external abort).
		fmt.Fprintf(stderr, "harness %s: interrupted (exit %d): %v\n", name, exitAborted, err)
		return exitAborted
	case errors.Is(err, scenario.ErrInvalid):
		// The file is wrong, not the command line: no pointer to the help.
		fmt.Fprintf(stderr, "harness %s: %v\n", name, err)
		return exitUsage
	case errors.Is(err, errUsage):
		fmt.Fprintf(stderr, "harness %s: %s\nrun 'harness %s -h' for its flags and arguments\n", name, reason(err), name)
		return exitUsage
	default:
		fmt.Fprintf(stderr, "harness %s: %v\n", name, err)
		return exitFail
	}
}

// reason is err's message for the user: errUsage's own word adds nothing
// to the line that says what is wrong.
func reason(err error) string {
	return strings.TrimPrefix(err.Error(), errUsage.Error()+": ")
}
