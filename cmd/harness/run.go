package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/taskready/taskready/checks/contract"
)

var errChecksFailed = errors.New("the contract smoke failed (see above)")

func runCmd() command {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	var ef envFlags
	ef.register(fs, 2)
	return command{fs: fs, help: "bring up an environment and smoke-test the contract", run: func(ctx context.Context, out io.Writer) error {
		e, err := ef.up(ctx, out)
		if err != nil {
			return err
		}
		defer e.Close()
		return smoke(ctx, out, e.Target)
	}}
}

func smokeCmd() command {
	fs := flag.NewFlagSet("smoke", flag.ContinueOnError)
	target := fs.String("target", "", "base URL of a running task API, e.g. http://localhost:5000")
	return command{fs: fs, help: "smoke-test the contract of a running API (-target URL)", run: func(ctx context.Context, out io.Writer) error {
		if *target == "" {
			return fmt.Errorf("%w: -target is required", errUsage)
		}
		return smoke(ctx, out, *target)
	}}
}

func smoke(ctx context.Context, out io.Writer, target string) error {
	fmt.Fprintf(out, "harness: smoke-testing the contract against %s\n", target)
	report, err := contract.Run(ctx, target)
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if err := report.WriteText(out); err != nil {
		return err
	}
	if !report.Passed() {
		return errChecksFailed
	}
	return nil
}
