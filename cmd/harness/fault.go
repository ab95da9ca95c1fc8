package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/taskready/taskready/env"
	"github.com/taskready/taskready/env/link"
	"github.com/taskready/taskready/loadtest/scenario"
)

// faultOptions are the flags and arguments of harness fault.
type faultOptions struct {
	fs    *flag.FlagSet
	state string
}

func faultCmd() command {
	fs := flag.NewFlagSet("fault", flag.ContinueOnError)
	o := faultOptions{fs: fs}
	fs.StringVar(&o.state, "state", DefaultState, "endpoints file of a running \"harness up\"")
	usage := fmt.Sprintf(`usage: harness fault [-state FILE] <action> <name> [PARAM=VALUE...]

Act on a component or a link of an environment that harness up holds.

  %s <component>
      e.g. harness fault stop mongo-0
  latency <link> latency=D [jitter=D]
      delay each way by D, give or take the jitter
  bandwidth <link> rate=N
      at most N KB/s each way (1 KB = 1000 bytes)
  timeout <link> timeout=D
      pass nothing; close each connection after D of it (0s: hold it open)
  reset_peer|reset <link> [timeout=D]
      reset each connection once data crosses it (D later)
  slow_close <link> delay=D
      hold each close back for D
  slicer <link> size=N [variation=N] [delay=D]
      cut data into slices of N bytes, give or take the variation, delay apart
  limit_data <link> bytes=N
      close each connection once N bytes have passed one way
  down <link>
      refuse connections and close the open ones
  heal <link> [action]
      undo every fault on the link, or only that action's

The first parameter may be given bare: harness fault latency mongo 200ms.
A fault of an action already on the link replaces it. Components and
links are listed by harness up.
`, strings.Join(env.Actions, "|"))
	return command{fs: fs, usage: usage, help: "stop, kill or pause a component; slow down, stall, cut or take down a link", run: o.run}
}

func (o *faultOptions) run(ctx context.Context, out io.Writer) error {
	if o.fs.NArg() < 2 {
		return fmt.Errorf("%w: want an action and a name, e.g. harness fault stop mongo-0", errUsage)
	}
	action, name, args := o.fs.Arg(0), o.fs.Arg(1), o.fs.Args()[2:]
	if action == scenario.FaultReset {
		action = link.ResetPeer
	}
	var do func(control string) error
	what := action + " " + name
	switch {
	case slices.Contains(env.Actions, action):
		if len(args) > 0 {
			return fmt.Errorf("%w: %s takes a component and nothing more", errUsage, action)
		}
		do = func(control string) error { return env.Fault(ctx, control, name, action) }
	case action == "heal":
		if len(args) > 1 {
			return fmt.Errorf("%w: heal takes a link and at most one action, e.g. harness fault heal mongo latency", errUsage)
		}
		undo := ""
		if len(args) == 1 {
			if undo = args[0]; undo == scenario.FaultReset {
				undo = link.ResetPeer
			}
			what = "heal " + undo + " on link " + name
		}
		do = func(control string) error { return env.HealLink(ctx, control, name, undo) }
	case action == "jitter":
		return fmt.Errorf("%w: jitter is a parameter of latency: harness fault latency %s 200ms jitter=50ms", errUsage, name)
	default:
		values, err := linkParams(action, args)
		if err != nil {
			return fmt.Errorf("%w: %v", errUsage, err)
		}
		f, err := link.Parse(action, values)
		if err != nil {
			if !slices.Contains(link.Actions, action) {
				err = fmt.Errorf("unknown action %q%s", action, didYouMean(action, faultActions()))
			}
			return fmt.Errorf("%w: %v", errUsage, err)
		}
		if d := f.Detail(); d != "" {
			what = action + " " + d + " on link " + name
		} else {
			what = action + " link " + name
		}
		do = func(control string) error { return env.DegradeLink(ctx, control, name, action, values) }
	}
	ep, err := readState(o.state)
	if err != nil {
		return err
	}
	if err := do(ep.Control); err != nil {
		return err
	}
	fmt.Fprintf(out, "harness: %s: done\n", what)
	return nil
}

// linkParams reads a link action's PARAM=VALUE arguments; a bare first
// one is the action's first parameter.
func linkParams(action string, args []string) (map[string]string, error) {
	ps := link.Params(action)
	values := map[string]string{}
	for i, a := range args {
		k, v, ok := strings.Cut(a, "=")
		switch {
		case !ok && len(ps) == 0 && slices.Contains(link.Actions, action):
			return nil, fmt.Errorf("%s takes a link and nothing more", action)
		case !ok && i > 0 && len(ps) > 0:
			return nil, fmt.Errorf("%q: want PARAM=VALUE, e.g. %s=...", a, ps[min(i, len(ps)-1)].Name)
		case !ok && len(ps) > 0:
			k, v = ps[0].Name, a
		}
		if _, dup := values[k]; dup {
			return nil, fmt.Errorf("%s given twice", k)
		}
		values[k] = v
	}
	return values, nil
}

// faultActions are every action harness fault takes.
func faultActions() []string {
	return slices.Concat(env.Actions, link.Actions, []string{scenario.FaultReset, "heal"})
}
