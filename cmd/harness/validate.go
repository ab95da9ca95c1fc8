package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/taskready/taskready/loadtest/executor"
	"github.com/taskready/taskready/loadtest/memory"
	"github.com/taskready/taskready/loadtest/scenario"
)

// validateOptions are the arguments of harness validate: scenario files.
type validateOptions struct {
	fs   *flag.FlagSet
	json jsonOutput
}

func validateCmd() command {
	fs := flag.NewFlagSet("validate", flag.ContinueOnError)
	usage := `usage: harness validate [-json] FILE.yaml...

Every problem is printed as file:line: field: message, exit 2 if any. With
-json, stdout holds one document, {"valid", "files", "errors"}, whatever
the outcome.`
	o := &validateOptions{fs: fs}
	o.json.register(fs)
	return command{fs: fs, help: "check scenario files; every problem as file:line: field: message", usage: usage, run: o.run, json: &o.json}
}

func (o *validateOptions) run(_ context.Context, out io.Writer) error {
	if o.fs.NArg() == 0 {
		return fmt.Errorf("%w: name at least one scenario file", errUsage)
	}
	v := scenario.NewValidation()
	var bad []error
	for _, path := range o.fs.Args() {
		f, err := scenario.Load(path)
		if err == nil {
			err = fitsMemory(f)
		}
		v.Add(path, f, err)
		if err != nil {
			bad = append(bad, err)
			continue
		}
		if !o.json.on {
			faults := ""
			if len(f.Faults) > 0 {
				faults = fmt.Sprintf(", %d fault(s)", len(f.Faults))
			}
			fmt.Fprintf(out, "%s: ok (%d scenario(s), %d journey(s), %d threshold(s)%s)\n", path, len(f.Scenarios), len(f.Journeys), len(f.Thresholds), faults)
		}
	}
	if o.json.on {
		if err := o.json.write(out, v); err != nil {
			return err
		}
	}
	if len(bad) > 0 {
		return errors.Join(bad...)
	}
	return nil
}

// fitsMemory refuses a file whose VUs this machine's memory cannot hold
// (executor.CheckMemory); where the available memory is unknown it checks
// nothing.
func fitsMemory(f *scenario.File) error {
	avail, err := memory.Read()
	if err != nil {
		return nil
	}
	return executor.CheckMemory(f, avail)
}
