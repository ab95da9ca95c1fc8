// Command benchengine measures the load engine beside wrk, bombardier,
// vegeta and k6 against a private nginx on loopback, quiet and then under
// a crowding it makes itself (see package bench); `make bench-engine`
// runs it. It is configured by environment variables:
//
//	BENCH_VUS            connections/VUs of every tool (64)
//	BENCH_DURATION       one closed-model turn (10s)
//	BENCH_ROUNDS         closed-model rounds; the median is reported (3)
//	BENCH_OPEN_DURATION  one open-model turn (10s)
//	BENCH_RATES          open-model rates per second (1000,5000,12000)
//	BENCH_BIAS_RATE      the rate of the dispatch bias (1000)
//	BENCH_MAX_VUS        the open model's most VUs (1000)
//	BENCH_CROWDED        0 to measure the quiet machine only (1)
//	BENCH_PIN            1 to run nginx on one CPU and every tool on the others,
//	                     through taskset (0: they share every CPU)
//	BENCH_WRK_THREADS    wrk's -t (one per CPU the tools have)
//	BENCH_NGINX          the nginx executable (found on PATH or in /usr/sbin)
//	GO                   the go command that builds vegeta and bombardier (go)
//
// The tables go to standard output, progress to standard error. Exit
// codes: 0 when everything was measured, whether or not the goals were
// met; 1 when the rig failed; 2 on a bad setting.
//
// The executable also serves as its own children: `benchengine
// engine-turn ...` runs one turn of the engine and `benchengine hog ...`
// one process of the crowding.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/taskready/taskready/loadtest/bench"
)

func main() {
	// SIGHUP (the terminal closed) and SIGPIPE (the reader of the output
	// went away, as with `| head`) stop the run like Ctrl-C, so that it
	// still stops nginx and the hogs and removes its files: unhandled,
	// either kills the process where it stands.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGPIPE)
	defer stop()
	os.Exit(run(ctx, os.Args[1:]))
}

func run(ctx context.Context, args []string) int {
	if len(args) > 0 {
		var err error
		switch args[0] {
		case bench.ChildEngine:
			err = bench.EngineChild(ctx, args[1:], os.Stdout)
		case bench.ChildHog:
			err = bench.HogChild(ctx, args[1:])
		default:
			fmt.Fprintf(os.Stderr, "benchengine: unknown argument %q: it takes none (settings are environment variables; see go doc ./cmd/benchengine)\n", args[0])
			return 2
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		return 0
	}
	cfg, err := bench.FromEnv(os.Getenv)
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchengine:", err)
		return 2
	}
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchengine: find my own executable:", err)
		return 1
	}
	if err := bench.Run(ctx, cfg, self, os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, context.Canceled) || ctx.Err() != nil {
			fmt.Fprintln(os.Stderr, "benchengine: interrupted; every process it started is stopped")
			return 1
		}
		fmt.Fprintln(os.Stderr, "benchengine:", err)
		return 1
	}
	return 0
}
